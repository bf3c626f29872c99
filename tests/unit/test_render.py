"""The render room: the policy in Markdown, HTML and JSON, and the record of processing."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from enum import StrEnum

import pytest
from bs4 import BeautifulSoup, Tag

import pledge
from pledge import render
from pledge.declaration import Declaration
from pledge.declaration.model import (
    CookieCategory,
    DisclosureGround,
    LegalBasis,
    NoticeChannel,
    RecipientRole,
    Requirement,
    Right,
    Safeguard,
    Source,
)
from pledge.errors import UsageError
from pledge.render import SECTION_ORDER, policy_schema, render_policy, render_ropa, wording
from pledge.render.ropa import COLUMNS
from pledge.render.schema import PolicyDocument

FULL = """\
pledge: 1
controller:
  name: Cloudwarm
  legal_name: Cloudwarm GmbH
  country: DE
  address: Heizweg 1, 10115 Berlin
  email: privacy@cloudwarm.example
  phone: "+49 30 1234567"
  hours: Monday to Friday, 9:00 to 17:00
  website: https://cloudwarm.example
  dpo: {name: Dana Schmidt, email: dpo@cloudwarm.example}
  eu_representative: {name: Rep Office, address: "1 Rue de Paris, Paris"}
  supervisory_authority:
    name: Berliner Beauftragte für Datenschutz
    country: DE
    url: https://www.datenschutz-berlin.de
policy:
  version: "2.1"
  effective_date: 2025-03-01
  published_date: 2025-02-01
  url: https://cloudwarm.example/privacy
  languages: [en, de]
  notice_period: P30D
  change_notice: [email, notice]
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact.email, identity.name]
    retention: P30D after account_closed
  analytics:
    legal_basis: consent
    categories: [usage.pages, device.ip_address]
    retention: P13M
  security:
    legal_basis: legitimate_interests
    legitimate_interest: Keeping accounts safe from attack.
    categories: [device.ip_address]
    retention: {period: P7D, reason: Older logs are not needed to investigate attacks.}
  scoring:
    label: Credit check
    description: Decide whether you can pay by invoice.
    legal_basis: contract
    categories: [financial.payment_card]
    retention: P1Y
    automated_decision:
      logic: We compare your order with your payment history.
      significance: You may be asked to pay in advance.
      safeguards: [You can ask a person to review the decision.]
collection:
  signup:
    label: Sign-up form
    source: direct
    subjects: [users]
    requirement: contract_entry
    consequence: We cannot create your account.
    fields:
      email: {category: contact.email, required: true, purposes: [provide_service]}
      name: {category: identity.name}
  telemetry:
    source: observed
    subjects: [users, website_visitors]
    fields:
      pages: {category: usage.pages, purposes: [analytics]}
      ip: {category: device.ip_address}
  google:
    label: Sign in with Google
    source: third_party
    origin: Google Ireland
    subjects: [users]
    fields:
      profile: {category: account.social_profile, purposes: [provide_service]}
recipients:
  hetzner:
    name: Hetzner Online GmbH
    role: processor
    country: DE
    purposes: [provide_service, analytics]
    obligations: Bound by a data processing agreement.
  mailer:
    name: Mailchimp
    role: processor
    country: US
    purposes: [provide_service]
    safeguard: standard_contractual_clauses
    safeguard_details: Ask us for a copy.
    privacy_policy: https://mailchimp.com/legal/privacy/
disclosures:
  court_order: {notice: true}
  merger_or_acquisition: {description: The buyer will be bound by this policy.}
cookies:
  session:
    provider: Cloudwarm
    category: strictly_necessary
    purpose: provide_service
    duration: session
  _ga*:
    provider: Google
    category: analytics
    purpose: analytics
    duration: P2Y
    third_party: true
rights:
  offered: [access, rectification, erasure, portability, objection, withdraw_consent]
  channels:
    email: requests@cloudwarm.example
    url: https://cloudwarm.example/privacy-center
  response_time: P1M
children:
  minimum_age: 16
  parental_consent: true
  consent_ages: {AT: 15}
  on_discovery: We delete the child's data.
storage:
  - {country: DE, region: Falkenstein, recipient: hetzner}
security:
  measures:
    encryption_at_rest: null
    tls: All traffic is encrypted with TLS 1.3.
  breach:
    channels: [email]
    notify_authority: true
"""

MINIMAL = """\
pledge: 1
controller:
  name: Tiny Tools
  country: FR
policy:
  version: "1"
  effective_date: 2025-01-01
purposes:
  support:
    label: Customer support
    categories: [contact.email]
"""

SELLING = """\
pledge: 1
controller: {name: Adco, country: US}
policy: {version: "3", effective_date: 2025-06-01, languages: [de]}
purposes:
  sale_of_data:
    legal_basis: consent
    categories: [contact.email]
    retention: P1Y
  targeted_advertising:
    legal_basis: consent
    categories: [usage]
    retention: P90D
collection:
  form:
    source: direct
    fields:
      email: {category: contact.email, required: true}
recipients:
  broker: {name: Data Broker Inc, role: third_party, country: US, purposes: [sale_of_data]}
rights: {offered: [opt_out_of_sale]}
"""


@pytest.fixture(scope="module")
def full() -> Declaration:
    """The complete declaration."""
    return pledge.loads(FULL)


@pytest.fixture(scope="module")
def minimal() -> Declaration:
    """A declaration that says almost nothing."""
    return pledge.loads(MINIMAL)


def section_ids(declaration: Declaration, previous: Declaration | None = None) -> list[str]:
    """The ids of the sections of the rendered policy, in order."""
    rendered = json.loads(render_policy(declaration, "json", previous=previous))
    return [section["id"] for section in rendered["sections"]]


def html_of(declaration: Declaration) -> BeautifulSoup:
    """The policy page, parsed."""
    return BeautifulSoup(render_policy(declaration, "html"), "html.parser")


# --- structure -----------------------------------------------------------------------------------


def test_a_full_declaration_renders_every_section_in_the_fixed_order(full: Declaration) -> None:
    """Every section except "What changed" appears, in SECTION_ORDER."""
    assert section_ids(full) == [id_ for id_ in SECTION_ORDER if id_ != "what-changed"]


@pytest.mark.parametrize("text", [MINIMAL, SELLING])
def test_sections_of_sparse_declarations_keep_the_fixed_order(text: str) -> None:
    """Leaving sections out never reorders the others."""
    ids = section_ids(pledge.loads(text))
    assert ids == [id_ for id_ in SECTION_ORDER if id_ in ids]


def test_markdown_lists_the_same_sections_as_the_json(full: Declaration) -> None:
    """Markdown and JSON come from one document, so their sections match."""
    anchors = re.findall(r'^<a id="([^"]+)"></a>\n\n## ', render_policy(full), re.M)
    assert anchors == section_ids(full)


# --- content: what is declared appears -----------------------------------------------------------

DECLARED = {
    "controller identity": "Cloudwarm (Cloudwarm GmbH) is responsible",
    "controller address": "Heizweg 1, 10115 Berlin",
    "controller e-mail": "mailto:privacy@cloudwarm.example",
    "telephone hours": "(Monday to Friday, 9:00 to 17:00)",
    "DPO": "our data protection officer, Dana Schmidt, by e-mail",
    "EU representative": "our representative in the European Union, Rep Office, by post",
    "purpose label": "### Credit check",
    "legal basis": "We rely on your consent (GDPR Art. 6(1)(a))",
    "legitimate interest": "**Our legitimate interest:** Keeping accounts safe from attack.",
    "retention": "30 days after your account is closed",
    "retention reason": "Older logs are not needed to investigate attacks.",
    "source": "We collect this data by observing how you use our service.",
    "third-party origin": "We receive this data from Google Ireland.",
    "subjects": "It is data about users and website visitors.",
    "requirement": "We need the required fields to enter into a contract with you.",
    "consequence": "If you do not provide the required fields: We cannot create your account.",
    "optional field": "| Name | Identity | Optional | Provide the service |",
    "recipient": "**Hetzner Online GmbH:** Located in Germany.",
    "recipient obligations": "Bound by a data processing agreement.",
    "exceptional disclosure told": "orders us to. We will tell you when this happens.",
    "transfer safeguard": "Mailchimp, in the United States: protected by standard contractual",
    "storage": "Germany (Falkenstein), hosted by Hetzner Online GmbH",
    "cookie": "| Names starting with “\\_ga” | Google | Analytics | Analytics | 2 years | Third",
    "cookie consent": "not strictly necessary only with your consent",
    "no sale": "We do not sell your personal information",
    "automated logic": "We compare your order with your payment history.",
    "automated safeguard": "You can ask a person to review the decision.",
    "right": "**Take your data elsewhere:**",
    "channel": "Online: [https://cloudwarm.example/privacy-center]",
    "response time": "We answer your request within 1 month.",
    "complaint authority": "Our lead supervisory authority is [Berliner Beauftragte",
    "minimum age": "at least 16 years old",
    "consent age override": "| Austria | 15 |",
    "on discovery": "without the consent required: We delete the child's data.",
    "security measure": "- Encryption at rest",
    "breach notice": "we will tell you without undue delay by e-mail.",
    "version and date": "This is version 2.1 of our privacy policy. It takes effect on 1 March",
    "notice period": "by e-mail and with a prominent notice on our service at least 30 days",
    "notice at collection": "| IP address | Analytics, Security | No |",
}


@pytest.mark.parametrize("element", DECLARED)
def test_each_declared_element_appears_in_the_policy(full: Declaration, element: str) -> None:
    """Every Art. 13/14 and CCPA element the declaration states is in the text."""
    assert DECLARED[element] in render_policy(full)


# --- content: nothing is invented ----------------------------------------------------------------


@pytest.mark.parametrize(
    "invented",
    [
        "data protection officer",
        "representative in the European Union",
        "Cookies",
        "## Children",
        "## Security",
        "We will tell you when this happens",
        "hosted by",
        "We answer your request within",
        "lead supervisory authority",
        "Withdraw your consent",
    ],
)
def test_nothing_is_invented_when_the_declaration_is_silent(
    minimal: Declaration, invented: str
) -> None:
    """A sentence about something undeclared does not appear."""
    assert invented not in render_policy(minimal)


def test_missing_legal_basis_and_retention_render_as_not_stated(minimal: Declaration) -> None:
    """Where the law requires a statement and the declaration has none, it says so."""
    text = render_policy(minimal)
    assert "- **Legal basis:** not stated" in text
    assert "- **How long we keep it:** not stated" in text


def test_complaint_right_is_stated_even_when_not_listed(minimal: Declaration) -> None:
    """GDPR Art. 13(2)(d) gives the right to complain whatever the declaration lists."""
    assert "**Complain to a supervisory authority:**" in render_policy(minimal)


def test_without_automated_decisions_the_policy_says_there_are_none(minimal: Declaration) -> None:
    """Art. 13(2)(f) is answered even when no purpose decides automatically."""
    assert "We do not make decisions about you based solely on automated" in render_policy(minimal)


def test_selling_and_targeted_advertising_are_said_plainly() -> None:
    """A purpose that sells or targets advertising is named, and the notice says "Yes"."""
    text = render_policy(pledge.loads(SELLING))
    assert "We sell or share personal information for these purposes: Sale of data." in text
    assert "We sell or share it with: Data Broker Inc." in text
    assert "advertising chosen from your activity or profile, for: Targeted advertising." in text
    assert "| Email address | Sale of data | Yes | 1 year after it is collected |" in text


def test_every_vocabulary_value_has_its_wording() -> None:
    """No enumeration value of the declaration renders as a bare key."""
    tables: list[tuple[type[StrEnum], dict[StrEnum, str]]] = [
        (LegalBasis, dict(wording.LEGAL_BASIS_EXPLANATIONS)),
        (LegalBasis, dict(wording.LEGAL_BASIS_LABELS)),
        (Source, dict(wording.SOURCE_SENTENCES)),
        (Requirement, dict(wording.REQUIREMENT_SENTENCES)),
        (RecipientRole, dict(wording.ROLE_TITLES)),
        (DisclosureGround, dict(wording.DISCLOSURE_GROUNDS)),
        (Safeguard, dict(wording.SAFEGUARDS)),
        (CookieCategory, dict(wording.COOKIE_CATEGORIES)),
        (NoticeChannel, dict(wording.NOTICE_CHANNELS)),
        (Right, dict(wording.RIGHT_EXPLANATIONS)),
        (Right, dict(wording.RIGHT_LABELS)),
    ]
    for enum, table in tables:
        assert set(table) == set(enum), enum.__name__


# --- HTML ----------------------------------------------------------------------------------------


def test_html_has_exactly_one_h1_with_version_and_date_at_the_top(full: Declaration) -> None:
    """One h1; the version and effective date come right after it."""
    page = html_of(full)
    assert len(page.find_all("h1")) == 1
    header = page.find("header")
    assert isinstance(header, Tag)
    assert "2.1" in header.get_text() and "1 March 2025" in header.get_text()


def test_html_lang_is_the_language_of_the_wording_not_of_the_declared_list() -> None:
    """The text is English, so lang is en even when the policy lists another language first."""
    assert html_of(pledge.loads(FULL)).html["lang"] == "en"  # type: ignore[index]
    assert html_of(pledge.loads(SELLING)).html["lang"] == "en"  # type: ignore[index]


def test_html_headings_never_skip_a_level(full: Declaration) -> None:
    """Headings go down one level at a time (h1, h2, h3)."""
    levels = [int(tag.name[1]) for tag in html_of(full).find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))


def test_html_table_of_contents_links_resolve_to_ids(full: Declaration) -> None:
    """Every TOC link, the skip link and every in-page link points at an existing id."""
    page = html_of(full)
    ids = {tag["id"] for tag in page.find_all(id=True)}
    toc = page.select("nav a[href]")
    assert len(toc) == len(section_ids(full))
    hrefs = [str(a["href"]) for a in page.find_all("a", href=True)]
    internal = [href for href in hrefs if href.startswith("#")]
    assert {href[1:] for href in internal} <= ids
    assert page.select_one("a.skip-link[href='#main']") is not None


def test_html_ids_are_unique(full: Declaration) -> None:
    """No two elements share an id."""
    ids = [tag["id"] for tag in html_of(full).find_all(id=True)]
    assert len(ids) == len(set(ids))


def test_html_every_table_header_has_a_scope(full: Declaration) -> None:
    """Column headers have scope=col, row headers scope=row; every table has a caption."""
    page = html_of(full)
    assert page.find_all("table")
    for header in page.find_all("th"):
        assert header.get("scope") in {"col", "row"}
    for table in page.find_all("table"):
        assert table.find("caption") is not None


def test_html_loads_no_external_resources(full: Declaration) -> None:
    """No scripts, stylesheets or images; links go only to declared addresses."""
    page = html_of(full)
    assert not page.find_all(["script", "link", "img", "iframe", "object", "embed"])
    assert not page.find_all(src=True)
    declared = set(re.findall(r"https?://[^\s,}\]]+", FULL))
    for anchor in page.find_all("a", href=True):
        href = str(anchor["href"])
        if href.startswith("http"):
            assert href in declared
        else:
            assert href.startswith(("#", "mailto:", "tel:"))


def test_html_is_printable_and_responsive(full: Declaration) -> None:
    """The inline stylesheet has print rules and the page a mobile viewport."""
    page = html_of(full)
    style = page.find("style")
    assert style is not None and "@media print" in style.get_text()
    assert page.find("meta", attrs={"name": "viewport"}) is not None


def test_html_escapes_text_from_the_declaration() -> None:
    """Markup in the declaration is shown as text, never run."""
    hostile = MINIMAL.replace("Tiny Tools", '"<script>alert(1)</script>"')
    page = render_policy(pledge.loads(hostile), "html")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


# --- determinism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_rendering_twice_gives_the_same_bytes(fmt: render.PolicyFormat) -> None:
    """Same declaration, loaded twice, renders to byte-identical output."""
    first = render_policy(pledge.loads(FULL), fmt).encode()
    assert render_policy(pledge.loads(FULL), fmt).encode() == first


def test_record_of_processing_is_deterministic() -> None:
    """The ROPA renders to the same bytes every time."""
    assert render_ropa(pledge.loads(FULL)) == render_ropa(pledge.loads(FULL))


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [FULL, MINIMAL, SELLING])
def test_json_output_validates_against_the_policy_schema(text: str) -> None:
    """The JSON round-trips through the model the schema is derived from, keys and all."""
    output = render_policy(pledge.loads(text), "json")
    document = PolicyDocument.model_validate_json(output)
    assert json.loads(document.model_dump_json()) == json.loads(output)
    schema = policy_schema()
    assert set(json.loads(output)) == set(schema["properties"])
    assert set(schema["required"]) <= set(json.loads(output))


def test_policy_schema_is_published_json_schema() -> None:
    """The schema names its dialect and is plain JSON."""
    schema = policy_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json.loads(json.dumps(schema)) == schema


def test_json_carries_the_structured_facts(full: Declaration) -> None:
    """Purposes with basis and retention, transfers, cookies and the notice at collection."""
    data = json.loads(render_policy(full, "json"))
    assert data["format"] == "pledge.policy" and data["format_version"] == 1
    security = next(p for p in data["purposes"] if p["key"] == "security")
    assert security["legal_basis"] == "legitimate_interests"
    assert security["retention"]["period"] == "P7D"
    assert [t["recipient"] for t in data["transfers"]] == ["mailer"]
    assert [c["name"] for c in data["cookies"]] == ["session", "_ga*"]
    assert data["sells_or_shares"] is False
    ip = next(
        r for r in data["notice_at_collection"] if r["category"]["key"] == "device.ip_address"
    )
    assert ip["purposes"] == ["analytics", "security"]


# --- what changed --------------------------------------------------------------------------------


def test_with_a_previous_version_what_changed_comes_right_after_the_intro(
    full: Declaration,
) -> None:
    """The first section lists the changes since the previous version."""
    pytest.importorskip("pledge.declaration.diff")
    previous = pledge.loads(FULL.replace('version: "2.1"', 'version: "2.0"').replace("P13M", "P6M"))
    assert section_ids(full, previous)[0] == "what-changed"
    text = render_policy(full, previous=previous)
    changed = text[text.index("## What changed") : text.index("## Who we are")]
    assert "since version 2.0" in changed
    assert "Important changes:" in changed
    data = json.loads(render_policy(full, "json", previous=previous))
    assert any(change["material"] for change in data["changes"])
    assert data["policy"]["previous_version"] == "2.0"


def test_an_unchanged_declaration_says_nothing_has_changed(full: Declaration) -> None:
    """Comparing a declaration with itself gives a one-line "What changed"."""
    pytest.importorskip("pledge.declaration.diff")
    assert "Nothing has changed since version 2.1." in render_policy(full, previous=full)


# --- record of processing ------------------------------------------------------------------------


def test_ropa_csv_has_the_expected_header_and_one_row_per_purpose(full: Declaration) -> None:
    """Header row = COLUMNS, then one row per purpose in declaration order."""
    rows = list(csv.reader(io.StringIO(render_ropa(full))))
    assert tuple(rows[0]) == COLUMNS
    purposes = [row[COLUMNS.index("Purpose")] for row in rows[1:]]
    assert purposes == [purpose.label for purpose in full.purposes.values()]


def test_ropa_csv_fills_the_art_30_fields(full: Declaration) -> None:
    """Subjects, recipients, transfers with safeguards, erasure limits and security are filled."""
    rows = {row["Purpose"]: row for row in csv.DictReader(io.StringIO(render_ropa(full)))}
    service = rows["Provide the service"]
    assert service["Data protection officer"] == "Dana Schmidt, dpo@cloudwarm.example"
    assert service["Categories of data subjects"] == "Users"
    assert "Mailchimp (processor, United States, third country)" in service["Recipients"]
    assert "standard contractual clauses" in service["Transfers to third countries and safeguards"]
    assert service["Erasure time limit"] == "30 days after account closed"
    assert "TLS 1.3" in service["Security measures"]
    assert rows["Analytics"]["Categories of data subjects"] == "Users; Website visitors"


def test_ropa_cells_stay_empty_where_nothing_is_declared(minimal: Declaration) -> None:
    """Undeclared fields are empty cells, not guesses."""
    (row,) = list(csv.DictReader(io.StringIO(render_ropa(minimal))))
    for column in ("Data protection officer", "Representative", "Legal basis", "Recipients"):
        assert row[column] == ""
    assert row["Erasure time limit"] == "" and row["Security measures"] == ""


def test_ropa_markdown_has_one_section_per_purpose(full: Declaration) -> None:
    """The Markdown record has the controller, then a section per purpose."""
    text = render_ropa(full, "markdown")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == ["Contents", "Controller", *(p.label for p in full.purposes.values())]


# --- the surface ---------------------------------------------------------------------------------


def test_unknown_formats_are_refused(minimal: Declaration) -> None:
    """A format that does not exist raises a UsageError."""
    with pytest.raises(UsageError):
        render_policy(minimal, "pdf")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        render_ropa(minimal, "xlsx")  # type: ignore[arg-type]


def test_the_render_room_exports_what_it_promises() -> None:
    """Everything in __all__ exists, including the three public functions."""
    assert {"render_policy", "render_ropa", "policy_schema"} <= set(render.__all__)
    for name in render.__all__:
        assert hasattr(render, name)

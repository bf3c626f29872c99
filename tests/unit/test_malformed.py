"""Malformed declarations: every mistake is reported exactly, as ``FILE:LINE:COL: error CODE``.

Most cases change one line of ``MINIMAL``, a valid declaration small enough to count its lines
by eye; the expected findings are written out in full, position, code and message.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import pledge
from pledge.declaration import load_data
from pledge.declaration.lint import lint
from pledge.declaration.source import ALIAS_LIMIT

MINIMAL = """\
pledge: 1
controller:
  name: Acme
  country: DE
policy:
  version: "1"
  effective_date: 2025-01-01
purposes:
  service:
    legal_basis: contract
"""


def changed(old: str, new: str, text: str = MINIMAL) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def extended(lines: str) -> str:
    """``MINIMAL`` with ``lines`` added at the end, from line 11."""
    return MINIMAL + lines


def case(sentence: str, text: str, *expected: str) -> object:
    """A malformed declaration and the findings it gives, in order."""
    return pytest.param(text, list(expected), id=sentence)


VAGUE = (
    " is not a retention period: say how long, as an ISO 8601 duration such as P2Y, optionally"
    " after an event (P30D after account_closed); GDPR Art. 13(2)(a) and CCPA 1798.100(a)(3)"
    " require the period or the criteria that fix it"
)
LEGAL_BASES = (
    "consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests"
)

CASES = [
    # --- YAML itself
    case(
        "a key indented deeper than its siblings is a syntax error",
        changed("  country", "   country"),
        "pledge.yaml:4:11: error E101: YAML syntax error: mapping values are not allowed in this"
        " context",
    ),
    case(
        "a key indented less than its siblings is a syntax error",
        changed("  country", " country"),
        "pledge.yaml:4:2: error E101: YAML syntax error: did not find expected key",
    ),
    case(
        "an unclosed quote is a syntax error where the quote opens",
        changed("legal_basis: contract", 'legal_basis: "contract'),
        "pledge.yaml:10:18: error E101: YAML syntax error: this quote is never closed",
    ),
    case(
        "an unclosed quote swallowing the lines up to the next quote is a syntax error there",
        changed("  name: Acme", '  name: "Acme'),
        "pledge.yaml:6:13: error E101: YAML syntax error: did not find expected key",
    ),
    case(
        "a tab indenting a key is a syntax error at the tab",
        changed("  name: Acme", "\tname: Acme"),
        "pledge.yaml:3:1: error E101: YAML syntax error: found character that cannot start any"
        " token; YAML indents with spaces, not tabs",
    ),
    case(
        "a control character is a syntax error at that character",
        changed("  name: Acme", "  name: Ac\x07me"),
        "pledge.yaml:3:11: error E101: YAML syntax error: control characters are not allowed"
        " (character #x0007)",
    ),
    case(
        "a duplicate key names the line of the first one",
        changed("  country: DE", "  country: DE\n  name: Acme GmbH"),
        "pledge.yaml:5:3: error E102: duplicate key 'name' (first defined at line 3)",
    ),
    case(
        "a duplicate section is reported at the second one",
        extended('policy:\n  version: "2"\n'),
        "pledge.yaml:11:1: error E102: duplicate key 'policy' (first defined at line 5)",
    ),
    case(
        "an empty file is an empty declaration",
        "",
        "pledge.yaml:1:1: error E105: the declaration is empty",
    ),
    case(
        "a file of comments only is an empty declaration",
        "# pledge: 1\n\n# nothing yet\n",
        "pledge.yaml:1:1: error E105: the declaration is empty",
    ),
    case(
        "a top-level list is not a declaration",
        "- pledge: 1\n- controller: {}\n",
        "pledge.yaml:1:1: error E104: expected a mapping of sections, got a list",
    ),
    case(
        "a lone word is not a declaration",
        "pledge\n",
        "pledge.yaml:1:1: error E104: expected a mapping of sections, got the text 'pledge'",
    ),
    case(
        "a second YAML document is refused where it starts",
        MINIMAL + "---\npledge: 1\n",
        "pledge.yaml:11:1: error E101: the declaration must be a single YAML document;"
        " found a second one",
    ),
    case(
        "a list used as a key is refused",
        extended("? [a, b]\n: c\n"),
        "pledge.yaml:11:3: error E104: a key must be a plain name, not a list or mapping",
    ),
    case(
        "a Python tag is refused instead of being run",
        changed("  name: Acme", "  name: !!python/object/apply:os.system [ls]"),
        "pledge.yaml:3:9: error E104: unsupported YAML tag"
        " 'tag:yaml.org,2002:python/object/apply:os.system'; write plain values",
    ),
    case(
        "an alias to an anchor not yet defined is refused",
        changed("  name: Acme", "  name: *company"),
        "pledge.yaml:3:9: error E101: unknown alias '*company'",
    ),
    case(
        "merging a scalar is refused",
        changed("  name: Acme", "  <<: Acme\n  name: Acme"),
        "pledge.yaml:3:3: error E104: '<<' can only merge mappings",
    ),
    # --- keys
    case(
        "an unknown section suggests the closest one",
        extended("cookie: {}\n"),
        "pledge.yaml:11:1: error E103: unknown key 'cookie' in the declaration; did you mean"
        " 'cookies'?",
    ),
    case(
        "a misspelt section is unknown and the real one missing",
        changed("purposes:", "purpose:"),
        "pledge.yaml:1:1: error E105: missing required key 'purposes' in the declaration",
        "pledge.yaml:8:1: error E103: unknown key 'purpose' in the declaration; did you mean"
        " 'purposes'?",
    ),
    case(
        "an unknown key in a section suggests the closest key of that section",
        changed("  country: DE", "  country: DE\n  legal_nam: Acme GmbH"),
        "pledge.yaml:5:3: error E103: unknown key 'legal_nam' in controller; did you mean"
        " 'legal_name'?",
    ),
    case(
        "an unknown key deep inside names the dotted path",
        extended("    retension: P1Y\n"),
        "pledge.yaml:11:5: error E103: unknown key 'retension' in purposes.service; did you mean"
        " 'retention'?",
    ),
    case(
        "an unknown key unlike any other gets no suggestion",
        extended("    owner: marketing team\n"),
        "pledge.yaml:11:5: error E103: unknown key 'owner' in purposes.service",
    ),
    case(
        "a key that is not snake_case is refused",
        changed("  service:", "  Service:"),
        "pledge.yaml:9:3: error E106: invalid key: 'Service' is not a valid key; use lowercase"
        " letters, digits and underscores",
    ),
    case(
        "an unknown disclosure ground as a key suggests the closest ground",
        extended("disclosures:\n  court_orders:\n    notice: true\n"),
        "pledge.yaml:12:3: error E106: invalid key: 'court_orders' is not allowed here; expected"
        " one of: consent, legal_obligation, court_order, vital_interests, public_interest,"
        " enforce_terms, legal_claims, fraud_and_security, merger_or_acquisition; did you mean"
        " 'court_order'?",
    ),
    # --- missing keys
    case(
        "a controller without a name is reported at the controller",
        changed("  name: Acme\n", ""),
        "pledge.yaml:2:1: error E105: missing required key 'name' in controller",
    ),
    case(
        "a policy without an effective date is reported at the policy",
        changed("  effective_date: 2025-01-01\n", ""),
        "pledge.yaml:5:1: error E105: missing required key 'effective_date' in policy",
    ),
    case(
        "a declaration without its format version is reported at its start",
        changed("pledge: 1\n", ""),
        "pledge.yaml:1:1: error E105: missing required key 'pledge' in the declaration",
    ),
    case(
        "a storage location without a country is reported at the list item",
        extended("storage:\n  - region: Frankfurt\n"),
        "pledge.yaml:12:5: error E105: missing required key 'country' in storage[0]",
    ),
    # --- wrong types
    case(
        "a list where a mapping belongs is the wrong type",
        changed("  name: Acme\n  country: DE", "  - Acme\n  - DE"),
        "pledge.yaml:3:3: error E104: wrong type for 'controller': expected a mapping"
        " (key: value lines), got a list",
    ),
    case(
        "a number where text belongs comes with the quote to add",
        changed('"1"', "2"),
        "pledge.yaml:6:12: error E104: wrong type for 'policy.version': expected text, got the"
        ' number 2 (quote it: "2")',
    ),
    case(
        "a phone number written as a number keeps its leading zero in the quote hint",
        changed("  country: DE", "  country: DE\n  phone: 0301234567"),
        "pledge.yaml:5:10: error E104: wrong type for 'controller.phone': expected text, got the"
        ' number 0301234567 (quote it: "0301234567")',
    ),
    case(
        "text where a list belongs is the wrong type",
        extended("    categories: contact.email\n"),
        "pledge.yaml:11:17: error E104: wrong type for 'purposes.service.categories': expected a"
        " list, got the text 'contact.email'",
    ),
    case(
        "true where text belongs is the wrong type",
        changed("  name: Acme", "  name: true"),
        "pledge.yaml:3:9: error E104: wrong type for 'controller.name': expected text, got true",
    ),
    case(
        "an empty section is the wrong type",
        changed("  service:\n    legal_basis: contract\n", "  service:\n"),
        "pledge.yaml:9:11: error E104: wrong type for 'purposes.service': expected a mapping"
        " (key: value lines), got nothing",
    ),
    case(
        "words where a whole number belongs are the wrong type",
        extended("children:\n  minimum_age: 13 years\n"),
        "pledge.yaml:12:16: error E104: wrong type for 'children.minimum_age': expected a whole"
        " number, got the text '13 years'",
    ),
    case(
        "an empty list of languages is refused",
        changed("  effective_date: 2025-01-01", "  effective_date: 2025-01-01\n  languages: []"),
        "pledge.yaml:8:14: error E106: 'policy.languages' must not be empty",
    ),
    # --- values
    case(
        "a misspelt legal basis suggests the right one",
        changed("legal_basis: contract", "legal_basis: consnet"),
        f"pledge.yaml:10:18: error E106: 'consnet' is not allowed here; expected one of:"
        f" {LEGAL_BASES}; did you mean 'consent'?",
    ),
    case(
        "a legal basis in the singular suggests the plural",
        changed("legal_basis: contract", "legal_basis: legitimate_interest"),
        f"pledge.yaml:10:18: error E106: 'legitimate_interest' is not allowed here; expected one"
        f" of: {LEGAL_BASES}; did you mean 'legitimate_interests'?",
    ),
    case(
        "a misspelt cookie category suggests the right one",
        extended("cookies:\n  sid:\n    provider: Acme\n    category: analytic\n"),
        "pledge.yaml:14:15: error E106: 'analytic' is not allowed here; expected one of:"
        " strictly_necessary, functional, analytics, advertising; did you mean 'analytics'?",
    ),
    case(
        "a misspelt source suggests the right one",
        extended(
            "collection:\n  form:\n    source: directly\n    fields:\n"
            "      email: {category: contact.email}\n"
        ),
        "pledge.yaml:13:13: error E106: 'directly' is not allowed here; expected one of: direct,"
        " observed, automatic, third_party; did you mean 'direct'?",
    ),
    case(
        "format version 2 is not supported",
        changed("pledge: 1", "pledge: 2"),
        "pledge.yaml:1:9: error E106: unsupported format version '2'; write pledge: 1",
    ),
    case(
        "a quoted format version is not the number 1",
        changed("pledge: 1", 'pledge: "1"'),
        "pledge.yaml:1:9: error E106: unsupported format version '1'; write pledge: 1",
    ),
    case(
        "a retention in words is not a duration",
        extended("    retention: 30 days\n"),
        "pledge.yaml:11:16: error E107: '30 days' is not a retention; write a duration such as"
        " P2Y, optionally followed by 'after EVENT' (P30D after account_closed)",
    ),
    case(
        "a duration with an unknown unit is refused",
        changed(
            "  effective_date: 2025-01-01", "  effective_date: 2025-01-01\n  notice_period: P30X"
        ),
        "pledge.yaml:8:18: error E107: 'P30X' is not an ISO 8601 duration; write for example"
        " P30D, P6M, P2Y or PT72H",
    ),
    case(
        "a retention after an unknown event lists the events",
        extended("    retention: P30D after closing\n"),
        "pledge.yaml:11:16: error E106: 'closing' is not allowed here; expected one of:"
        " collection, last_activity, account_closed, contract_end, subscription_end,"
        " consent_withdrawn, session_end, request_closed, transaction, fiscal_year_end",
    ),
    case(
        "retention as long as necessary is too vague",
        extended("    retention: as long as necessary\n"),
        f"pledge.yaml:11:16: error E112: 'as long as necessary'{VAGUE}",
    ),
    case(
        "retention until no longer needed is too vague",
        extended("    retention: until no longer needed\n"),
        f"pledge.yaml:11:16: error E112: 'until no longer needed'{VAGUE}",
    ),
    case(
        "a vague period in the long form is reported at the period",
        extended("    retention:\n      period: as long as necessary\n"),
        f"pledge.yaml:12:15: error E112: 'as long as necessary'{VAGUE}",
    ),
    case(
        "a thirteenth month is not a date",
        changed("2025-01-01", "2024-13-45"),
        "pledge.yaml:7:19: error E108: '2024-13-45' is not a date; write it as YYYY-MM-DD,"
        " e.g. 2025-01-31",
    ),
    case(
        "yesterday is not a date",
        changed("2025-01-01", "yesterday"),
        "pledge.yaml:7:19: error E108: 'yesterday' is not a date; write it as YYYY-MM-DD,"
        " e.g. 2025-01-31",
    ),
    case(
        "a country name is not a country code",
        changed("country: DE", "country: Germany"),
        "pledge.yaml:4:12: error E106: invalid value for 'controller.country': 'Germany' is not"
        " an ISO 3166-1 alpha-2 country code (e.g. DE, US, GB)",
    ),
    case(
        "a lowercase country code is refused",
        changed("country: DE", "country: de"),
        "pledge.yaml:4:12: error E106: invalid value for 'controller.country': 'de' is not an"
        " ISO 3166-1 alpha-2 country code (e.g. DE, US, GB)",
    ),
    case(
        "the United Kingdom as UK suggests GB",
        changed("country: DE", "country: UK"),
        "pledge.yaml:4:12: error E106: invalid value for 'controller.country': 'UK' is not an"
        " ISO 3166-1 alpha-2 country code; did you mean 'GB'?",
    ),
    case(
        "an e-mail address without an at sign is refused",
        changed("  country: DE", "  country: DE\n  email: privacy-at-acme.example"),
        "pledge.yaml:5:10: error E106: invalid value for 'controller.email':"
        " 'privacy-at-acme.example' is not an e-mail address: An email address must have an"
        " @-sign.",
    ),
    case(
        "a web address without a scheme is refused",
        changed("  country: DE", "  country: DE\n  website: acme.example"),
        "pledge.yaml:5:12: error E106: invalid value for 'controller.website': 'acme.example' is"
        " not a web address; start with https://",
    ),
    case(
        "a language name is not a language tag",
        changed(
            "  effective_date: 2025-01-01",
            "  effective_date: 2025-01-01\n  languages: [en, German]",
        ),
        "pledge.yaml:8:19: error E106: invalid value for 'policy.languages[1]': 'German' is not a"
        " language tag such as en or de-AT",
    ),
    # --- references
    case(
        "an undeclared category suggests the closest one",
        extended("    categories: [contact.emial]\n"),
        "pledge.yaml:11:18: error E109: category 'contact.emial' is not declared; did you mean"
        " 'contact.email'?",
    ),
    case(
        "an undeclared purpose suggests the closest one",
        extended(
            "    categories: [contact.email]\ncollection:\n  form:\n    source: direct\n"
            "    fields:\n      email:\n        category: contact.email\n"
            "        purposes: [servce]\n"
        ),
        "pledge.yaml:18:20: error E109: purpose 'servce' is not declared; did you mean 'service'?",
    ),
    case(
        "an undeclared recipient suggests the closest one",
        extended(
            "recipients:\n  hosting:\n    name: Hetzner\n    role: processor\n"
            "storage:\n  - country: DE\n    recipient: hostng\n"
        ),
        "pledge.yaml:17:16: error E109: recipient 'hostng' is not declared; did you mean"
        " 'hosting'?",
    ),
    case(
        "a category extending a parent that does not exist suggests the closest one",
        extended("categories:\n  acount.team:\n    label: Team\n    description: Teams.\n"),
        "pledge.yaml:12:3: error E109: category 'acount.team' extends 'acount', which is not a"
        " category; did you mean 'account'?",
    ),
    case(
        "a cookie serving an undeclared purpose is reported at its purpose",
        extended(
            "cookies:\n  sid:\n    provider: Acme\n    category: strictly_necessary\n"
            "    purpose: servise\n"
        ),
        "pledge.yaml:15:14: error E109: purpose 'servise' is not declared; did you mean 'service'?",
    ),
    # --- several at once
    case(
        "several errors are reported together in the order of the file",
        changed(
            "  effective_date: 2025-01-01",
            "  effective_date: yesterday",
            changed("country: DE", "country: Germany", changed("contract", "contrat")),
        ),
        "pledge.yaml:4:12: error E106: invalid value for 'controller.country': 'Germany' is not"
        " an ISO 3166-1 alpha-2 country code (e.g. DE, US, GB)",
        "pledge.yaml:7:19: error E108: 'yesterday' is not a date; write it as YYYY-MM-DD,"
        " e.g. 2025-01-31",
        f"pledge.yaml:10:18: error E106: 'contrat' is not allowed here; expected one of:"
        f" {LEGAL_BASES}; did you mean 'contract'?",
    ),
    case(
        "several undeclared references are reported together in the order of the file",
        extended(
            "    categories: [contact.emial, usage.pagez]\ncookies:\n  sid:\n"
            "    provider: Acme\n    category: strictly_necessary\n    purpose: servise\n"
        ),
        "pledge.yaml:11:18: error E109: category 'contact.emial' is not declared; did you mean"
        " 'contact.email'?",
        "pledge.yaml:11:33: error E109: category 'usage.pagez' is not declared; did you mean"
        " 'usage.pages'?",
        "pledge.yaml:16:14: error E109: purpose 'servise' is not declared; did you mean 'service'?",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_malformed_declaration_is_reported_exactly(text: str, expected: list[str]) -> None:
    """Loading fails with exactly these findings, each at its file, line and column."""
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads(text)
    assert [str(finding) for finding in raised.value.findings] == expected


def test_the_error_message_lists_every_finding() -> None:
    """``str(DeclarationError)`` is the findings, one per line, as ``pledge check`` prints."""
    text = changed("country: DE", "country: Germany", changed("contract", "contrat"))
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads(text, file="acme/pledge.yaml")
    lines = str(raised.value).splitlines()
    assert [line.partition(": error")[0] for line in lines] == [
        "acme/pledge.yaml:4:12",
        "acme/pledge.yaml:10:18",
    ]
    assert all(finding.severity == "error" for finding in raised.value.findings)


def test_findings_carry_the_path_of_what_they_are_about() -> None:
    """Each finding's ``path`` leads to the offending value inside the declaration."""
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads(extended("    categories: [contact.email, usage.pagez]\n"))
    (finding,) = raised.value.findings
    assert finding.path == ("purposes", "service", "categories", 1)
    assert finding.to_dict()["path"] == "purposes.service.categories.1"


def test_aliases_cannot_expand_into_gigabytes() -> None:
    """Nested aliases (the "billion laughs") are stopped at a limit, not expanded."""
    lines = ['laugh0: &laugh0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    for level in range(1, 9):
        aliases = ", ".join([f"*laugh{level - 1}"] * 10)
        lines.append(f"laugh{level}: &laugh{level} [{aliases}]")
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads("\n".join(lines) + "\n")
    (finding,) = raised.value.findings
    assert finding.code == "E104"
    assert finding.message == (
        f"aliases copy more than {ALIAS_LIMIT:,} values; write the data out instead"
    )


def test_a_file_that_is_not_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    """``load`` turns undecodable bytes into a finding at the start of the file."""
    path = tmp_path / "pledge.yaml"
    path.write_bytes(MINIMAL.replace("Acme", "Acm\xe9").encode("latin-1"))
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.load(path)
    assert [str(f) for f in raised.value.findings] == [
        f"{path}:1:1: error E101: the file is not UTF-8 text"
    ]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A path that does not exist is the caller's mistake, not the declaration's."""
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(pledge.UsageError, match="no such file"):
        pledge.load(missing)


def test_plain_data_is_validated_without_being_changed() -> None:
    """``load_data`` fills defaults in its own copy, never in the caller's data."""
    data = yaml.safe_load(MINIMAL.replace("2025-01-01", '"2025-01-01"'))
    before = copy.deepcopy(data)
    declaration = load_data(data)
    assert declaration.purposes["service"].label == "Service"
    assert data == before


def test_mistakes_in_plain_data_are_findings_without_a_position() -> None:
    """Data that did not come from a file is reported at ``<data>:1:1`` with its path."""
    data = yaml.safe_load(MINIMAL.replace("2025-01-01", "yesterday"))
    with pytest.raises(pledge.DeclarationError) as raised:
        load_data(data)
    (finding,) = raised.value.findings
    assert str(finding) == (
        "<data>:1:1: error E108: 'yesterday' is not a date; write it as YYYY-MM-DD, e.g. 2025-01-31"
    )
    assert finding.path == ("policy", "effective_date")


# --- YAML 1.1 pitfalls ----------------------------------------------------------------------


def test_norway_stays_a_country_code() -> None:
    """``country: NO`` is the text "NO", not false, as YAML 1.1 would have it."""
    declaration = pledge.loads(changed("country: DE", "country: NO"))
    assert declaration.controller.country == "NO"


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "OFF"])
def test_yes_and_on_are_text(word: str) -> None:
    """YAML 1.1 booleans other than true and false stay the words they are."""
    declaration = pledge.loads(changed("  name: Acme", f"  name: {word}"))
    assert declaration.controller.name == word


def test_a_version_with_a_trailing_zero_gets_the_quote_hint_as_written() -> None:
    """``version: 1.10`` would be the number 1.1; the hint quotes what was written."""
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads(changed('"1"', "1.10"))
    assert [str(f) for f in raised.value.findings] == [
        "pledge.yaml:6:12: error E104: wrong type for 'policy.version': expected text, got the"
        ' number 1.10 (quote it: "1.10")'
    ]


def test_a_quoted_version_and_unquoted_words_load() -> None:
    """Quoting keeps numbers as text; dates written plainly are parsed by the schema."""
    declaration = pledge.loads(changed('"1"', '"1.10"'))
    assert declaration.policy.version == "1.10"
    assert declaration.policy.effective_date.isoformat() == "2025-01-01"


def test_merge_keys_share_settings_between_entries() -> None:
    """``<<: *defaults`` copies the anchored keys; keys written next to it win."""
    text = extended(
        "cookies:\n"
        "  _ga: &google\n"
        "    provider: Google\n"
        "    category: analytics\n"
        "    duration: P2Y\n"
        "    third_party: true\n"
        "  _gid:\n"
        "    <<: *google\n"
        "    duration: P1D\n"
    )
    cookies = pledge.loads(text).cookies
    assert (cookies["_gid"].provider, cookies["_gid"].third_party) == ("Google", True)
    assert (str(cookies["_ga"].duration), str(cookies["_gid"].duration)) == ("P2Y", "P1D")


def test_merge_keys_accept_a_list_of_mappings() -> None:
    """``<<: [*a, *b]`` merges several mappings, the first one winning."""
    text = extended(
        "recipients:\n"
        "  mailer: &processor\n"
        "    name: Mailer Inc.\n"
        "    role: processor\n"
        "    country: US\n"
        "  crm:\n"
        "    <<: [{name: CRM Ltd, country: GB}, *processor]\n"
    )
    crm = pledge.loads(text).recipients["crm"]
    assert (crm.name, crm.role, crm.country) == ("CRM Ltd", "processor", "GB")


@pytest.mark.parametrize(
    ("reuse", "where"),
    [
        pytest.param("  _gid:\n    <<: *google\n", "16:5", id="merged, at the merge key"),
        pytest.param("  _gid: *google\n", "15:9", id="aliased, at the alias"),
    ],
)
def test_a_mistake_reused_through_an_anchor_is_reported_where_it_is_reused(
    reuse: str, where: str
) -> None:
    """A mistake copied by an alias or a merge is reported twice: where written, where reused."""
    text = extended("cookies:\n  _ga: &google\n    provider: Google\n    category: analytic\n")
    with pytest.raises(pledge.DeclarationError) as raised:
        pledge.loads(text + reuse)
    message = (
        "error E106: 'analytic' is not allowed here; expected one of: strictly_necessary,"
        " functional, analytics, advertising; did you mean 'analytics'?"
    )
    assert [str(f) for f in raised.value.findings] == [
        f"pledge.yaml:14:15: {message}",
        f"pledge.yaml:{where}: {message}",
    ]


# --- robustness -------------------------------------------------------------------------------


def mutations(text: str, count: int, seed: int) -> Iterator[str]:
    """``count`` damaged copies of ``text``: lines lost or doubled, characters swapped or typed."""
    rng = random.Random(seed)
    stray = [":", "-", " ", "  ", "\t", "'", '"', "&a", "*a", "!", "[", "{", "#", "<<: ", "~"]
    for _ in range(count):
        lines = text.splitlines(keepends=True)
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(lines))
            line = lines[index]
            action = rng.choice(["delete", "double", "swap", "insert", "truncate"])
            if action == "delete":
                del lines[index]
            elif action == "double":
                lines.insert(index, line)
            elif action == "swap":
                at = rng.randrange(max(len(line) - 2, 1))
                lines[index] = line[:at] + line[at + 1 : at + 2] + line[at] + line[at + 2 :]
            elif action == "insert":
                at = rng.randrange(len(line) + 1)
                lines[index] = line[:at] + rng.choice(stray) + line[at:]
            else:
                lines[index] = line[: rng.randrange(len(line) + 1)] + "\n"
        yield "".join(lines)


def test_damaged_declarations_only_ever_raise_declaration_errors(clean_yaml: str) -> None:
    """300 damaged copies of a full declaration load, or fail with one-line findings."""
    failures = 0
    for variant in mutations(clean_yaml, count=300, seed=20250301):
        try:
            declaration = pledge.loads(variant)
        except pledge.DeclarationError as error:
            failures += 1
            assert error.findings, variant
            for finding in error.findings:
                assert "\n" not in str(finding), variant
                end_of_stream = len(variant.splitlines()) + 1  # past the last line
                assert 1 <= finding.line <= end_of_stream, variant
                assert finding.column >= 1, variant
        else:
            lint(declaration)  # a damaged but valid declaration lints without crashing
    assert 100 < failures < 300  # the damage is neither always harmless nor always fatal

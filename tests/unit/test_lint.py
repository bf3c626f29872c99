"""The lint rules: each fires on what it is about, stays quiet on the near miss, points at it.

Every case starts from the clean, complete declaration of ``conftest.py`` (which produces no
finding at all) and changes it as little as possible. A case also names the other rules its
change sets off, so that it documents exactly what ``pledge check`` would print.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

import pledge
from pledge.declaration.findings import Severity
from pledge.declaration.lint import RULES, lint

Edit = tuple[str, str]


def drop(text: str) -> Edit:
    """An edit that removes ``text``."""
    return text, ""


def swap(old: str, new: str) -> Edit:
    """An edit that replaces ``old`` with ``new``."""
    return old, new


def after(anchor: str, *lines: str) -> Edit:
    """An edit that inserts ``lines`` after the line ``anchor``."""
    return anchor, anchor + "".join(f"{line}\n" for line in lines)


def before(anchor: str, *lines: str) -> Edit:
    """An edit that inserts ``lines`` before the line ``anchor``."""
    return anchor, "".join(f"{line}\n" for line in lines) + anchor


def fires(
    case: str,
    code: str,
    *edits: Edit,
    at: str | tuple[str, ...],
    says: str,
    also: Iterable[str] = (),
    more: Iterable[tuple[str | tuple[str, ...], str]] = (),
) -> Any:
    """A case where ``edits`` make rule ``code`` say ``says`` at the key located by ``at``.

    ``at`` is a snippet, or a chain of snippets each searched after the previous one; the
    finding must sit where the last one starts. ``more`` lists further ``(at, says)`` of the
    same rule, and ``also`` the other rules set off.
    """
    reports = tuple(
        ((where,) if isinstance(where, str) else where, message)
        for where, message in ((at, says), *more)
    )
    return pytest.param(code, edits, reports, frozenset(also), id=case)


def quiet(case: str, code: str, *edits: Edit, also: Iterable[str] = ()) -> Any:
    """A near miss of rule ``code``: after ``edits`` it reports nothing (only ``also`` fire)."""
    return pytest.param(code, edits, frozenset(also), id=case)


# Edits several cases share.
NO_CONTROLLER_CONTACT = (
    drop("  address: Hauptstraße 1, 10115 Berlin\n"),
    drop('  email: privacy@acme.example\n  phone: "+49 30 1234567"\n'),
)
NO_RIGHTS_CHANNELS = drop(
    "  channels:\n    email: privacy@acme.example\n    url: https://acme.example/privacy/requests\n"
)
NO_DPO = drop("  dpo:\n    name: Dana Schmidt\n    email: dpo@acme.example\n")
SENSITIVE_NEWSLETTER = swap(
    "    categories: [contact.email]\n    retention: P1Y",
    "    categories: [contact.email, special.health]\n    retention: P1Y",
)
CONTROLLER_IN_US = swap("  country: DE\n  address:", "  country: US\n  address:")
HOSTING_COUNTRY = "    country: DE\n    purposes: [provide_service, fraud_prevention]\n"
DISPLAY_NAME = "        category: identity.name\n        purposes: [provide_service]\n"
REQUIRED_EMAIL = "        required: true\n        purposes: [provide_service]\n"
OPT_IN = "        category: contact.email\n        purposes: [newsletter]\n"
PAGES = "        purposes: [analytics]\n"
LIA = "    interest_assessment: LIA-2025-01\n"
INTEREST = "    legitimate_interest: Keeping accounts safe from takeover and abuse.\n"
NEWSLETTER_RETENTION = "    retention: P1Y after consent_withdrawn\n"
COOKIE_DURATION = "    duration: P13M\n"
PUBLISHED = "  published_date: 2025-01-15\n"
RESPONSE_TIME = "  response_time: P1M\n"
MINIMUM_AGE = "  minimum_age: 16\n"
LAST_LINE = "    notify_authority: true\n"
IDENTITY = "{category: contact.email, identity: email}"
ERASURE = "        erasure: {strategy: delete}\n"
DATASTORE = (
    "datastores:",
    "  app:",
    "    url: postgresql+psycopg://app:${DB_PASSWORD}@db.acme.example/app",
    "    tables:",
    "      users:",
    "        columns:",
    f"          email: {IDENTITY}",
    "          name: {category: identity.name}",
    ERASURE.rstrip("\n"),
)


def with_datastore(*edits: Edit) -> tuple[Edit, ...]:
    """Edits that append a clean datastore to the declaration, then apply ``edits`` to it."""
    text = "".join(f"{line}\n" for line in DATASTORE)
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return (after(LAST_LINE, text.rstrip("\n")),)


TARGETING_IS_SHARING = (
    "purpose 'targeted_advertising' targets advertising but is not marked sale_or_sharing;"
    " advertising based on activity across services is 'sharing' under CCPA"
)


def offering(right: str) -> Edit:
    """An edit that adds ``right`` to the rights offered."""
    return after("    - complaint\n", f"    - {right}")


FIRES = [
    # --- P: processing
    fires(
        "a collected category no purpose uses is reported at the field's category",
        "P101",
        after(PAGES, "      referrer:", "        category: usage.referrer"),
        at=("referrer:", "category:"),
        says="'usage.referrer' is collected but no purpose uses it; add it to a purpose's"
        " categories or stop collecting it",
        also=["P104"],
    ),
    fires(
        "a purpose without retention is reported at the purpose",
        "P102",
        drop(NEWSLETTER_RETENTION),
        at=("purposes:", "newsletter:"),
        says="purpose 'newsletter' has no retention period",
    ),
    fires(
        "a required field feeding a consent purpose is reported at 'required'",
        "P103",
        swap(OPT_IN, OPT_IN.replace("email\n", "email\n        required: true\n")),
        at=("newsletter_opt_in:", "required:"),
        says="field 'newsletter_opt_in' is required but feeds consent purpose 'newsletter';"
        " consent is not freely given when the data is a condition of service",
    ),
    fires(
        "a field without purposes is reported at the field",
        "P104",
        swap(REQUIRED_EMAIL, "        required: true\n"),
        at=("signup_form:", "email:"),
        says="field 'email' names no purpose",
    ),
    fires(
        "a field feeding a purpose that lacks its category is reported at that purpose",
        "P105",
        swap(DISPLAY_NAME, DISPLAY_NAME.replace("service]", "service, newsletter]")),
        at=("display_name:", "newsletter]"),
        says="field 'display_name' (identity.name) feeds purpose 'newsletter',"
        " which does not list that category",
    ),
    fires(
        "a purpose without categories is reported at the purpose",
        "P106",
        drop("    categories: [contact.email]\n"),
        at=("purposes:", "newsletter:"),
        says="purpose 'newsletter' lists no data categories",
        also=["P105"],
    ),
    fires(
        "legitimate interests without the interest are reported at the purpose",
        "P107",
        drop(INTEREST),
        at=("purposes:", "fraud_prevention:"),
        says="purpose 'fraud_prevention' relies on legitimate interests but does not say which",
    ),
    fires(
        "legitimate interests without an assessment are reported at the purpose",
        "P108",
        drop(LIA),
        at=("purposes:", "fraud_prevention:"),
        says="purpose 'fraud_prevention' has no legitimate-interests assessment",
    ),
    fires(
        "a purpose outside the vocabulary without a description is reported at the purpose",
        "P109",
        swap("  analytics:\n", "  usage_statistics:\n"),
        swap("purposes: [analytics]", "purposes: [usage_statistics]"),
        swap("purpose: analytics", "purpose: usage_statistics"),
        at=("purposes:", "usage_statistics:"),
        says="purpose 'usage_statistics' has no description",
    ),
    fires(
        "special categories on legitimate interests are reported at the purpose",
        "P110",
        swap("[device.ip_address]\n", "[device.ip_address, special.biometric]\n"),
        at=("purposes:", "fraud_prevention:"),
        says="purpose 'fraud_prevention' uses special categories (special.biometric) on"
        " legitimate_interests without explicit consent; declare its GDPR Art. 9(2) condition"
        " in special_category_condition",
        also=["C404"],
    ),
    fires(
        "a legal obligation is no Art. 9(2) condition by itself",
        "P110",
        swap(
            "    categories: [contact.email, identity.name, account.team]\n",
            "    categories: [contact.email, identity.name, account.team, special.health]\n",
        ),
        swap(
            "  provide_service:\n    legal_basis: contract",
            "  provide_service:\n    legal_basis: legal_obligation",
        ),
        at=("purposes:", "provide_service:"),
        says="purpose 'provide_service' uses special categories (special.health) on"
        " legal_obligation without explicit consent; declare its GDPR Art. 9(2) condition in"
        " special_category_condition",
        also=["C404"],
    ),
    fires(
        "criminal-offence data need a law that authorises them, even with consent",
        "P110",
        SENSITIVE_NEWSLETTER,
        swap("[contact.email, special.health]", "[contact.email, criminal.offences]"),
        offering("limit_sensitive"),
        at=("purposes:", "newsletter:"),
        says="purpose 'newsletter' uses criminal-offence data (criminal.offences); name the law"
        " that authorises it, or the official authority that controls it, in"
        " criminal_data_authorisation (GDPR Art. 10)",
    ),
    # --- T: recipients and transfers
    fires(
        "a recipient abroad without a safeguard is reported at the recipient",
        "T201",
        drop("    safeguard: standard_contractual_clauses\n"),
        at="mailer:",
        says="recipient 'mailer' is in US, outside DE, but no transfer safeguard is declared",
    ),
    fires(
        "adequacy claimed for a country without a decision is reported at the safeguard",
        "T202",
        swap(
            "    country: US\n    safeguard: standard_contractual_clauses\n",
            "    country: IN\n    safeguard: adequacy\n",
        ),
        at=("mailer:", "safeguard:"),
        says="IN has no EU adequacy decision; use another safeguard",
    ),
    fires(
        "a recipient without a country is reported at the recipient",
        "T203",
        swap(HOSTING_COUNTRY, "    purposes: [provide_service, fraud_prevention]\n"),
        at="hosting:",
        says="recipient 'hosting' has no country",
    ),
    fires(
        "storage abroad at a host without a safeguard is reported at the location",
        "T204",
        swap("  - country: DE\n", "  - country: US\n"),
        at=("storage:", "country: US"),
        says="data is stored in US, outside DE, without a declared recipient that has a"
        " transfer safeguard",
    ),
    fires(
        "a recipient without purposes is reported at the recipient",
        "T205",
        swap(HOSTING_COUNTRY, "    country: DE\n"),
        at="hosting:",
        says="recipient 'hosting' names no purpose",
    ),
    # --- G: GDPR notice
    fires(
        "a controller without contact details is reported at the controller",
        "G301",
        *NO_CONTROLLER_CONTACT,
        at="controller:",
        says="the controller has no e-mail, telephone or postal address",
    ),
    fires(
        "a DPO without contact details is reported at the DPO",
        "G302",
        drop("    email: dpo@acme.example\n"),
        at="dpo:",
        says="the DPO has no e-mail, telephone or postal address",
    ),
    fires(
        "a public authority without a DPO is reported at the controller",
        "G302",
        NO_DPO,
        after("  legal_name: Acme Cloud GmbH\n", "  public_authority: true"),
        at="controller:",
        says="no DPO is declared, but one is likely required: the controller is a public authority",
    ),
    fires(
        "special categories without a DPO are reported at the controller",
        "G302",
        NO_DPO,
        SENSITIVE_NEWSLETTER,
        offering("limit_sensitive"),
        at="controller:",
        says="no DPO is declared, but one is likely required: special categories of data are"
        " processed",
    ),
    fires(
        "a purpose without a legal basis is reported at the purpose",
        "G303",
        swap(
            "    legal_basis: consent\n    categories: [usage.pages]",
            "    categories: [usage.pages]",
        ),
        at=("purposes:", "analytics:"),
        says="purpose 'analytics' has no legal basis",
        also=["K501"],
    ),
    fires(
        "a missing GDPR right is reported at the rights offered",
        "G304",
        drop("    - portability\n"),
        at="offered:",
        says="rights not offered: portability",
    ),
    fires(
        "consent purposes without the right to withdraw are reported at the rights offered",
        "G304",
        drop("    - withdraw_consent\n"),
        at="offered:",
        says="rights not offered: withdraw_consent",
    ),
    fires(
        "rights without any channel are reported at the rights",
        "G305",
        *NO_CONTROLLER_CONTACT,
        NO_RIGHTS_CHANNELS,
        at="\nrights:",
        says="there is no channel to exercise rights",
        also=["G301"],
    ),
    fires(
        "required fields without a requirement are reported at the collection point",
        "G306",
        drop("    requirement: contract_entry\n"),
        at="signup_form:",
        says="'signup_form' has required fields but no 'requirement'",
    ),
    fires(
        "required fields without a consequence are reported at the collection point",
        "G306",
        drop("    consequence: Without an e-mail address we cannot open an account.\n"),
        at="signup_form:",
        says="'signup_form' does not say what happens without the data",
    ),
    fires(
        "third-party data without its origin is reported at the source",
        "G307",
        drop("    origin: Google Sign-In\n"),
        at=("social_login:", "source:"),
        says="'social_login' comes from a third party not named in 'origin'",
    ),
    fires(
        "an automated decision without safeguards is reported at the decision",
        "G308",
        drop("      safeguards: [human review, contest by e-mail]\n"),
        at="automated_decision:",
        says="automated decision in 'fraud_prevention' has no safeguards",
    ),
    fires(
        "a controller without a supervisory authority is reported at the controller",
        "G309",
        drop(
            "  supervisory_authority:\n"
            "    name: Berliner Beauftragte für Datenschutz und Informationsfreiheit\n"
            "    country: DE\n"
            "    url: https://www.datenschutz-berlin.de\n"
        ),
        at="controller:",
        says="no supervisory authority is named for complaints",
    ),
    fires(
        "a controller outside the EEA without a representative is reported at the controller",
        "G310",
        CONTROLLER_IN_US,
        at="controller:",
        says="the controller is in US, outside the EEA, with no EU representative",
        also=["T201", "T204"],
    ),
    fires(
        "a response time of two months is reported at the response time",
        "G311",
        swap(RESPONSE_TIME, "  response_time: P2M\n"),
        at="response_time:",
        says="2 months is longer than the one month GDPR allows",
    ),
    fires(
        "a response time of thirty-two days is too long",
        "G311",
        swap(RESPONSE_TIME, "  response_time: P32D\n"),
        at="response_time:",
        says="32 days is longer than the one month GDPR allows",
    ),
    fires(
        "a policy that never announces changes is reported at the policy",
        "G312",
        drop("  notice_period: P30D\n  change_notice: [email, notice]\n"),
        at="policy:",
        says="no notice period and no channel for announcing changes",
    ),
    fires(
        "publishing later than the notice period allows is reported at the effective date",
        "G313",
        swap(PUBLISHED, "  published_date: 2025-02-15\n"),
        at="effective_date:",
        says="published 14 days before taking effect, less than the notice period of 30 days",
    ),
    # --- C: CCPA notice at collection
    fires(
        "a collected category none of whose purposes has a retention is reported",
        "C401",
        drop("    retention: P30D after account_closed\n"),
        at=("display_name:", "category:"),
        says="no retention period for 'identity.name': none of its purposes has one",
        also=["P102"],
    ),
    fires(
        "a third-party advertising cookie without sale or sharing is reported at the cookie",
        "C402",
        after(
            "cookies:\n",
            "  _fbp:",
            "    provider: Meta",
            "    category: advertising",
            "    purpose: analytics",
            "    duration: P90D",
            "    third_party: true",
        ),
        at="_fbp:",
        says="third-party advertising cookie '_fbp' suggests sharing, but no purpose is"
        " marked sale_or_sharing",
    ),
    fires(
        "a third party receiving data for advertising without sale or sharing is reported",
        "C402",
        before(
            "\ncollection:\n",
            "  targeted_advertising:",
            "    legal_basis: consent",
            "    categories: [usage.pages]",
            "    retention: P90D",
        ),
        before(
            "\ndisclosures:\n",
            "  adnet:",
            "    name: Ad Network Ltd",
            "    role: third_party",
            "    country: FR",
            "    purposes: [targeted_advertising]",
        ),
        at="adnet:",
        says="third party 'adnet' receives data for advertising, but no purpose is marked"
        " sale_or_sharing",
        more=[(("purposes:", "targeted_advertising:"), TARGETING_IS_SHARING)],
        also=["C403"],
    ),
    fires(
        "a targeted advertising purpose without sale or sharing is reported at the purpose",
        "C402",
        after("  analytics:\n", "    targeted_advertising: true"),
        at=("purposes:", "analytics:"),
        says=TARGETING_IS_SHARING.replace("targeted_advertising", "analytics"),
        also=["C403"],
    ),
    fires(
        "selling without the right to opt out is reported at the purpose",
        "C403",
        after("  newsletter:\n", "    sale_or_sharing: true"),
        at=("purposes:", "newsletter:"),
        says="purpose 'newsletter' sells, shares or targets ads, but opt_out_of_sale is not"
        " offered",
    ),
    fires(
        "sensitive data without the right to limit it is reported at the first purpose",
        "C404",
        SENSITIVE_NEWSLETTER,
        at=("purposes:", "newsletter:"),
        says="sensitive data is used, but limit_sensitive is not offered",
    ),
    # --- K: cookies
    fires(
        "an analytics cookie serving a contract purpose is reported at its purpose",
        "K501",
        swap("    purpose: analytics\n", "    purpose: provide_service\n"),
        at=("_pk_id:", "purpose:"),
        says="analytics cookie '_pk_id' serves 'provide_service', which is not based on consent",
    ),
    fires(
        "a cookie without a duration is reported at the cookie",
        "K502",
        drop(COOKIE_DURATION),
        at="_pk_id:",
        says="cookie '_pk_id' has no duration",
    ),
    fires(
        "a cookie without a purpose is reported at the cookie",
        "K503",
        drop("    purpose: provide_service\n"),
        at="session_id:",
        says="cookie 'session_id' names no purpose",
    ),
    # --- Y: children
    fires(
        "children without a minimum age are reported at the children section",
        "Y601",
        swap(MINIMUM_AGE, "  parental_consent: true\n"),
        at="children:",
        says="no minimum age is declared and the service is not restricted to adults",
    ),
    fires(
        "a declaration without a children section is reported at its start",
        "Y601",
        drop("children:\n" + MINIMUM_AGE),
        at="pledge: 1",
        says="no minimum age is declared and the service is not restricted to adults",
    ),
    fires(
        "thirteen-year-olds without parental consent are reported at the minimum age",
        "Y602",
        swap(MINIMUM_AGE, "  minimum_age: 13\n"),
        at="minimum_age:",
        says="children from 13 may use the service, below the age of digital consent (up to"
        " 16), but no parental consent is declared",
    ),
    # --- D: datastores
    fires(
        "a datastore without identity columns is reported at the datastore",
        "D701",
        *with_datastore(swap(IDENTITY, "{category: contact.email}")),
        at=("datastores:", "app:"),
        says="datastore 'app' holds personal data but marks no identity column:"
        " requests cannot find anyone in it",
    ),
    fires(
        "a personal table without erasure strategy is reported at the table",
        "D702",
        *with_datastore(drop(ERASURE)),
        at=("datastores:", "users:"),
        says="table 'users' holds personal data but has no erasure strategy",
    ),
    fires(
        "a personal column a rewrite leaves alone is reported at the column",
        "D703",
        *with_datastore(
            swap(
                ERASURE,
                "        erasure: {strategy: rewrite, rewrite: {email: {pseudonym: hmac}}}\n",
            )
        ),
        at=("datastores:", "name:"),
        says="'users.name' (identity.name) is kept when a person is erased: rewrite it too",
    ),
    fires(
        "a stored category no purpose uses is reported once, at its first column",
        "D704",
        *with_datastore(
            after(
                "          name: {category: identity.name}\n",
                "          phone: {category: contact.phone}",
                "          mobile: {category: contact.phone}",
            )
        ),
        at=("datastores:", "phone:", "category:"),
        says="'users.phone' holds 'contact.phone', which no purpose uses:"
        " declare why it is kept, or stop keeping it",
    ),
]

QUIET = [
    quiet(
        "a collected category covered by a purpose's parent category counts as used",
        "P101",
        swap("    categories: [usage.pages]\n", "    categories: [usage]\n"),
        after(PAGES, "      referrer:", "        category: usage.referrer", PAGES.rstrip()),
    ),
    quiet(
        "a retention written in full counts",
        "P102",
        swap(NEWSLETTER_RETENTION, "    retention: {period: P1Y, after: consent_withdrawn}\n"),
    ),
    quiet(
        "an optional field may feed a consent purpose",
        "P103",
        swap(OPT_IN, OPT_IN.replace("email\n", "email\n        required: false\n")),
    ),
    quiet(
        "a field may name several purposes",
        "P104",
        swap(OPT_IN, OPT_IN.replace("[newsletter]", "[newsletter, provide_service]")),
    ),
    quiet(
        "a purpose listing a parent category covers the fields below it",
        "P105",
        swap(
            "[contact.email, identity.name, account.team]",
            "[contact.email, identity, account.team]",
        ),
    ),
    quiet(
        "a purpose listing only a parent category lists categories",
        "P106",
        swap(
            "    categories: [contact.email]\n    retention: P1Y",
            "    categories: [contact]\n    retention: P1Y",
        ),
    ),
    quiet(
        "a purpose based on a legal obligation states no interest",
        "P107",
        swap("    legal_basis: legitimate_interests\n", "    legal_basis: legal_obligation\n"),
        drop(INTEREST),
        drop(LIA),
    ),
    quiet(
        "an assessment given as a link counts",
        "P108",
        swap(LIA, "    interest_assessment: https://wiki.acme.example/lia/fraud\n"),
    ),
    quiet(
        "a purpose outside the vocabulary with its own description is described",
        "P109",
        swap("  analytics:\n", "  usage_statistics:\n    description: Count page views.\n"),
        swap("purposes: [analytics]", "purposes: [usage_statistics]"),
        swap("purpose: analytics", "purpose: usage_statistics"),
    ),
    quiet(
        "special categories on consent are allowed",
        "P110",
        SENSITIVE_NEWSLETTER,
        offering("limit_sensitive"),
    ),
    quiet(
        "special categories on a declared Art. 9(2) condition are allowed",
        "P110",
        swap("[device.ip_address]\n", "[device.ip_address, special.biometric]\n"),
        after(LIA, "    special_category_condition: substantial_public_interest"),
        also=["C404"],
    ),
    quiet(
        "criminal-offence data with the law that authorises them are allowed",
        "P110",
        swap("[device.ip_address]\n", "[device.ip_address, criminal.offences]\n"),
        after(LIA, "    criminal_data_authorisation: § 26 BDSG (Germany)"),
        also=["C404"],
    ),
    quiet(
        "a recipient elsewhere in the EEA needs no safeguard",
        "T201",
        swap(HOSTING_COUNTRY, HOSTING_COUNTRY.replace("DE", "FR")),
    ),
    quiet(
        "adequacy is accepted for a country with a decision",
        "T202",
        swap(
            "    country: US\n    safeguard: standard_contractual_clauses\n",
            "    country: JP\n    safeguard: adequacy\n",
        ),
    ),
    quiet(
        "an authority needs no country",
        "T203",
        before(
            "\ndisclosures:\n",
            "  tax_office:",
            "    name: Finanzamt Berlin",
            "    role: authority",
            "    purposes: [provide_service]",
        ),
    ),
    quiet(
        "storage abroad at a recipient with a safeguard is fine",
        "T204",
        swap(
            "  - country: DE\n    region: Falkenstein\n    recipient: hosting\n",
            "  - country: US\n    region: Virginia\n    recipient: mailer\n",
        ),
    ),
    quiet(
        "a recipient with a purpose and its own categories is fine",
        "T205",
        swap(
            HOSTING_COUNTRY,
            "    country: DE\n    purposes: [provide_service]\n    categories: [contact.email]\n",
        ),
    ),
    quiet(
        "a telephone number alone is a contact",
        "G301",
        drop("  address: Hauptstraße 1, 10115 Berlin\n"),
        swap("  email: privacy@acme.example\n  phone:", "  phone:"),
    ),
    quiet("no DPO is needed when nothing requires one", "G302", NO_DPO),
    quiet(
        "a purpose from the built-in vocabulary with its own basis is fine",
        "G303",
        before(
            "\ncollection:\n",
            "  legal_compliance:",
            "    legal_basis: legal_obligation",
            "    categories: [financial.invoices]",
            "    retention: P10Y after fiscal_year_end",
        ),
    ),
    quiet(
        "withdrawing consent is not required without consent purposes",
        "G304",
        drop("    - withdraw_consent\n"),
        swap(
            "    legal_basis: consent\n    categories: [contact.email]",
            "    legal_basis: contract\n    categories: [contact.email]",
        ),
        swap(
            "    legal_basis: consent\n    categories: [usage.pages]",
            "    legal_basis: contract\n    categories: [usage.pages]",
        ),
        drop(
            "  _pk_id:\n    provider: Acme Cloud\n    category: analytics\n"
            "    purpose: analytics\n    duration: P13M\n"
        ),
    ),
    quiet(
        "the controller's contact details serve as a channel for rights",
        "G305",
        NO_RIGHTS_CHANNELS,
    ),
    quiet(
        "a collection point without required fields states no requirement",
        "G306",
        drop("        required: true\n"),
        drop("    requirement: contract_entry\n"),
        drop("    consequence: Without an e-mail address we cannot open an account.\n"),
    ),
    quiet(
        "data given by the person needs no origin",
        "G307",
        swap("    source: third_party\n    origin: Google Sign-In\n", "    source: direct\n"),
    ),
    quiet(
        "a purpose without automated decisions needs no safeguards",
        "G308",
        drop(
            "    automated_decision:\n"
            "      logic: Sign-ins from unusual places are blocked until confirmed.\n"
            "      significance: A blocked sign-in delays access to the account.\n"
            "      safeguards: [human review, contest by e-mail]\n"
        ),
    ),
    quiet(
        "an authority named without country or address is enough",
        "G309",
        drop("    country: DE\n    url: https://www.datenschutz-berlin.de\n"),
    ),
    quiet(
        "a controller in Norway is inside the EEA",
        "G310",
        swap("  country: DE\n  address:", "  country: NO\n  address:"),
    ),
    quiet(
        "a controller outside the EEA with a representative is fine",
        "G310",
        CONTROLLER_IN_US,
        before(
            "  dpo:\n",
            "  eu_representative:",
            "    name: Acme EU Rep",
            "    email: eu@acme.example",
        ),
        swap(HOSTING_COUNTRY, HOSTING_COUNTRY.replace("DE", "US")),
        swap("  - country: DE\n", "  - country: US\n"),
    ),
    quiet(
        "a response time of thirty-one days is within one month",
        "G311",
        swap(RESPONSE_TIME, "  response_time: P31D\n"),
    ),
    quiet(
        "a channel for changes without a notice period is enough",
        "G312",
        drop("  notice_period: P30D\n"),
    ),
    quiet(
        "publishing exactly the notice period ahead is enough",
        "G313",
        swap(PUBLISHED, "  published_date: 2025-01-30\n"),
    ),
    quiet(
        "a category is covered when any one of its purposes has a retention",
        "C401",
        drop(NEWSLETTER_RETENTION),
        also=["P102"],
    ),
    quiet(
        "a first-party advertising cookie does not suggest sharing",
        "C402",
        after(
            "cookies:\n",
            "  ads_seen:",
            "    provider: Acme Cloud",
            "    category: advertising",
            "    purpose: analytics",
            "    duration: P90D",
        ),
    ),
    quiet(
        "selling with the right to opt out is fine",
        "C403",
        after("  newsletter:\n", "    sale_or_sharing: true"),
        offering("opt_out_of_sale"),
    ),
    quiet(
        "sensitive data with the right to limit it is fine",
        "C404",
        SENSITIVE_NEWSLETTER,
        offering("limit_sensitive"),
    ),
    quiet(
        "a strictly necessary cookie may serve a purpose not based on consent",
        "K501",
        swap("    purpose: provide_service\n", "    purpose: fraud_prevention\n"),
    ),
    quiet(
        "a cookie lasting thirty minutes states its duration",
        "K502",
        swap(COOKIE_DURATION, "    duration: PT30M\n"),
    ),
    quiet(
        "a cookie named by prefix names its purpose too", "K503", swap("  _pk_id:\n", "  _pk_*:\n")
    ),
    quiet(
        "a service for adults needs no minimum age",
        "Y601",
        swap(MINIMUM_AGE, "  restricted_to_adults: true\n"),
    ),
    quiet(
        "thirteen-year-olds with parental consent are fine",
        "Y602",
        swap(MINIMUM_AGE, "  minimum_age: 13\n  parental_consent: true\n"),
    ),
    quiet("a datastore with an identity column can be searched", "D701", *with_datastore()),
    quiet(
        "a table without personal columns needs no erasure strategy",
        "D702",
        *with_datastore(
            after(
                ERASURE,
                "      daily_visits:",
                "        columns:",
                "          count: {category: aggregated.statistics}",
            )
        ),
    ),
    quiet(
        "a rewrite of every personal column but the account id keeps nothing",
        "D703",
        *with_datastore(
            after("        columns:\n", "          id: {category: account.id, identity: account}"),
            swap(
                ERASURE,
                "        erasure:\n          strategy: rewrite\n          rewrite:\n"
                "            email: {mask: {keep_last: 4}}\n            name: null\n",
            ),
        ),
        also=["D704"],
    ),
    quiet(
        "stored categories that purposes use, or that are not personal, are fine",
        "D704",
        *with_datastore(
            after(
                "          name: {category: identity.name}\n",
                "          visits: {category: aggregated.statistics}",
            )
        ),
    ),
]


def locate(text: str, *snippets: str) -> tuple[int, int]:
    """The line and column where the last of ``snippets`` starts, each found after the last."""
    offset = 0
    for snippet in snippets:
        found = text.find(snippet, offset)
        assert found >= 0, f"{snippet!r} not found in the declaration"
        offset = found + len(snippet) - len(snippet.lstrip())
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def test_the_clean_declaration_gives_no_finding_at_all(clean_yaml: str) -> None:
    """The fixture every case starts from is complete: no rule has anything to say."""
    assert lint(pledge.loads(clean_yaml)) == []


@pytest.mark.parametrize(("code", "edits", "reports", "also"), FIRES)
def test_rule_fires_at_the_key_it_is_about(
    code: str,
    edits: tuple[Edit, ...],
    reports: tuple[tuple[tuple[str, ...], str], ...],
    also: frozenset[str],
    revised: Callable[..., str],
) -> None:
    """The rule reports exactly its messages, each at the right line and column."""
    text = revised(*edits)
    findings = lint(pledge.loads(text))
    expected = [
        (*locate(text, *at), f"{RULES[code].severity} {code}: {says}") for at, says in reports
    ]
    assert [str(f) for f in findings if f.code == code] == [
        f"pledge.yaml:{line}:{column}: {message}" for line, column, message in sorted(expected)
    ]
    assert {f.code for f in findings} == {code, *also}


@pytest.mark.parametrize(("code", "edits", "also"), QUIET)
def test_rule_stays_quiet_on_the_near_miss(
    code: str, edits: tuple[Edit, ...], also: frozenset[str], revised: Callable[..., str]
) -> None:
    """The rule says nothing about a declaration that just avoids what it is about."""
    findings = lint(pledge.loads(revised(*edits)))
    assert {f.code for f in findings} == set(also)


def test_every_rule_has_a_case_where_it_fires_and_one_where_it_stays_quiet() -> None:
    """A new rule fails this test until cases for it are added above."""
    firing = {case.values[0] for case in FIRES}
    quieting = {case.values[0] for case in QUIET}
    assert set(RULES) - firing == set(), "rules without a case where they fire"
    assert set(RULES) - quieting == set(), "rules without a case where they stay quiet"
    assert (firing | quieting) - set(RULES) == set(), "cases for rules that do not exist"


def test_only_the_chosen_rules_are_warnings() -> None:
    """Severities are deliberate: errors fail `pledge check`, warnings only with --strict."""
    warnings = {code for code, rule in RULES.items() if rule.severity is Severity.WARNING}
    assert warnings == {
        "C402", "C404", "D703", "D704", "G309", "G310", "G312", "G313", "K502", "K503",
        "P104", "P105", "P106", "P108", "P109", "T203", "T204", "T205", "Y602",
    }  # fmt: skip


def test_every_rule_explains_itself() -> None:
    """Each rule has a lowercase kebab-case name and a one-sentence summary of its rationale."""
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.name.replace("-", "").isalnum() and rule.name.islower(), code
        assert rule.summary.endswith("."), code


def test_ignored_codes_are_not_reported(revised: Callable[..., str]) -> None:
    """``ignore=`` skips exactly the codes given; unknown codes are harmless."""
    text = revised(
        drop(NEWSLETTER_RETENTION),
        drop(COOKIE_DURATION),
        swap(PUBLISHED, "  published_date: 2025-02-15\n"),
    )
    declaration = pledge.loads(text)
    assert {f.code for f in lint(declaration)} == {"P102", "K502", "G313"}
    assert {f.code for f in lint(declaration, ignore=["P102", "G313", "Z999"])} == {"K502"}
    assert lint(declaration, ignore=iter(["P102", "K502", "G313"])) == []


def test_findings_are_sorted_by_position_then_code(revised: Callable[..., str]) -> None:
    """Findings come in file order; two at the same key are ordered by code."""
    text = revised(
        drop(NEWSLETTER_RETENTION),
        swap(RESPONSE_TIME, "  response_time: P2M\n"),
        drop(INTEREST),
        drop(LIA),
    )
    findings = lint(pledge.loads(text))
    assert [f.code for f in findings] == ["P107", "P108", "P102", "G311"]
    positions = [(f.line, f.column) for f in findings]
    assert positions == sorted(positions)


def test_findings_name_the_file_and_path_of_the_declaration(clean_yaml: str) -> None:
    """The file given to ``loads`` is the file a lint finding names, with the dotted path."""
    findings = lint(pledge.loads(clean_yaml.replace(COOKIE_DURATION, ""), file="cfg/privacy.yml"))
    assert [(f.file, f.path) for f in findings] == [("cfg/privacy.yml", ("cookies", "_pk_id"))]
    assert findings[0].to_dict()["path"] == "cookies._pk_id"

"""The five seed companies: each real privacy policy, expressed as a declaration, must load,
render every practice the original states, and lint the gaps the original leaves (and none
of what it does say).

The phrases asserted below come from the values written in ``examples/<slug>/pledge.yaml``
(labels, descriptions, names, numbers) or from the built-in category labels, not from the
renderer's own wording, so the renderer may phrase its sentences as it likes. Rights are the
exception: they are an enumeration the renderer must word itself, so several usual names of
each right are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

import pledge
from pledge import Declaration, Finding

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Phrase = str | tuple[str, ...]
"""Text the rendered policy must contain; a tuple accepts any one of its alternatives."""

Gap = tuple[str, tuple[str, ...]]
"""A lint code and the path its finding must start with (empty: anywhere)."""


@dataclass(frozen=True)
class Seed:
    """One seed company: its declaration and what its original policy says and leaves out."""

    slug: str
    name: str
    version: str
    practices: list[Phrase]
    gaps: list[Gap]
    silent: list[Gap] = field(default_factory=list)


def _each(code: str, section: str, *keys: str) -> list[Gap]:
    return [(code, (section, key)) for key in keys]


def _anywhere(*codes: str) -> list[Gap]:
    return [(code, ()) for code in codes]


# Rights are values of an enumeration, so the renderer words them itself: each accepts the
# usual names of the right or the article that grants it.
ACCESS = ("right of access", "right to access", "access your data", "see your data", "art. 15")
CORRECTION = ("rectif", "correct", "art. 16")
DELETION = ("erase", "erasure", "delete", "art. 17")
OBJECTION = ("object", "art. 21")
WITHDRAWAL = ("withdraw", "art. 7")
UNSUBSCRIBE = ("unsubscribe",)

CLOUDWARM = Seed(
    slug="cloudwarm",
    name="Cloudwarm",
    version="2026-11-22",
    practices=[
        # contact: the customer line and its hours
        "400 033 8803",
        "Monday to Friday",
        "17:30",
        # aggregated usage and temperature telemetry
        "Use of the app and web site",
        "temperature changes",
        "operation steps",
        ("Aggregated statistics", "Aggregated data"),
        # visit logs and what is derived from them
        "IP address",
        "Operating system",
        "Browser",
        "Network provider",
        "Approximate location",
        "Find out which areas of the app and the web site are used most",
        "Promotion effectiveness",
        # registration: address and phone, some required, most optional
        "Registration for the Cloudwarm app service",
        "Postal address",
        "Phone number",
        "Some are required and most are optional",
        "Outside-temperature analysis",
        "analyse the outside temperature",
        "Better service to the user",
        # partners, bound to the policy
        "Services offered with partners",
        "Partner organisations offering services jointly with Cloudwarm",
        "handle the data as this privacy policy describes",
        # the only grounds for disclosure
        "prior authorisation or consent",
        "In an emergency",
        "public security",
        "When the law requires it",
        "court or another government body",
        "enforce the terms of Cloudwarm services",
        "other situations Cloudwarm deems necessary",
        # users see, correct and delete their data at any time
        "view, correct, edit and delete their own details",
        ACCESS,
        CORRECTION,
        DELETION,
    ],
    gaps=[
        *_each(
            "G303",
            "purposes",
            "analytics",
            "audience_measurement",
            "outside_temperature",
            "better_service",
            "joint_services",
        ),
        *_each(
            "P102",
            "purposes",
            "analytics",
            "audience_measurement",
            "outside_temperature",
            "better_service",
            "joint_services",
        ),
        ("T203", ("recipients", "partners")),
        *_anywhere("C401", "G304", "G309", "G310", "G312", "Y601"),
    ],
    silent=[*_anywhere("G305", "P104", "P105", "K503", "T205")],
)

CLOUDOPT = Seed(
    slug="cloudopt",
    name="Cloudopt",
    version="2019-01",
    practices=[
        "support@cloudopt.net",
        ("2019-01-20", "20 January 2019", "January 20, 2019", "20.01.2019"),
        # account, notifications and social login
        "Email address",
        "Phone number",
        "Social login profile",
        "Nickname",
        "Gender",
        "such as WeChat",
        "Updates and notices",
        "changes to Cloudopt products, services or terms",
        # content and cloud synchronisation
        "Content created or uploaded",
        "Cloud synchronisation",
        # device data, anonymous and not linked to identity
        "App, browser and device information",
        ("Anonymous telemetry", "Aggregated data"),
        "collected anonymously and never linked to the",
        "Automatic updates and language",
        "Troubleshooting",
        "Usage analysis",
        # login verified by e-mail
        "Account security",
        "through the e-mail address",
        # permission prompts that state their purpose; revoking stops collection
        "Features behind a permission prompt",
        "a prompt or pop-up that states its purpose",
        "collection and use stop when the permission is revoked",
        WITHDRAWAL,
        # cookies and third-party analytics
        "Tells visitors apart",
        "Google Analytics",
        "Measures visits to the Cloudopt web site",
        # sharing
        "national defence",
        "criminal investigations",
        "fraud, security and technical problems",
        "Parties to agreements signed at the",
        "e-mail verification code",
        # security and breach notice
        "HTTPS",
        "web application firewall",
        "Passwords and other highly important data are strongly encrypted",
        "contingency plan",
    ],
    gaps=[
        *_each(
            "G303",
            "purposes",
            "account_management",
            "service_communications",
            "sync",
            "security",
            "analytics",
            "browsing_experience",
        ),
        *_each(
            "P102",
            "purposes",
            "account_management",
            "service_communications",
            "sync",
            "security",
            "analytics",
            "browsing_experience",
        ),
        ("P106", ("purposes", "permission_features")),
        ("K501", ("cookies", "analytics*")),
        *_each("K502", "cookies", "visitor_recognition*", "analytics*"),
        *_each("T203", "recipients", "google_analytics", "agreement_parties"),
        ("T205", ("recipients", "agreement_parties")),
        *_anywhere("C401", "G304", "G309", "G310", "G312", "Y601"),
    ],
    silent=[
        ("G303", ("purposes", "permission_features")),
        *_anywhere("G305", "P104", "P105", "K503"),
    ],
)

CLOUDWALK = Seed(
    slug="cloudwalk",
    name="CloudWalk",
    version="2024-03-28",
    practices=[
        "zhangyang@cloudwalk.com",
        "chatbot.cloudwalk.com",
        # account and user content
        "Username",
        "Credentials",
        "Account settings",
        "Text inputs",
        "Uploaded files",
        "Feedback",
        "Email content",
        "Purchase history",
        # the purposes of the policy
        "Account management",
        "Provide the service",
        "Purchases and other contracts",
        "General communication",
        "Answers to questions and comments",
        "Data analysis and usage trends",
        "Promotional campaign effectiveness",
        "Product improvement",
        "Targeted advertising",
        "Prevention of prohibited activity",
        "Terms of Use enforcement",
        "Legal compliance",
        "Dispute resolution",
        # the four kinds of source
        "Activity on the service",
        "Usage and content-generation data",
        "analytics, advertising, targeted-advertising and payment-processing vendors",
        # cookies
        "Recognises the",
        "by how many people",
        # vendors
        "Agents and third-party vendors",
        # children under 13 (or 16): deletion on report
        "under 13 (or 16)",
        "report it with enough detail",
        # security
        "Generally accepted standards",
        "intact, secure and confidential",
        "Firewalls",
        "Encryption technologies",
        "Intrusion detection systems",
        # changes announced by e-mail or a notice
        ("e-mail", "email"),
    ],
    gaps=[
        *_each(
            "G303",
            "purposes",
            "account_management",
            "provide_service",
            "contract_performance",
            "communication",
            "customer_support",
            "analytics",
            "audience_measurement",
            "product_improvement",
            "targeted_advertising",
            "fraud_prevention",
            "terms_enforcement",
            "legal_compliance",
            "legal_claims",
        ),
        *_each(
            "P102",
            "purposes",
            "account_management",
            "provide_service",
            "contract_performance",
            "communication",
            "customer_support",
            "analytics",
            "product_improvement",
            "targeted_advertising",
        ),
        *_each(
            "P106",
            "purposes",
            "fraud_prevention",
            "terms_enforcement",
            "legal_compliance",
            "legal_claims",
        ),
        ("T203", ("recipients", "vendors")),
        ("T205", ("recipients", "vendors")),
        ("K501", ("cookies", "visit_measurement*")),
        *_each("K502", "cookies", "device_recognition*", "visit_measurement*"),
        ("C403", ("purposes", "targeted_advertising")),
        *_anywhere("C401", "G304", "G309", "G310"),
    ],
    silent=[*_anywhere("Y601", "G312", "P104", "P105", "K503")],
)

CLOUD_EXPERTS = Seed(
    slug="cloud-experts",
    name="Cloud Experts",
    version="2026-11-22",
    practices=[
        "cloudexperts.tech",
        # what is received automatically and observed
        "Service access records",
        "IP address",
        "Access times",
        "Browser",
        "Device language",
        "Referrer",
        "Operating system",
        "Account activity",
        "Files and pages accessed or used",
        "Service enhancement",
        "Personal care",
        # customers and leads of the last 12 months
        "last 12 months",
        "Information on offers",
        "events and promotions",
        # processors: maintenance, database, analytics, invoicing; Azure in India
        "Maintenance service providers",
        "Database management providers",
        "Web analytics providers",
        "Invoice payment processors",
        "Invoice payments",
        "Analysis of use for business needs",
        "Microsoft Azure",
        "Azure data centres in India",
        "Cloud Experts parent company",
        # legal disclosures and notice on a merger or acquisition
        "comply with a court order",
        "regulatory and government authorities",
        "legal action, claim or dispute",
        "enforce the Terms of Service",
        "imminent physical harm",
        "acquisition, merger, consolidation",
        # rights: know what is processed, see and update, delete
        "see and update the data in their account",
        ACCESS,
        CORRECTION,
        DELETION,
        # security
        "individual username and password",
        "never asks for a password",
        "loss, misuse and unauthorised access",
    ],
    gaps=[
        *_each(
            "G303",
            "purposes",
            "provide_service",
            "product_improvement",
            "personal_care",
            "offers",
            "analytics",
            "billing_invoicing",
        ),
        *_each(
            "P102",
            "purposes",
            "provide_service",
            "product_improvement",
            "personal_care",
            "billing_invoicing",
        ),
        *_each("P106", "purposes", "offers", "analytics"),
        ("P104", ("collection", "access_logs")),
        ("P101", ()),
        *_each(
            "T203",
            "recipients",
            "maintenance_providers",
            "database_providers",
            "analytics_providers",
            "invoicing_providers",
            "parent_company",
        ),
        ("T205", ("recipients", "parent_company")),
        *_anywhere("C401", "G301", "G304", "G309", "G310", "G312", "Y601"),
    ],
    silent=[
        ("T203", ("recipients", "microsoft_azure")),
        *_anywhere("G305", "P105", "T204"),
    ],
)

CLOUDMILE = Seed(
    slug="cloudmile",
    name="CloudMile",
    version="v1.0",
    practices=[
        "CloudMile Inc.",
        "+886-2-2757-6077",
        "mile.cloud",
        # personal data, given voluntarily
        "Personal data given on the site",
        "Given only voluntarily",
        "may not be able to take part in the related activities",
        "Name",
        "Username",
        "Postal address",
        "Email address",
        "Phone number",
        # purposes, bounded by time period, area and recipients
        "Better services",
        "Replies to users",
        "Personalised experience",
        "until the user asks CloudMile to stop using it",
        "CloudMile subsidiaries and branches",
        # newsletters with immediate unsubscription
        "E-newsletters and marketing campaigns",
        "explains how to unsubscribe",
        "removed from the mailing list at once",
        # events: lotteries, contests, surveys
        "Special events",
        "lotteries, contests, questionnaire interviews",
        "Event participation",
        "Survey answers",
        # logs, cookies and advertising
        "Crash and error reports",
        "IP address",
        "Non-personal data",
        "does not identify the user",
        "Records browsing history",
        "Third-party advertisers",
        "recognise the computer each time they send an ad",
        # sharing: processors, affiliates, aggregated statistics to partners
        "e-newsletter and survey senders",
        "Business partners, trusted affiliates and advertisers",
        "Aggregated statistics",
        "Personal data goes to other third parties only with the",
        # rights: review, copy, supplement or correct, stop processing, delete
        ACCESS,
        CORRECTION,
        DELETION,
        OBJECTION,
        UNSUBSCRIBE,
        # security and staff informed of the policy
        "unauthorised access, alteration, disclosure or destruction",
        "Employees are told about this policy",
    ],
    gaps=[
        *_each(
            "G303",
            "purposes",
            "provide_service",
            "communication",
            "personalisation",
            "newsletter",
            "promotions_events",
            "targeted_advertising",
        ),
        *_each("P102", "purposes", "provide_service", "targeted_advertising"),
        *_each(
            "T203",
            "recipients",
            "cloudmile_group",
            "service_providers",
            "partners_and_advertisers",
            "advertisers",
        ),
        ("K501", ("cookies", "advertising*")),
        *_each("K502", "cookies", "experience*", "advertising*"),
        ("C402", ("cookies", "advertising*")),
        ("C403", ("purposes", "targeted_advertising")),
        *_anywhere("G304", "G309", "G310", "G312", "Y601"),
    ],
    silent=[
        *_each(
            "P102",
            "purposes",
            "communication",
            "personalisation",
            "newsletter",
            "promotions_events",
        ),
        *_anywhere("G305", "G306", "P105", "K503", "T205"),
    ],
)

SEEDS = [CLOUDWARM, CLOUDOPT, CLOUDWALK, CLOUD_EXPERTS, CLOUDMILE]
BY_SLUG = pytest.mark.parametrize("seed", SEEDS, ids=[seed.slug for seed in SEEDS])


@cache
def _declaration(slug: str) -> Declaration:
    return pledge.load(EXAMPLES / slug / "pledge.yaml")


@cache
def _rendered(slug: str, fmt: str) -> str:
    from pledge.render import render_policy

    return render_policy(_declaration(slug), fmt=fmt)


def _plain(markdown: str) -> str:
    """The text as a reader sees it: escapes removed, whitespace collapsed, lower case."""
    return re.sub(r"\s+", " ", re.sub(r"\\(.)", r"\1", markdown)).casefold()


def _lint(slug: str) -> list[Finding]:
    from pledge.declaration.lint import lint

    return lint(_declaration(slug))


def _reported(findings: list[Finding], gap: Gap) -> bool:
    code, prefix = gap
    return any(f.code == code and tuple(f.path[: len(prefix)]) == prefix for f in findings)


def _show(gap: Gap) -> str:
    code, prefix = gap
    return f"{code} at {'.'.join(prefix)}" if prefix else code


@BY_SLUG
def test_seed_declaration_loads(seed: Seed) -> None:
    """The seed's pledge.yaml loads as a valid declaration of the right company."""
    declaration = _declaration(seed.slug)

    assert declaration.controller.name == seed.name
    assert declaration.policy.version == seed.version


@BY_SLUG
@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_seed_renders_with_company_name_and_version(seed: Seed, fmt: str) -> None:
    """The seed's policy renders to Markdown and HTML naming the company and the version."""
    text = _rendered(seed.slug, fmt)

    assert text.strip()
    assert seed.name in text
    assert seed.version in text


@BY_SLUG
def test_rendered_policy_states_every_practice_of_the_original(seed: Seed) -> None:
    """Every practice the original policy states appears in the rendered Markdown."""
    text = _plain(_rendered(seed.slug, "markdown"))

    missing = [
        phrase
        for phrase in seed.practices
        if not any(
            alternative.casefold() in text
            for alternative in (phrase if isinstance(phrase, tuple) else (phrase,))
        )
    ]

    assert not missing, f"{seed.slug}: the rendered policy does not state {missing}"


@BY_SLUG
def test_lint_reports_the_gaps_the_original_leaves(seed: Seed) -> None:
    """Lint reports each gap of the original policy, by code and location."""
    findings = _lint(seed.slug)

    missing = [_show(gap) for gap in seed.gaps if not _reported(findings, gap)]

    assert not missing, f"{seed.slug}: lint did not report {missing}"


@BY_SLUG
def test_lint_stays_silent_on_what_the_original_states(seed: Seed) -> None:
    """Lint reports no gap where the original policy does give the information."""
    findings = _lint(seed.slug)

    wrong = [
        str(finding) for gap in seed.silent for finding in findings if _reported([finding], gap)
    ]

    assert not wrong, f"{seed.slug}: lint reported what the policy states: {wrong}"

"""The words of the rendered policy: how each enumeration value of the declaration reads.

One table per vocabulary, so that wording is reviewed in one place and every value of every
enumeration has its sentence (a test holds the tables complete).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

import yaml

from pledge.declaration.duration import EVENT_PHRASES, Duration, RetentionEvent
from pledge.declaration.model import (
    CookieCategory,
    Declaration,
    DisclosureGround,
    LegalBasis,
    NoticeChannel,
    RecipientRole,
    Requirement,
    Retention,
    Right,
    Safeguard,
    Source,
)

NOT_STATED = "not stated"
"""What the policy says where the law requires a statement the declaration does not make."""

LEGAL_BASIS_LABELS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: "Consent (GDPR Art. 6(1)(a))",
    LegalBasis.CONTRACT: "Contract (GDPR Art. 6(1)(b))",
    LegalBasis.LEGAL_OBLIGATION: "Legal obligation (GDPR Art. 6(1)(c))",
    LegalBasis.VITAL_INTERESTS: "Vital interests (GDPR Art. 6(1)(d))",
    LegalBasis.PUBLIC_TASK: "Public task (GDPR Art. 6(1)(e))",
    LegalBasis.LEGITIMATE_INTERESTS: "Legitimate interests (GDPR Art. 6(1)(f))",
}

LEGAL_BASIS_EXPLANATIONS: dict[LegalBasis, str] = {
    LegalBasis.CONSENT: (
        "We rely on your consent (GDPR Art. 6(1)(a)). We do this only if you agree, and you can"
        " withdraw your consent at any time; withdrawing does not affect what we did before."
    ),
    LegalBasis.CONTRACT: (
        "We rely on our contract with you (GDPR Art. 6(1)(b)). We need this data to provide the"
        " service you asked for, or to take steps you asked for before entering into a contract."
    ),
    LegalBasis.LEGAL_OBLIGATION: (
        "We rely on a legal obligation (GDPR Art. 6(1)(c)). The law requires us to do this."
    ),
    LegalBasis.VITAL_INTERESTS: (
        "We rely on vital interests (GDPR Art. 6(1)(d)). We need to do this to protect your life"
        " or someone else's."
    ),
    LegalBasis.PUBLIC_TASK: (
        "We rely on a public task (GDPR Art. 6(1)(e)). We need to do this to carry out a task in"
        " the public interest or in the exercise of official authority given to us."
    ),
    LegalBasis.LEGITIMATE_INTERESTS: (
        "We rely on our legitimate interests (GDPR Art. 6(1)(f)). We do this because it is"
        " necessary for the interest described here, as long as your interests and fundamental"
        " rights do not override it. You have the right to object."
    ),
}

SOURCE_SENTENCES: dict[Source, str] = {
    Source.DIRECT: "You give us this data yourself.",
    Source.OBSERVED: "We collect this data by observing how you use our service.",
    Source.AUTOMATIC: "Your device or browser sends us this data automatically.",
    Source.THIRD_PARTY: "We receive this data from someone else.",
}

SOURCE_LABELS: dict[Source, str] = {
    Source.DIRECT: "From you",
    Source.OBSERVED: "From how you use the service",
    Source.AUTOMATIC: "From your device or browser",
    Source.THIRD_PARTY: "From others",
}

REQUIREMENT_SENTENCES: dict[Requirement, str] = {
    Requirement.STATUTORY: "The law requires you to provide the required fields.",
    Requirement.CONTRACTUAL: "Our contract with you requires you to provide the required fields.",
    Requirement.CONTRACT_ENTRY: ("We need the required fields to enter into a contract with you."),
    Requirement.VOLUNTARY: "You do not have to provide any of this data.",
}

ROLE_TITLES: dict[RecipientRole, str] = {
    RecipientRole.PROCESSOR: "Service providers working for us",
    RecipientRole.AFFILIATE: "Companies in our group",
    RecipientRole.THIRD_PARTY: "Other organisations",
    RecipientRole.AUTHORITY: "Public authorities",
}

ROLE_SENTENCES: dict[RecipientRole, str] = {
    RecipientRole.PROCESSOR: (
        "These service providers (processors) handle your data on our behalf and only on our"
        " instructions."
    ),
    RecipientRole.AFFILIATE: "These companies belong to the same group as we do.",
    RecipientRole.THIRD_PARTY: (
        "These organisations receive your data and decide themselves how to use it (third parties)."
    ),
    RecipientRole.AUTHORITY: "These public authorities receive your data.",
}

ROLE_LABELS: dict[RecipientRole, str] = {
    RecipientRole.PROCESSOR: "processor",
    RecipientRole.AFFILIATE: "affiliate",
    RecipientRole.THIRD_PARTY: "third party",
    RecipientRole.AUTHORITY: "public authority",
}

DISCLOSURE_GROUNDS: dict[DisclosureGround, str] = {
    DisclosureGround.CONSENT: "When you have asked us to, or agreed to it.",
    DisclosureGround.LEGAL_OBLIGATION: "When the law requires us to.",
    DisclosureGround.COURT_ORDER: "When a court or another competent authority orders us to.",
    DisclosureGround.VITAL_INTERESTS: "In an emergency, to protect your life or someone else's.",
    DisclosureGround.PUBLIC_INTEREST: "When it is needed for a task in the public interest.",
    DisclosureGround.ENFORCE_TERMS: "To enforce our terms of service.",
    DisclosureGround.LEGAL_CLAIMS: "To establish, exercise or defend legal claims.",
    DisclosureGround.FRAUD_AND_SECURITY: (
        "To prevent fraud, or to protect the security of our service and its users."
    ),
    DisclosureGround.MERGER_OR_ACQUISITION: (
        "If our company, or part of it, merges with or is acquired by another company."
    ),
}

SAFEGUARDS: dict[Safeguard, str] = {
    Safeguard.ADEQUACY: (
        "an adequacy decision: the European Commission has decided that this country protects"
        " personal data adequately (GDPR Art. 45)"
    ),
    Safeguard.STANDARD_CONTRACTUAL_CLAUSES: (
        "standard contractual clauses approved by the European Commission (GDPR Art. 46(2)(c))"
    ),
    Safeguard.BINDING_CORPORATE_RULES: "binding corporate rules (GDPR Art. 47)",
    Safeguard.CERTIFICATION: "an approved certification mechanism (GDPR Art. 46(2)(f))",
    Safeguard.CODE_OF_CONDUCT: "an approved code of conduct (GDPR Art. 46(2)(e))",
    Safeguard.EXPLICIT_CONSENT: (
        "your explicit consent, given after we told you about the possible risks"
        " (GDPR Art. 49(1)(a))"
    ),
    Safeguard.CONTRACT_NECESSITY: (
        "necessity: the transfer is needed to perform our contract with you (GDPR Art. 49(1)(b))"
    ),
}

COOKIE_CATEGORIES: dict[CookieCategory, str] = {
    CookieCategory.STRICTLY_NECESSARY: "Strictly necessary",
    CookieCategory.FUNCTIONAL: "Functional",
    CookieCategory.ANALYTICS: "Analytics",
    CookieCategory.ADVERTISING: "Advertising",
}

NOTICE_CHANNELS: dict[NoticeChannel, str] = {
    NoticeChannel.EMAIL: "by e-mail",
    NoticeChannel.NOTICE: "with a prominent notice on our service",
    NoticeChannel.IN_APP: "with a message in the app",
    NoticeChannel.POST: "by post",
    NoticeChannel.SMS: "by text message",
}

RIGHT_LABELS: dict[Right, str] = {
    Right.ACCESS: "See your data and get a copy",
    Right.RECTIFICATION: "Correct your data",
    Right.ERASURE: "Delete your data",
    Right.RESTRICTION: "Restrict how we use your data",
    Right.PORTABILITY: "Take your data elsewhere",
    Right.OBJECTION: "Object",
    Right.WITHDRAW_CONSENT: "Withdraw your consent",
    Right.COMPLAINT: "Complain to a supervisory authority",
    Right.OPT_OUT_OF_SALE: "Opt out of selling and sharing",
    Right.LIMIT_SENSITIVE: "Limit the use of sensitive personal information",
    Right.NON_DISCRIMINATION: "Equal treatment",
    Right.UNSUBSCRIBE: "Unsubscribe",
}

RIGHT_EXPLANATIONS: dict[Right, str] = {
    Right.ACCESS: (
        "You can ask whether we process personal data about you, and get a copy of it together"
        " with what this policy tells you about how we use it (GDPR Art. 15; CCPA right to"
        " know)."
    ),
    Right.RECTIFICATION: (
        "You can ask us to correct data about you that is inaccurate, and to complete data that"
        " is incomplete (GDPR Art. 16; CCPA right to correct)."
    ),
    Right.ERASURE: (
        "You can ask us to delete personal data about you. We will, unless the law requires or"
        " allows us to keep it, for example to meet a legal obligation or to establish, exercise"
        " or defend legal claims (GDPR Art. 17; CCPA right to delete)."
    ),
    Right.RESTRICTION: (
        "You can ask us to stop using your data, except to store it, for example while we check"
        " a correction you asked for or an objection you made (GDPR Art. 18)."
    ),
    Right.PORTABILITY: (
        "You can receive the data you gave us in a structured, commonly used, machine-readable"
        " format, or ask us to send it directly to another company where that is technically"
        " feasible. This covers data we process on the basis of your consent or our contract"
        " with you (GDPR Art. 20)."
    ),
    Right.OBJECTION: (
        "You can object at any time to processing based on our legitimate interests or a public"
        " task; we will then stop unless we have compelling legitimate grounds. If you object"
        " to direct marketing, we will always stop (GDPR Art. 21)."
    ),
    Right.WITHDRAW_CONSENT: (
        "Where we rely on your consent, you can withdraw it at any time, as easily as you gave"
        " it. Withdrawing does not affect the lawfulness of what we did before (GDPR Art. 7(3))."
    ),
    Right.COMPLAINT: (
        "You can complain to a data protection supervisory authority, in particular in the"
        " country where you live or work, or where you think the law was broken (GDPR Art. 77)."
    ),
    Right.OPT_OUT_OF_SALE: (
        "You can tell us not to sell or share your personal information (CCPA 1798.120)."
    ),
    Right.LIMIT_SENSITIVE: (
        "You can tell us to use and disclose your sensitive personal information only as far as"
        " needed to provide the service you asked for (CCPA 1798.121)."
    ),
    Right.NON_DISCRIMINATION: (
        "We will not treat you differently, for example by charging you more or giving you a"
        " lesser service, because you exercised your privacy rights (CCPA 1798.125)."
    ),
    Right.UNSUBSCRIBE: "You can unsubscribe from our marketing messages at any time.",
}


def retention_text(retention: Retention | None) -> str:
    """How long data is kept, in words: "2 years after your account is closed".

    Args:
        retention: the declared rule, or None.

    Returns:
        The phrase, or "not stated".
    """
    if retention is None:
        return NOT_STATED
    event = EVENT_PHRASES[retention.after]
    if retention.period.days == 0:
        if retention.after is RetentionEvent.COLLECTION:
            return "not kept"
        return "until " + event.removeprefix("after ")
    return f"{retention.period.describe()} {event}"


def duration_text(duration: Duration | str | None) -> str:
    """How long a cookie lasts, in words.

    Args:
        duration: an ISO 8601 duration, ``"session"``, or None.

    Returns:
        The phrase, or "not stated".
    """
    if duration is None:
        return NOT_STATED
    if isinstance(duration, Duration):
        return duration.describe()
    return "until you close your browser"


@cache
def _countries() -> tuple[dict[str, str], frozenset[str]]:
    data = resources.files("pledge.render").joinpath("data", "countries.yaml").read_text("utf-8")
    parsed = yaml.safe_load(data)
    names = {str(code): str(name) for code, name in parsed["names"].items()}
    return names, frozenset(str(code) for code in parsed["with_article"])


def country_name(code: str) -> str:
    """The English name of a country, e.g. ``DE`` → "Germany" (the code itself when unknown).

    Args:
        code: an ISO 3166-1 alpha-2 code.

    Returns:
        The name.
    """
    return _countries()[0].get(code, code)


def country_in_sentence(code: str) -> str:
    """A country's name as it reads in a sentence: "the United States", "Germany".

    Args:
        code: an ISO 3166-1 alpha-2 code.

    Returns:
        The name, with "the" where English needs it.
    """
    name = country_name(code)
    return f"the {name}" if code in _countries()[1] else name


def humanise(key: str) -> str:
    """A readable label from a key: ``encryption_at_rest`` → "Encryption at rest".

    Args:
        key: a declaration key.

    Returns:
        The label.
    """
    return key.replace("_", " ").replace(".", " ").capitalize()


def sentence(phrase: str) -> str:
    """``phrase`` with a capital first letter and a final full stop.

    Args:
        phrase: a phrase such as "2 years after it is collected".

    Returns:
        The sentence.
    """
    phrase = phrase.strip()
    if not phrase:
        return phrase
    phrase = phrase[0].upper() + phrase[1:]
    return phrase if phrase[-1] in ".!?" else phrase + "."


def slug(key: str) -> str:
    """An anchor-friendly form of a key: ``contact_form`` → ``contact-form``.

    Args:
        key: a declaration key.

    Returns:
        The slug.
    """
    return key.replace("_", "-").replace(".", "-")


def category_label(declaration: Declaration, key: str) -> str:
    """A category's label, marked when it is sensitive: "Health data (sensitive)".

    Args:
        declaration: the declaration, whose taxonomy names the category.
        key: the category's key.

    Returns:
        The label.
    """
    label = declaration.taxonomy.label(key)
    return f"{label} (sensitive)" if declaration.taxonomy.is_sensitive(key) else label


def category_labels(declaration: Declaration, keys: Iterable[str]) -> str:
    """Categories' labels as a comma-separated phrase, or "not stated" when there are none.

    Args:
        declaration: the declaration.
        keys: category keys.

    Returns:
        The phrase.
    """
    labels = [category_label(declaration, key) for key in keys]
    return ", ".join(labels) if labels else NOT_STATED


def purpose_labels(declaration: Declaration, keys: Iterable[str]) -> str:
    """Purposes' labels as a comma-separated phrase, or "not stated" when there are none.

    Args:
        declaration: the declaration.
        keys: purpose keys.

    Returns:
        The phrase.
    """
    labels = [declaration.purposes[key].label for key in keys if key in declaration.purposes]
    return ", ".join(labels) if labels else NOT_STATED

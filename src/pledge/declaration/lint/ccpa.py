"""Lint rules C4xx (CCPA notice at collection) and K5xx (cookies, ePrivacy Art. 5(3))."""

from __future__ import annotations

from collections.abc import Iterator

from pledge.declaration.findings import Severity
from pledge.declaration.lint.registry import Issue, rule
from pledge.declaration.model import CookieCategory, Declaration, LegalBasis, RecipientRole, Right


@rule("C401", "retention-per-category")
def _retention_per_category(d: Declaration) -> Iterator[Issue]:
    """Every collected category has a retention period.

    CCPA 1798.100(a)(3): the notice at collection states, for each category of personal
    information, how long it is kept (or the criteria used). A category is covered when at
    least one purpose that uses it has a retention.
    """
    for category, places in d.collected_categories().items():
        users = d.purposes_using(category)
        if users and all(d.purposes[key].retention is None for key in users):
            point, field = places[0]
            yield (
                ("collection", point, "fields", field, "category"),
                f"no retention period for '{category}': none of its purposes has one",
            )


@rule("C402", "sharing-undeclared", Severity.WARNING)
def _sharing_undeclared(d: Declaration) -> Iterator[Issue]:
    """Disclosures that look like selling or sharing are declared as such.

    CCPA 1798.140(ah): disclosing personal information to a third party for cross-context
    behavioural advertising is "sharing", whether or not money changes hands. Targeted
    advertising purposes, third-party advertising cookies and third parties receiving data for
    advertising are the usual signs.
    """
    declared = any(p.sale_or_sharing for p in d.purposes.values())
    if declared:
        return
    for key, purpose in d.purposes.items():
        if purpose.targeted_advertising:
            yield (
                ("purposes", key),
                f"purpose '{key}' targets advertising but is not marked sale_or_sharing;"
                " advertising based on activity across services is 'sharing' under CCPA",
            )
    for name, cookie in d.cookies.items():
        if cookie.category is CookieCategory.ADVERTISING and cookie.third_party:
            yield (
                ("cookies", name),
                f"third-party advertising cookie '{name}' suggests sharing,"
                " but no purpose is marked sale_or_sharing",
            )
    for key, recipient in d.recipients.items():
        if recipient.role is RecipientRole.THIRD_PARTY and any(
            d.purposes[p].targeted_advertising for p in recipient.purposes
        ):
            yield (
                ("recipients", key),
                f"third party '{key}' receives data for advertising,"
                " but no purpose is marked sale_or_sharing",
            )


@rule("C403", "opt-out-missing")
def _opt_out_missing(d: Declaration) -> Iterator[Issue]:
    """Selling, sharing or targeted advertising comes with the right to opt out.

    CCPA 1798.120 and 1798.135: a "Do Not Sell or Share My Personal Information" opt-out,
    which Pledge also takes from Global Privacy Control signals.
    """
    offered = set(d.rights.offered) if d.rights else set()
    for key, purpose in d.purposes.items():
        if (
            purpose.sale_or_sharing or purpose.targeted_advertising
        ) and Right.OPT_OUT_OF_SALE not in offered:
            yield (
                ("purposes", key),
                f"purpose '{key}' sells, shares or targets ads, but opt_out_of_sale is not offered",
            )


@rule("C404", "limit-sensitive-missing", Severity.WARNING)
def _limit_sensitive(d: Declaration) -> Iterator[Issue]:
    """Sensitive personal information comes with the right to limit its use.

    CCPA 1798.121: people may limit the use and disclosure of sensitive personal information.
    """
    offered = set(d.rights.offered) if d.rights else set()
    uses = [
        k for k, p in d.purposes.items() if any(d.taxonomy.is_sensitive(c) for c in p.categories)
    ]
    if uses and Right.LIMIT_SENSITIVE not in offered:
        yield ("purposes", uses[0]), "sensitive data is used, but limit_sensitive is not offered"


@rule("K501", "cookie-without-consent")
def _cookie_without_consent(d: Declaration) -> Iterator[Issue]:
    """A cookie that is not strictly necessary serves a consent purpose.

    ePrivacy Directive Art. 5(3): storing or reading information on a device needs prior
    consent unless strictly necessary for the service asked for; the EDPB cookie banner
    taskforce (2023) rejects legitimate interests for cookies.
    """
    for name, cookie in d.cookies.items():
        if cookie.category is CookieCategory.STRICTLY_NECESSARY or cookie.purpose is None:
            continue
        basis = d.purposes[cookie.purpose].legal_basis
        if basis is not LegalBasis.CONSENT:
            yield (
                ("cookies", name, "purpose"),
                f"{cookie.category} cookie '{name}' serves '{cookie.purpose}', which is not"
                " based on consent",
            )


@rule("K502", "cookie-duration-missing", Severity.WARNING)
def _cookie_duration(d: Declaration) -> Iterator[Issue]:
    """Every cookie states how long it lasts.

    EDPB Guidelines 05/2020 and CJEU Planet49 (C-673/17): the information given includes the
    duration of cookies and whether third parties can access them.
    """
    for name, cookie in d.cookies.items():
        if cookie.duration is None:
            yield ("cookies", name), f"cookie '{name}' has no duration"


@rule("K503", "cookie-purpose-missing", Severity.WARNING)
def _cookie_purpose(d: Declaration) -> Iterator[Issue]:
    """Every cookie names the declared purpose it serves.

    The banner asks consent per purpose, and consent can only be specific when each cookie is
    tied to one (GDPR Art. 4(11)).
    """
    for name, cookie in d.cookies.items():
        if cookie.purpose is None:
            yield ("cookies", name), f"cookie '{name}' names no purpose"

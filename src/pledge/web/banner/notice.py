"""What the cookie banner shows and records, worked out from the declaration alone.

Plain Python: no web framework. The banner groups the declared cookies by their category;
strictly necessary cookies are always on, the others (functional, analytics, advertising)
wait for a choice. A choice about a category is recorded in the consent ledger as a decision
about each purpose, based on consent, that the category's cookies serve.

Two values decide when the banner asks again: the policy version, and :func:`cookies_hash`,
a short digest of the declared cookie list. How long a choice lasts is the declared duration
of the banner's own cookie, ``pledge_consent`` (one year when it is not declared), or less when
a purpose behind a category declares a shorter ``consent_max_age``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pledge.declaration.duration import Duration
from pledge.declaration.model import Cookie, CookieCategory, Declaration, LegalBasis, Purpose

CONSENT_COOKIE = "pledge_consent"
"""The first-party cookie the banner keeps the device id and the choice in."""

DEFAULT_MAX_AGE = Duration.parse("P1Y")
"""How long a choice lasts when the declaration does not declare :data:`CONSENT_COOKIE`."""

CHOOSABLE = (CookieCategory.FUNCTIONAL, CookieCategory.ANALYTICS, CookieCategory.ADVERTISING)
"""The categories a person decides about; strictly necessary cookies need no consent."""

_SECONDS_PER_DAY = 86_400


def cookie_matches(pattern: str, name: str) -> bool:
    """Whether a declared cookie name covers ``name``: equal, or a prefix ending in ``*``.

    Args:
        pattern: the name as declared (``_ga*`` covers ``_ga`` and ``_ga_XYZ``).
        name: a cookie's name as the browser has it.

    Returns:
        True when the declaration's entry describes the cookie.
    """
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def cookies_hash(declaration: Declaration) -> str:
    """A short digest of the declared cookies: a change of the list makes the banner ask again.

    Every field of every cookie counts (name, provider, category, purpose, duration, third
    party, description): what the banner listed is what the person agreed to.

    Args:
        declaration: the declaration in force.

    Returns:
        16 lowercase hex digits (the first 64 bits of a SHA-256).
    """
    listed = {name: cookie.model_dump(mode="json") for name, cookie in declaration.cookies.items()}
    text = json.dumps(listed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def category_purposes(declaration: Declaration) -> dict[CookieCategory, tuple[str, ...]]:
    """Each choosable category with declared cookies → the consent purposes its cookies serve.

    A cookie whose purpose is not based on consent contributes no purpose (lint rule K501
    reports it): there is nothing the ledger could record for it.

    Args:
        declaration: the declaration in force.

    Returns:
        The categories in banner order, each with its purposes in declaration order.
    """
    found: dict[CookieCategory, dict[str, None]] = {}
    for cookie in declaration.cookies.values():
        if cookie.category not in CHOOSABLE:
            continue
        purposes = found.setdefault(cookie.category, {})
        purpose = declaration.purposes.get(cookie.purpose) if cookie.purpose else None
        if purpose is not None and purpose.legal_basis is LegalBasis.CONSENT:
            purposes[str(cookie.purpose)] = None
    return {category: tuple(found[category]) for category in CHOOSABLE if category in found}


def choice_max_age(declaration: Declaration) -> int | None:
    """How long a choice lasts, in seconds, before the banner asks again.

    The declared duration of the banner's own cookie, shortened to the ``consent_max_age`` of
    any purpose the banner records a choice about: the banner asks again before the ledger
    stops counting a grant.

    Args:
        declaration: the declaration in force.

    Returns:
        Seconds; None when the cookie is declared to last for the session only (and no
        purpose's consent expires).
    """
    declared = _own_cookie(declaration)
    limits: list[Duration] = []
    if declared is None or declared.duration is None:
        limits.append(DEFAULT_MAX_AGE)
    elif isinstance(declared.duration, Duration):
        limits.append(declared.duration)
    for purposes in category_purposes(declaration).values():
        for key in purposes:
            expiry = declaration.purposes[key].consent_max_age
            if expiry is not None:
                limits.append(expiry)
    if not limits:
        return None
    return round(min(limit.days for limit in limits) * _SECONDS_PER_DAY)


def _own_cookie(declaration: Declaration) -> Cookie | None:
    for pattern, cookie in declaration.cookies.items():
        if cookie_matches(pattern, CONSENT_COOKIE):
            return cookie
    return None


def _gpc_category(declaration: Declaration, category: CookieCategory) -> bool:
    """Whether a Global Privacy Control signal refuses the category: advertising, or a cookie
    serving a purpose declared as sale/sharing or targeted advertising."""
    if category is CookieCategory.ADVERTISING:
        return True
    for cookie in declaration.cookies.values():
        purpose = declaration.purposes.get(cookie.purpose) if cookie.purpose else None
        if cookie.category is category and purpose is not None and _opted_out_by_gpc(purpose):
            return True
    return False


def _opted_out_by_gpc(purpose: Purpose) -> bool:
    return purpose.sale_or_sharing or purpose.targeted_advertising


def _cookie_entry(declaration: Declaration, name: str, cookie: Cookie) -> dict[str, Any]:
    purpose = declaration.purposes.get(cookie.purpose) if cookie.purpose else None
    return {
        "name": name,
        "provider": cookie.provider,
        "purpose": purpose.label if purpose is not None else None,
        "duration": None if cookie.duration is None else str(cookie.duration),
        "thirdParty": cookie.third_party,
        "description": cookie.description,
    }


def banner_notice(declaration: Declaration) -> dict[str, Any]:
    """Everything the banner shows and needs to record a choice, as JSON-ready data.

    Args:
        declaration: the declaration in force.

    Returns:
        ``controller``, ``policyUrl``, ``version`` (the policy version), ``cookiesHash``,
        ``maxAge`` (seconds or None), ``cookie`` (the banner's cookie name) and
        ``categories``: strictly necessary first, then each choosable category that has
        declared cookies, with ``required``, ``gpc`` (refused under Global Privacy Control),
        ``recorded`` (it serves purposes based on consent), ``purposes`` and ``cookies``.
    """
    recorded = category_purposes(declaration)
    by_category: dict[CookieCategory, list[dict[str, Any]]] = {}
    for name, cookie in declaration.cookies.items():
        entry = _cookie_entry(declaration, name, cookie)
        by_category.setdefault(cookie.category, []).append(entry)
    necessary = by_category.setdefault(CookieCategory.STRICTLY_NECESSARY, [])
    if _own_cookie(declaration) is None:  # undeclared, yet set: listed all the same
        necessary.append(
            {
                "name": CONSENT_COOKIE,
                "provider": declaration.controller.name,
                "purpose": None,
                "duration": str(DEFAULT_MAX_AGE),
                "thirdParty": False,
                "description": None,
                "own": True,
            }
        )
    categories: list[dict[str, Any]] = [
        {
            "key": str(CookieCategory.STRICTLY_NECESSARY),
            "required": True,
            "gpc": False,
            "recorded": False,
            "purposes": _purposes(declaration, CookieCategory.STRICTLY_NECESSARY),
            "cookies": necessary,
        }
    ]
    for category in CHOOSABLE:
        if category not in by_category:
            continue
        categories.append(
            {
                "key": str(category),
                "required": False,
                "gpc": _gpc_category(declaration, category),
                "recorded": bool(recorded.get(category)),
                "purposes": _purposes(declaration, category),
                "cookies": by_category[category],
            }
        )
    return {
        "controller": declaration.controller.name,
        "policyUrl": declaration.policy.url,
        "version": declaration.policy.version,
        "cookiesHash": cookies_hash(declaration),
        "maxAge": choice_max_age(declaration),
        "cookie": CONSENT_COOKIE,
        "categories": categories,
    }


def _purposes(declaration: Declaration, category: CookieCategory) -> list[dict[str, str]]:
    keys = dict.fromkeys(
        str(cookie.purpose)
        for cookie in declaration.cookies.values()
        if cookie.category is category and cookie.purpose in declaration.purposes
    )
    return [
        {
            "key": key,
            "label": declaration.purposes[key].label,
            "description": declaration.purposes[key].description,
        }
        for key in keys
    ]

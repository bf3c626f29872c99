"""What changed between two versions of a declaration, and whether people must be told first.

A change is *material* when the information GDPR Art. 13/14 and the CCPA notice at collection
require would tell people something new about what happens to their data: a new purpose, new
data, a new recipient or transfer, a longer retention, another legal basis, fewer rights
(GDPR Art. 13(3), 14(4); WP260 rev.01 on changes to Art. 13/14 information). Everything else is
*editorial*: listed, never dropped.

Two tables drive it. ``KINDS`` is the vocabulary: each kind of change, whether it is material
and how it is told. ``_RULES`` maps locations in the declaration (dotted, ``*`` for a key) to
the rule that classifies changes there. The walk follows the declaration's section order, then
key order; a location without a rule is compared field by field, and a changed value nobody
classified is reported as an editorial ``detail_changed``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from pledge.declaration.duration import EVENT_PHRASES, Duration, RetentionEvent
from pledge.declaration.model import (
    Channels,
    CookieCategory,
    Declaration,
    LegalBasis,
    Person,
    Retention,
)
from pledge.declaration.taxonomy import builtin_taxonomy, is_transfer

_AS_NOW = "{what} {now}."
_KEPT = "{name} data is now kept for {new} instead of {old}."
_LASTS = "{name} now lasts {new} instead of {old}."

KINDS: dict[str, tuple[bool, str]] = {
    "controller_changed": (True, _AS_NOW),
    "contact_changed": (False, _AS_NOW),
    "policy_version_changed": (False, _AS_NOW),
    "policy_date_changed": (False, _AS_NOW),
    "category_defined": (False, "New data category defined: {name}."),
    "category_undefined": (False, "Data category no longer defined: {name}."),
    "category_now_sensitive": (True, "{name} is now treated as sensitive data."),
    "category_no_longer_sensitive": (False, "{name} is no longer treated as sensitive data."),
    "purpose_added": (True, "New purpose: {name}{basis}."),
    "purpose_removed": (False, "Purpose no longer pursued: {name}."),
    "legal_basis_changed": (True, "{name} now relies on {new} instead of {old}."),
    "purpose_category_added": (True, "{name} now also uses: {items}."),
    "purpose_category_removed": (False, "{name} no longer uses: {items}."),
    "retention_added": (False, "{name} data is now kept for {new}."),
    "retention_removed": (True, "{name}: how long data is kept is no longer stated."),
    "retention_longer": (True, _KEPT),
    "retention_shorter": (False, _KEPT),
    "retention_reworded": (False, _KEPT),
    "retention_anchor_changed": (True, _KEPT),
    "retention_reason_changed": (False, "{name}: the reason for keeping data that long {now}."),
    "sale_or_sharing_enabled": (True, "{name}: personal information is now sold or shared."),
    "sale_or_sharing_disabled": (
        False,
        "{name}: personal information is no longer sold or shared.",
    ),
    "targeted_advertising_enabled": (True, "{name} now includes targeted advertising."),
    "targeted_advertising_disabled": (False, "{name} no longer includes targeted advertising."),
    "direct_marketing_enabled": (True, "{name} now includes direct marketing."),
    "direct_marketing_disabled": (False, "{name} no longer includes direct marketing."),
    "automated_decision_added": (True, "{name} now involves automated decisions about you."),
    "automated_decision_changed": (True, "The automated decisions in {name} have changed."),
    "automated_decision_removed": (False, "{name} no longer involves automated decisions."),
    "collection_point_added": (True, "New collection point: {name}, collecting {items}."),
    "collection_point_removed": (False, "Data is no longer collected through {name}."),
    "source_changed": (True, _AS_NOW),
    "origin_changed": (True, _AS_NOW),
    "subjects_added": (True, "{name} now also collects data about: {items}."),
    "subjects_removed": (False, "{name} no longer collects data about: {items}."),
    "category_added": (True, "New kind of data collected: {name}."),
    "field_added": (True, "Newly collected: {name}."),
    "field_removed": (False, "No longer collected: {name}."),
    "field_category_changed": (True, "{name} now collects {new} instead of {old}."),
    "field_now_required": (True, "{name} must now be provided."),
    "field_now_optional": (False, "{name} is now optional."),
    "field_purpose_added": (True, "{name} is now also used for: {items}."),
    "field_purpose_removed": (False, "{name} is no longer used for: {items}."),
    "recipient_added": (True, "New recipient: {name} ({role})."),
    "recipient_removed": (False, "Data is no longer disclosed to {name}."),
    "recipient_name_changed": (True, "Data disclosed to “{old}” now goes to “{new}”."),
    "recipient_role_changed": (True, "{name} is now a {new} (was a {old})."),
    "recipient_country_changed": (False, "{name} now processes data in {new} (was {old})."),
    "recipient_purpose_added": (True, "{name} now receives data for: {items}."),
    "recipient_purpose_removed": (False, "{name} no longer receives data for: {items}."),
    "recipient_category_added": (True, "{name} now receives: {items}."),
    "recipient_category_removed": (False, "{name} no longer receives: {items}."),
    "transfer_added": (True, "New international transfer: {what}."),
    "safeguard_added": (False, "Transfers to {name} are now covered by {new}."),
    "safeguard_changed": (True, "Transfers to {name} now rely on {new} instead of {old}."),
    "safeguard_removed": (True, "Transfers to {name} no longer rely on {old}."),
    "disclosure_added": (True, "New ground on which data may be disclosed: {name}."),
    "disclosure_removed": (False, "Data is no longer disclosed on the ground of {name}."),
    "disclosure_notice_added": (False, "People are now told of disclosures for {name}."),
    "disclosure_notice_removed": (True, "People are no longer told of disclosures for {name}."),
    "cookie_added": (True, "New {category} cookie: {key} ({provider})."),
    "cookie_removed": (False, "{name} is no longer used."),
    "cookie_category_changed": (True, "{name} is now in the {new} category (was {old})."),
    "cookie_duration_longer": (True, _LASTS),
    "cookie_duration_shorter": (False, _LASTS),
    "cookie_duration_changed": (False, _LASTS),
    "cookie_provider_changed": (True, "{name} is now set by {new} (was {old})."),
    "cookie_purpose_changed": (True, "{name} now serves {new} (was {old})."),
    "cookie_now_third_party": (True, "{name} is now set by a third party."),
    "cookie_now_first_party": (False, "{name} is no longer set by a third party."),
    "right_added": (False, "New right offered: {items}."),
    "right_removed": (True, "Right no longer offered: {items}."),
    "channel_added": (False, "Requests can now also be made {how}: {new}."),
    "channel_removed": (True, "Requests can no longer be made {how}."),
    "minimum_age_lowered": (True, _AS_NOW),
    "minimum_age_raised": (False, _AS_NOW),
    "adults_only": (False, "The service is now for adults only."),
    "adults_only_removed": (True, "The service is no longer restricted to adults."),
    "parental_consent_added": (False, "Parental consent is now asked for children."),
    "parental_consent_removed": (True, "Parental consent is no longer asked for children."),
    "storage_added": (False, "Data is now also stored in {what}."),
    "storage_removed": (False, "Data is no longer stored in {what}."),
    "label_changed": (False, "“{old}” is now called “{new}”."),
    "description_changed": (False, _AS_NOW),
    "detail_changed": (False, _AS_NOW),
}
"""Every kind of change: whether it is material (unless a rule decides otherwise), and its
summary template. A rule may downgrade a kind, e.g. a strictly necessary ``cookie_added``."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two declarations.

    Args:
        path: where it is, dotted: ``purposes.analytics.retention``.
        kind: stable identifier of what happened, one of :data:`KINDS`.
        material: whether people must be told before it applies (GDPR Art. 13(3)).
        summary: one plain-language sentence for the people the policy is written for.
    """

    path: str
    kind: str
    material: bool
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """The change as plain data, for ``--format json``.

        Returns:
            A mapping with ``path``, ``kind``, ``material`` and ``summary``.
        """
        return {
            "path": self.path,
            "kind": self.kind,
            "material": self.material,
            "summary": self.summary,
        }


def diff(old: Declaration, new: Declaration) -> list[Change]:
    """List the changes from ``old`` to ``new``, each marked material or editorial.

    Args:
        old: the declaration behind the policy people were last told about.
        new: the declaration about to be published.

    Returns:
        The changes in section order, then key order; empty when nothing changed.
    """
    return list(_fields(_Context(old, new), _At(), old, new))


def is_material(changes: Iterable[Change]) -> bool:
    """Whether any of ``changes`` must be announced to people before it applies.

    Args:
        changes: changes as returned by :func:`diff`.

    Returns:
        True if at least one change is material.
    """
    return any(change.material for change in changes)


# --- walking -------------------------------------------------------------------------------------


class _At(NamedTuple):
    """A location: the real path, and its pattern with ``*`` for every mapping key."""

    path: tuple[str, ...] = ()
    pattern: tuple[str, ...] = ()

    def field(self, name: str) -> _At:
        return _At((*self.path, name), (*self.pattern, name))

    def key(self, key: object) -> _At:
        return _At((*self.path, str(key)), (*self.pattern, "*"))

    def change(self, kind: str, material: bool | None = None, /, **words: Any) -> Change:
        default, template = KINDS[kind]
        summary = template.format(**words)
        material = default if material is None else material
        return Change(".".join(self.path), kind, material, summary[0].upper() + summary[1:])


@dataclass(frozen=True)
class _Context:
    old: Declaration
    new: Declaration

    def find(self, path: Iterable[str]) -> Any:
        """The object at ``path`` in the new declaration, else in the old one."""
        for root in (self.new, self.old):
            node: Any = root
            for part in path:
                node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
            if node is not None:
                return node
        return None

    def name(self, at: _At) -> str:
        """What people call the thing at ``at``: a purpose's label, a recipient's name, …"""
        section, key = at.path[0], at.path[1] if len(at.path) > 1 else ""
        if not key or section not in _ITEMS:
            return _words(section).capitalize()
        if section == "collection" and at.path[2:3] == ("fields",):
            field = self.find(at.path[:4])
            shown = field.label or self.category(field.category)
            return f"{shown} in {self.find(at.path[:2]).label or _words(at.path[1])}"
        if section == "cookies":
            return f"the {key} cookie"
        item = self.find(at.path[:2])
        return getattr(item, "label", None) or getattr(item, "name", None) or _words(key)

    def category(self, key: str) -> str:
        # Not Declaration.taxonomy: that cached_property survives model_copy(update=...).
        for declaration in (self.new, self.old):
            if key in declaration.categories:
                return declaration.categories[key].label
        return builtin_taxonomy().label(key)

    def purpose(self, key: Any) -> str:
        """The label of purpose ``key``, for summaries."""
        found = self.find(("purposes", key)) if key else None
        return found.label if found else _show(key)

    def receives(self, declaration: Declaration, key: str) -> list[str]:
        """What a recipient receives, as ``Declaration.recipient_categories`` but lenient."""
        recipient = declaration.recipients.get(key)
        if recipient is None or recipient.categories:
            return list(recipient.categories) if recipient else []
        used = [declaration.purposes[p] for p in recipient.purposes if p in declaration.purposes]
        return list(dict.fromkeys(category for purpose in used for category in purpose.categories))


_ITEMS = ("categories", "purposes", "collection", "recipients", "disclosures", "cookies")

Rule = Callable[[_Context, _At, Any, Any], Iterator[Change]]


def _compare(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """The changes at ``at``: by its rule, else field by field, else as a generic detail.

    Equal parts are walked too: a recipient receives new data when a purpose it serves uses
    more, and becomes a transfer when the company moves.
    """
    rule = _RULES.get(".".join(at.pattern))
    if rule is None and at.pattern[-1] != "*" and at.path[0] in _ITEMS:
        rule = _BY_FIELD.get(at.pattern[-1])
    if rule is not None:
        yield from rule(ctx, at, old, new)
    elif isinstance(old, BaseModel) or isinstance(new, BaseModel):
        try:  # a block left out compares as an empty one, when it can be empty
            pair = [value if value is not None else type(old or new)() for value in (old, new)]
        except ValidationError:
            yield at.change("detail_changed", what=_detail(ctx, at), now=_now(old, new))
        else:
            yield from _fields(ctx, at, *pair)
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(key for key in old if key not in new)]:
            yield from _compare(ctx, at.key(key), old.get(key), new.get(key))
    elif old != new:
        yield at.change("detail_changed", what=_detail(ctx, at), now=_now(old, new))


def _fields(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    for name in type(new).model_fields:
        yield from _compare(ctx, at.field(name), getattr(old, name), getattr(new, name))


def _detail(ctx: _Context, at: _At) -> str:
    """The item, then the rest of the path in words: "Analytics: interest assessment"."""
    depth = 1 if at.path[0] not in _ITEMS else 4 if at.path[2:3] == ("fields",) else 2
    rest = " ".join(_words(part) for part in at.path[depth:] if not part.isdigit())
    return f"{ctx.name(at)}: {rest}" if rest else ctx.name(at)


# --- words ---------------------------------------------------------------------------------------


def _words(value: object) -> str:
    return str(value).replace("_", " ").replace("email", "e-mail")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Duration):
        return value.describe()
    if isinstance(value, StrEnum):
        return _words(value)
    if isinstance(value, list):
        return ", ".join(_show(item) for item in value) or "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "not stated" if value is None else str(value)


def _now(old: Any, new: Any) -> str:
    """``is now “B” (was “A”)``, or without the values when they are long or structured."""
    if any(isinstance(v, BaseModel | dict) or len(_show(v)) > 60 for v in (old, new)):
        if old is None or new is None:
            return "was added" if old is None else "was removed"
        return "was reworded" if isinstance(new, str) else "was changed"
    if old is None:
        return f"is now “{_show(new)}” (not stated before)"
    if new is None:
        return f"is no longer stated (was “{_show(old)}”)"
    return f"is now “{_show(new)}” (was “{_show(old)}”)"


_BASES = {
    LegalBasis.CONSENT: "your consent",
    LegalBasis.CONTRACT: "our contract with you",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation",
    LegalBasis.VITAL_INTERESTS: "the protection of vital interests",
    LegalBasis.PUBLIC_TASK: "a task in the public interest",
    LegalBasis.LEGITIMATE_INTERESTS: "our legitimate interests",
}
_CHANNELS = {
    "email": "by e-mail",
    "url": "online",
    "phone": "by phone",
    "postal": "by post",
    "in_app": "in the app",
}


def _kept(retention: Retention, anchored: bool) -> str:
    if retention.after is RetentionEvent.COLLECTION and not anchored:
        return retention.period.describe()
    return f"{retention.period.describe()} {EVENT_PHRASES[retention.after]}"


def _lasts(ctx: _Context, duration: Any) -> str:
    if duration is None:
        return "an unstated time"
    return "until the browser is closed" if duration == "session" else _show(duration)


def _lifetime(duration: Any) -> float:
    """A cookie's lifetime in days; an unstated one may be anything, so it counts as longest."""
    if duration is None:
        return float("inf")
    return 0.0 if duration == "session" else float(duration.days)


def _covers(ancestor: str, key: str) -> bool:
    return key == ancestor or key.startswith(ancestor + ".")


# --- rules ---------------------------------------------------------------------------------------

Show = Callable[[_Context, Any], str]


def _value(
    changed: str = "detail_changed",
    *,
    added: str | None = None,
    removed: str | None = None,
    more: str = "",
    less: str = "",
    measure: Callable[[Any], float] | None = None,
    show: Show = lambda ctx, value: _show(value),
    what: str = "",
    **extra: str,
) -> Rule:
    """A single value, whose change is one of the given kinds.

    ``added`` or ``removed`` when it appears or goes, ``more`` or ``less`` when its ``measure``
    grows or shrinks, else ``changed``; ``what`` and ``extra`` fill the kind's template.
    """

    def rule(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
        if old == new:
            return
        if measure is not None and measure(new) != measure(old):
            kind = more if measure(new) > measure(old) else less
        else:
            kind = (added if old is None else removed if new is None else None) or changed
        name = ctx.name(at)
        words = {"old": show(ctx, old), "new": show(ctx, new), "now": _now(old, new)}
        yield at.change(kind, name=name, what=what.format(name=name), **words, **extra)

    return rule


def _switch(on: str, off: str) -> Rule:
    """A flag: kind ``on`` when it becomes true, ``off`` when it becomes false."""
    return _value(more=on, less=off, measure=bool)


def _members(added: str, removed: str, show: Show = lambda ctx, item: _show(item)) -> Rule:
    """A list: what was added, what was removed; a category still covered is not removed."""

    def rule(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
        before, after = list(old or []), list(new or [])
        if at.pattern == ("recipients", "*", "categories"):  # what it receives, however stated
            before, after = ctx.receives(ctx.old, at.path[1]), ctx.receives(ctx.new, at.path[1])
        # Categories are a hierarchy: one covered by a broader category is neither new nor gone.
        same = _covers if show is _Context.category else str.__eq__
        gained = [item for item in after if not any(same(was, item) for was in before)]
        lost = [item for item in before if not any(same(now, item) for now in after)]
        for kind, items in ((added, gained), (removed, lost)):
            if items:
                shown = ", ".join(show(ctx, item) for item in items)
                yield at.change(kind, name=ctx.name(at), items=shown)
        if not gained and not lost and old != new:
            yield at.change("detail_changed", what=_detail(ctx, at), now=_now(old, new))

    return rule


def _entries(added: Rule | str, removed: str) -> Rule:
    """An item of a keyed section: added, removed, or compared field by field."""

    def rule(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
        if old is None:
            if isinstance(added, str):
                yield at.change(added, name=ctx.name(at))
            else:
                yield from added(ctx, at, old, new)
        elif new is None:
            yield at.change(removed, name=ctx.name(at))
        else:
            yield from _fields(ctx, at, old, new)

    return rule


def _unless_necessary(rule: Rule) -> Rule:
    """Changes to a strictly necessary cookie need no consent: they are editorial."""

    def wrapped(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
        cookie = ctx.new.cookies.get(at.path[1])
        necessary = cookie is not None and cookie.category is CookieCategory.STRICTLY_NECESSARY
        for change in rule(ctx, at, old, new):
            yield replace(change, material=change.material and not necessary)

    return wrapped


def _label(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    if old != new:  # an unset label shows the item's key
        default = _words(at.path[-2])
        yield at.change("label_changed", old=old or default, new=new or default)


def _purpose_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    basis = f" ({_words(new.legal_basis)})" if new.legal_basis else ""
    yield at.change("purpose_added", name=ctx.name(at), basis=basis)


def _retention(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """Retention: longer, or counted from another event, is material; shorter is not."""
    name = ctx.name(at)
    if old is None or new is None:
        if old != new:
            kind = "retention_added" if new else "retention_removed"
            yield at.change(kind, name=name, new=_kept(new, False) if new else "")
        return
    anchored = old.after != new.after
    if anchored or old.period != new.period:
        before, after = old.period.days, new.period.days
        kind = "longer" if after > before else "shorter" if after < before else "reworded"
        words = {"old": _kept(old, anchored), "new": _kept(new, anchored)}
        yield at.change(f"retention_{'anchor_changed' if anchored else kind}", name=name, **words)
    if old.reason != new.reason:
        now = _now(old.reason, new.reason)
        yield at.field("reason").change("retention_reason_changed", name=name, now=now)


def _point_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    shown = ", ".join(field.label or ctx.category(field.category) for field in new.fields.values())
    yield at.change("collection_point_added", name=ctx.name(at), items=shown)
    for key, field in new.fields.items():
        yield from _field_added(ctx, at.field("fields").key(key), None, field, known=False)


def _field_added(
    ctx: _Context, at: _At, old: Any, new: Any, known: bool = True
) -> Iterator[Change]:
    """A new field: a ``category_added`` if nothing collected its category before."""
    if not any(_covers(category, new.category) for category in ctx.old.collected_categories()):
        yield at.change("category_added", name=ctx.name(at))
    elif known:
        yield at.change("field_added", name=ctx.name(at))


def _transfer(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """A recipient's country: material when it is a new transfer from the controller's."""
    before = old is not None and is_transfer(ctx.old.controller.country, old)
    now = new is not None and is_transfer(ctx.new.controller.country, new)
    if now and (not before or old != new):
        yield at.change("transfer_added", what=f"{ctx.name(at)} receives data in {new}")
    elif old != new:
        words = {"old": _show(old), "new": _show(new)}
        yield at.change("recipient_country_changed", name=ctx.name(at), **words)


def _recipient_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    role = _words(new.role) + (f", {new.country}" if new.country else "")
    yield at.change("recipient_added", name=new.name, role=role)
    yield from _transfer(ctx, at.field("country"), None, new.country)


_SAFEGUARD = _value("safeguard_changed", added="safeguard_added", removed="safeguard_removed")


def _safeguard(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """Removing or replacing the safeguard of an actual transfer is material."""
    country = ctx.find(at.path[:2]).country
    transfer = country is not None and is_transfer(ctx.new.controller.country, country)
    for change in _SAFEGUARD(ctx, at, old, new):
        yield change if change.kind == "safeguard_added" else replace(change, material=transfer)


def _cookie_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    provider = new.provider + (f", {_lasts(ctx, new.duration)}" if new.duration else "")
    necessary = new.category is CookieCategory.STRICTLY_NECESSARY
    words = {"category": _words(new.category), "key": at.path[1], "provider": provider}
    yield at.change("cookie_added", not necessary, **words)


def _storage(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """Storage locations: one in a country that is a new transfer destination is material."""
    home, was_home = ctx.new.controller.country, ctx.old.controller.country
    abroad = {place.country for place in old if is_transfer(was_home, place.country)}

    def edited(index: int, places: list[Any], others: list[Any]) -> bool:
        """The same data centre (same place, same country) with other details."""
        place = places[index]
        other = others[index] if index < len(others) else None
        return other is not None and other.country == place.country and other not in places

    for index, place in enumerate(new):
        where = place.country + (f" with {place.provider}" if place.provider else "")
        if is_transfer(home, place.country) and place.country not in abroad:
            yield at.key(index).change("transfer_added", what=f"data is now stored in {where}")
        elif place not in old and edited(index, new, old):
            yield from _fields(ctx, at.key(index), old[index], place)
        elif place not in old:
            yield at.key(index).change("storage_added", what=where)
    for index, place in enumerate(old):
        if place not in new and not edited(index, old, new):
            yield at.key(index).change("storage_removed", what=place.country)
    if old != new and all(place in old for place in new) and all(place in new for place in old):
        yield at.change("detail_changed", what="Storage: the locations", now="were reordered")


_COMPANY = {
    "address": "postal address",
    "email": "e-mail address",
    "phone": "phone number",
    "hours": "telephone availability",
    "website": "website",
}
_PEOPLE = {"dpo": "data protection officer", "eu_representative": "EU representative"}
_RULES: dict[str, Rule] = {
    "controller.name": _value("controller_changed", what="the company responsible for your data"),
    "controller.legal_name": _value("controller_changed", what="the company's legal name"),
    "controller.country": _value("controller_changed", what="the company's country"),
    **{
        f"controller.{field}": _value("contact_changed", what=f"the company's {words}")
        for field, words in _COMPANY.items()
    },
    **{
        f"controller.{who}.{field}": _value(
            "contact_changed", what=f"the {words}'s {_words(field)}"
        )
        for who, words in _PEOPLE.items()
        for field in Person.model_fields
    },
    "policy.version": _value("policy_version_changed", what="the policy version"),
    "policy.effective_date": _value("policy_date_changed", what="the date the policy takes effect"),
    "policy.published_date": _value("policy_date_changed", what="the date the policy is published"),
    "categories.*": _entries("category_defined", "category_undefined"),
    "categories.*.sensitive": _switch("category_now_sensitive", "category_no_longer_sensitive"),
    "purposes.*": _entries(_purpose_added, "purpose_removed"),
    "purposes.*.legal_basis": _value(
        "legal_basis_changed", show=lambda ctx, basis: _BASES.get(basis, "no stated legal basis")
    ),
    "purposes.*.categories": _members(
        "purpose_category_added", "purpose_category_removed", _Context.category
    ),
    "purposes.*.retention": _retention,
    "purposes.*.sale_or_sharing": _switch("sale_or_sharing_enabled", "sale_or_sharing_disabled"),
    "purposes.*.targeted_advertising": _switch(
        "targeted_advertising_enabled", "targeted_advertising_disabled"
    ),
    "purposes.*.direct_marketing": _switch("direct_marketing_enabled", "direct_marketing_disabled"),
    "purposes.*.automated_decision": _value(
        "automated_decision_changed",
        added="automated_decision_added",
        removed="automated_decision_removed",
    ),
    "collection.*": _entries(_point_added, "collection_point_removed"),
    "collection.*.source": _value("source_changed", what="how {name} obtains data"),
    "collection.*.origin": _value("origin_changed", what="where {name} obtains data from"),
    "collection.*.subjects": _members("subjects_added", "subjects_removed"),
    "collection.*.fields.*": _entries(_field_added, "field_removed"),
    "collection.*.fields.*.category": _value("field_category_changed", show=_Context.category),
    "collection.*.fields.*.required": _switch("field_now_required", "field_now_optional"),
    "collection.*.fields.*.purposes": _members(
        "field_purpose_added", "field_purpose_removed", _Context.purpose
    ),
    "recipients.*": _entries(_recipient_added, "recipient_removed"),
    "recipients.*.name": _value("recipient_name_changed"),
    "recipients.*.role": _value("recipient_role_changed"),
    "recipients.*.country": _transfer,
    "recipients.*.purposes": _members(
        "recipient_purpose_added", "recipient_purpose_removed", _Context.purpose
    ),
    "recipients.*.categories": _members(
        "recipient_category_added", "recipient_category_removed", _Context.category
    ),
    "recipients.*.safeguard": _safeguard,
    "disclosures.*": _entries("disclosure_added", "disclosure_removed"),
    "disclosures.*.notice": _switch("disclosure_notice_added", "disclosure_notice_removed"),
    "cookies.*": _entries(_cookie_added, "cookie_removed"),
    "cookies.*.category": _value("cookie_category_changed"),
    "cookies.*.duration": _unless_necessary(
        _value(
            "cookie_duration_changed",
            more="cookie_duration_longer",
            less="cookie_duration_shorter",
            measure=_lifetime,
            show=_lasts,
        )
    ),
    "cookies.*.provider": _unless_necessary(_value("cookie_provider_changed")),
    "cookies.*.purpose": _unless_necessary(_value("cookie_purpose_changed", show=_Context.purpose)),
    "cookies.*.third_party": _unless_necessary(
        _switch("cookie_now_third_party", "cookie_now_first_party")
    ),
    "rights.offered": _members("right_added", "right_removed"),
    **{
        f"rights.channels.{field}": _value(
            "contact_changed",
            added="channel_added",
            removed="channel_removed",
            what=f"the contact for requests {how}",
            how=how,
        )
        for field in Channels.model_fields
        for how in [_CHANNELS[field]]
    },
    "children.minimum_age": _value(
        more="minimum_age_raised",
        less="minimum_age_lowered",
        measure=lambda age: age or 0,
        what="the minimum age to use the service",
    ),
    "children.restricted_to_adults": _switch("adults_only", "adults_only_removed"),
    "children.parental_consent": _switch("parental_consent_added", "parental_consent_removed"),
    "storage": _storage,
}
_BY_FIELD: dict[str, Rule] = {
    "label": _label,
    "description": _value("description_changed", what="the description of {name}"),
}

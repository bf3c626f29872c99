"""What changed between two versions of a declaration, and whether people must be told first.

A change is *material* when the information GDPR Art. 13/14 and the CCPA notice at collection
require would tell people something new about what happens to their data: a new purpose, new
data, a new recipient or transfer, a longer retention, another legal basis, fewer rights
(GDPR Art. 13(3), 14(4); WP260 rev.01 on changes to Art. 13/14 information). Everything else is
*editorial*: listed, never dropped.

Two tables drive it. ``KINDS`` (in ``changes``) is the vocabulary: each kind of change,
whether it is material and how it is told. ``_RULES`` maps locations in the declaration
(dotted, ``*`` for a key) to the rule that classifies changes there. The walk follows the
declaration's section order, then key order; a location without a rule is compared field by
field, and a changed value nobody classified is reported as an editorial ``detail_changed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from pledge.declaration.changes import (
    BASES,
    CHANNELS,
    COMPANY_FIELDS,
    KINDS,
    OFFICERS,
    Change,
    became,
    covers,
    kept_for,
    lifetime,
    phrase,
    shown,
)
from pledge.declaration.model import (
    Channels,
    CookieCategory,
    Declaration,
    Person,
)
from pledge.declaration.taxonomy import builtin_taxonomy, is_transfer


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
            return phrase(section).capitalize()
        if section == "collection" and at.path[2:3] == ("fields",):
            field = self.find(at.path[:4])
            shown = field.label or self.category(field.category)
            return f"{shown} in {self.find(at.path[:2]).label or phrase(at.path[1])}"
        if section == "cookies":
            return f"the {key} cookie"
        item = self.find(at.path[:2])
        return getattr(item, "label", None) or getattr(item, "name", None) or phrase(key)

    def category(self, key: str) -> str:
        # Not Declaration.taxonomy: that cached_property survives model_copy(update=...).
        for declaration in (self.new, self.old):
            if key in declaration.categories:
                return declaration.categories[key].label
        return builtin_taxonomy().label(key)

    def purpose(self, key: Any) -> str:
        """The label of purpose ``key``, for summaries."""
        found = self.find(("purposes", key)) if key else None
        return found.label if found else shown(key)

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
            yield at.change("detail_changed", what=_detail(ctx, at), now=became(old, new))
        else:
            yield from _fields(ctx, at, *pair)
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(key for key in old if key not in new)]:
            yield from _compare(ctx, at.key(key), old.get(key), new.get(key))
    elif old != new:
        yield at.change("detail_changed", what=_detail(ctx, at), now=became(old, new))


def _fields(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    for name in type(new).model_fields:
        yield from _compare(ctx, at.field(name), getattr(old, name), getattr(new, name))


def _detail(ctx: _Context, at: _At) -> str:
    """The item, then the rest of the path in words: "Analytics: interest assessment"."""
    depth = 1 if at.path[0] not in _ITEMS else 4 if at.path[2:3] == ("fields",) else 2
    rest = " ".join(phrase(part) for part in at.path[depth:] if not part.isdigit())
    return f"{ctx.name(at)}: {rest}" if rest else ctx.name(at)


def _lasts(ctx: _Context, duration: Any) -> str:
    if duration is None:
        return "an unstated time"
    return "until the browser is closed" if duration == "session" else shown(duration)


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
    show: Show = lambda ctx, value: shown(value),
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
        words = {"old": show(ctx, old), "new": show(ctx, new), "now": became(old, new)}
        yield at.change(kind, name=name, what=what.format(name=name), **words, **extra)

    return rule


def _switch(on: str, off: str) -> Rule:
    """A flag: kind ``on`` when it becomes true, ``off`` when it becomes false."""
    return _value(more=on, less=off, measure=bool)


def _members(added: str, removed: str, show: Show = lambda ctx, item: shown(item)) -> Rule:
    """A list: what was added, what was removed; a category still covered is not removed."""

    def rule(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
        before, after = list(old or []), list(new or [])
        if at.pattern == ("recipients", "*", "categories"):  # what it receives, however stated
            before, after = ctx.receives(ctx.old, at.path[1]), ctx.receives(ctx.new, at.path[1])
        # Categories are a hierarchy: one covered by a broader category is neither new nor gone.
        same = covers if show is _Context.category else str.__eq__
        gained = [item for item in after if not any(same(was, item) for was in before)]
        lost = [item for item in before if not any(same(now, item) for now in after)]
        for kind, items in ((added, gained), (removed, lost)):
            if items:
                shown = ", ".join(show(ctx, item) for item in items)
                yield at.change(kind, name=ctx.name(at), items=shown)
        if not gained and not lost and old != new:
            yield at.change("detail_changed", what=_detail(ctx, at), now=became(old, new))

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
        default = phrase(at.path[-2])
        yield at.change("label_changed", old=old or default, new=new or default)


def _purpose_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    basis = f" ({phrase(new.legal_basis)})" if new.legal_basis else ""
    yield at.change("purpose_added", name=ctx.name(at), basis=basis)


def _retention(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    """Retention: longer, or counted from another event, is material; shorter is not."""
    name = ctx.name(at)
    if old is None or new is None:
        if old != new:
            kind = "retention_added" if new else "retention_removed"
            yield at.change(kind, name=name, new=kept_for(new, False) if new else "")
        return
    anchored = old.after != new.after
    if anchored or old.period != new.period:
        before, after = old.period.days, new.period.days
        kind = "longer" if after > before else "shorter" if after < before else "reworded"
        words = {"old": kept_for(old, anchored), "new": kept_for(new, anchored)}
        yield at.change(f"retention_{'anchor_changed' if anchored else kind}", name=name, **words)
    if old.reason != new.reason:
        now = became(old.reason, new.reason)
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
    if not any(covers(category, new.category) for category in ctx.old.collected_categories()):
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
        words = {"old": shown(old), "new": shown(new)}
        yield at.change("recipient_country_changed", name=ctx.name(at), **words)


def _recipient_added(ctx: _Context, at: _At, old: Any, new: Any) -> Iterator[Change]:
    role = phrase(new.role) + (f", {new.country}" if new.country else "")
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
    words = {"category": phrase(new.category), "key": at.path[1], "provider": provider}
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


_RULES: dict[str, Rule] = {
    "controller.name": _value("controller_changed", what="the company responsible for your data"),
    "controller.legal_name": _value("controller_changed", what="the company's legal name"),
    "controller.country": _value("controller_changed", what="the company's country"),
    **{
        f"controller.{field}": _value("contact_changed", what=f"the company's {words}")
        for field, words in COMPANY_FIELDS.items()
    },
    **{
        f"controller.{who}.{field}": _value(
            "contact_changed", what=f"the {words}'s {phrase(field)}"
        )
        for who, words in OFFICERS.items()
        for field in Person.model_fields
    },
    "policy.version": _value("policy_version_changed", what="the policy version"),
    "policy.effective_date": _value("policy_date_changed", what="the date the policy takes effect"),
    "policy.published_date": _value("policy_date_changed", what="the date the policy is published"),
    "categories.*": _entries("category_defined", "category_undefined"),
    "categories.*.sensitive": _switch("category_now_sensitive", "category_no_longer_sensitive"),
    "purposes.*": _entries(_purpose_added, "purpose_removed"),
    "purposes.*.legal_basis": _value(
        "legal_basis_changed", show=lambda ctx, basis: BASES.get(basis, "no stated legal basis")
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
            measure=lifetime,
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
        for how in [CHANNELS[field]]
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


__all__ = ["KINDS", "Change", "diff", "is_material"]

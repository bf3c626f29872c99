"""The vocabulary of changes between two declarations: each kind, whether it is material and
how it is told, and the words a summary is written in (``diff`` walks and classifies)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from pledge.declaration.duration import EVENT_PHRASES, Duration, RetentionEvent
from pledge.declaration.model import LegalBasis, Retention

AS_NOW = "{what} {now}."
KEPT = "{name} data is now kept for {new} instead of {old}."
LASTS = "{name} now lasts {new} instead of {old}."

KINDS: dict[str, tuple[bool, str]] = {
    "controller_changed": (True, AS_NOW),
    "contact_changed": (False, AS_NOW),
    "policy_version_changed": (False, AS_NOW),
    "policy_date_changed": (False, AS_NOW),
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
    "retention_longer": (True, KEPT),
    "retention_shorter": (False, KEPT),
    "retention_reworded": (False, KEPT),
    "retention_anchor_changed": (True, KEPT),
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
    "source_changed": (True, AS_NOW),
    "origin_changed": (True, AS_NOW),
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
    "cookie_duration_longer": (True, LASTS),
    "cookie_duration_shorter": (False, LASTS),
    "cookie_duration_changed": (False, LASTS),
    "cookie_provider_changed": (True, "{name} is now set by {new} (was {old})."),
    "cookie_purpose_changed": (True, "{name} now serves {new} (was {old})."),
    "cookie_now_third_party": (True, "{name} is now set by a third party."),
    "cookie_now_first_party": (False, "{name} is no longer set by a third party."),
    "right_added": (False, "New right offered: {items}."),
    "right_removed": (True, "Right no longer offered: {items}."),
    "channel_added": (False, "Requests can now also be made {how}: {new}."),
    "channel_removed": (True, "Requests can no longer be made {how}."),
    "minimum_age_lowered": (True, AS_NOW),
    "minimum_age_raised": (False, AS_NOW),
    "adults_only": (False, "The service is now for adults only."),
    "adults_only_removed": (True, "The service is no longer restricted to adults."),
    "parental_consent_added": (False, "Parental consent is now asked for children."),
    "parental_consent_removed": (True, "Parental consent is no longer asked for children."),
    "storage_added": (False, "Data is now also stored in {what}."),
    "storage_removed": (False, "Data is no longer stored in {what}."),
    "label_changed": (False, "“{old}” is now called “{new}”."),
    "description_changed": (False, AS_NOW),
    "detail_changed": (False, AS_NOW),
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


def phrase(value: object) -> str:
    """A key or value as words: ``legal_basis`` → ``legal basis``."""
    return str(value).replace("_", " ").replace("email", "e-mail")


def shown(value: Any) -> str:
    """A value as people read it: yes/no, a described duration, a list, a date."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Duration):
        return value.describe()
    if isinstance(value, StrEnum):
        return phrase(value)
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value) or "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "not stated" if value is None else str(value)


def became(old: Any, new: Any) -> str:
    """``is now “B” (was “A”)``, or without the values when they are long or structured."""
    if any(isinstance(v, BaseModel | dict) or len(shown(v)) > 60 for v in (old, new)):
        if old is None or new is None:
            return "was added" if old is None else "was removed"
        return "was reworded" if isinstance(new, str) else "was changed"
    if old is None:
        return f"is now “{shown(new)}” (not stated before)"
    if new is None:
        return f"is no longer stated (was “{shown(old)}”)"
    return f"is now “{shown(new)}” (was “{shown(old)}”)"


BASES = {
    LegalBasis.CONSENT: "your consent",
    LegalBasis.CONTRACT: "our contract with you",
    LegalBasis.LEGAL_OBLIGATION: "a legal obligation",
    LegalBasis.VITAL_INTERESTS: "the protection of vital interests",
    LegalBasis.PUBLIC_TASK: "a task in the public interest",
    LegalBasis.LEGITIMATE_INTERESTS: "our legitimate interests",
}
CHANNELS = {
    "email": "by e-mail",
    "url": "online",
    "phone": "by phone",
    "postal": "by post",
    "in_app": "in the app",
}


def kept_for(retention: Retention, anchored: bool) -> str:
    """How long data is kept, in words (with its event when ``anchored``)."""
    if retention.after is RetentionEvent.COLLECTION and not anchored:
        return retention.period.describe()
    return f"{retention.period.describe()} {EVENT_PHRASES[retention.after]}"


def lifetime(duration: Any) -> float:
    """A cookie's lifetime in days; an unstated one may be anything, so it counts as longest."""
    if duration is None:
        return float("inf")
    return 0.0 if duration == "session" else float(duration.days)


def covers(ancestor: str, key: str) -> bool:
    """Whether category ``ancestor`` is ``key`` or one of its parents."""
    return key == ancestor or key.startswith(ancestor + ".")


COMPANY_FIELDS = {
    "address": "postal address",
    "email": "e-mail address",
    "phone": "phone number",
    "hours": "telephone availability",
    "website": "website",
}
"""The company's contact fields, in words."""
OFFICERS = {"dpo": "data protection officer", "eu_representative": "EU representative"}
"""The people a company names, in words."""


__all__ = [
    "BASES",
    "CHANNELS",
    "COMPANY_FIELDS",
    "KINDS",
    "OFFICERS",
    "Change",
    "became",
    "covers",
    "kept_for",
    "lifetime",
    "phrase",
    "shown",
]

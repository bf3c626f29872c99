"""The machine-readable policy: the Pydantic models of the JSON output and of its schema.

The JSON output is produced by these models and the published JSON Schema is derived from
them, so the two cannot drift. Bump :data:`FORMAT_VERSION` on any incompatible change.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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

FORMAT = "pledge.policy"
"""The value of ``format`` in every machine-readable policy."""
FORMAT_VERSION = 1
"""The value of ``format_version``; bumped on any incompatible change."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the text, as sections of blocks --------------------------------------------------------------


class SpanOut(_Out):
    """A run of text, linked when ``href`` is set."""

    text: str
    href: str | None = None


class RichText(_Out):
    """Inline content: the plain ``text`` and the same content as ``spans`` with links."""

    text: str
    spans: list[SpanOut]


class ParagraphOut(_Out):
    """A paragraph."""

    type: Literal["paragraph"] = "paragraph"
    content: RichText


class ListOut(_Out):
    """A bullet list."""

    type: Literal["list"] = "list"
    items: list[RichText]


class TableOut(_Out):
    """A table; the first column of each row names the row."""

    type: Literal["table"] = "table"
    caption: str
    columns: list[str]
    rows: list[list[RichText]]


class DefinitionOut(_Out):
    """A term and its definition."""

    term: str
    definition: RichText


class DefinitionsOut(_Out):
    """A definition list."""

    type: Literal["definitions"] = "definitions"
    items: list[DefinitionOut]


BlockOut = Annotated[
    ParagraphOut | ListOut | TableOut | DefinitionsOut, Field(discriminator="type")
]


class SectionOut(_Out):
    """A section of the policy, as rendered, with its stable id."""

    id: str
    title: str
    blocks: list[BlockOut]
    subsections: list[SectionOut] = Field(default_factory=list)


# --- the facts ------------------------------------------------------------------------------------


class ContactOut(_Out):
    """A person or office to contact."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class AuthorityOut(_Out):
    """A supervisory authority."""

    name: str
    country: str | None = None
    url: str | None = None


class ControllerOut(_Out):
    """Who is responsible for the personal data (GDPR Art. 13(1)(a)-(b))."""

    name: str
    legal_name: str | None = None
    country: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    hours: str | None = None
    website: str | None = None
    dpo: ContactOut | None = None
    eu_representative: ContactOut | None = None
    supervisory_authority: AuthorityOut | None = None


class PolicyOut(_Out):
    """The policy's identity: title, version, dates and how changes are announced."""

    title: str
    version: str
    effective_date: dt.date
    published_date: dt.date | None = None
    previous_version: str | None = None
    url: str | None = None
    languages: list[str]
    notice_period: str | None = Field(None, description="ISO 8601 duration.")
    change_notice: list[NoticeChannel]


class ChangeOut(_Out):
    """One change since the previous version."""

    path: str
    summary: str
    material: bool


class CategoryOut(_Out):
    """A data category."""

    key: str
    label: str
    personal: bool
    sensitive: bool


class RetentionOut(_Out):
    """How long data is kept; ``text`` is the rendered phrase ("not stated" when absent)."""

    period: str | None = Field(None, description="ISO 8601 duration.")
    after: str | None = Field(None, description="The event the period counts from.")
    text: str
    reason: str | None = None


class AutomatedDecisionOut(_Out):
    """Solely automated decision-making (GDPR Art. 22)."""

    logic: str
    significance: str
    safeguards: list[str]


class PurposeOut(_Out):
    """A purpose with its legal basis, categories and retention."""

    key: str
    label: str
    description: str
    legal_basis: LegalBasis | None
    legitimate_interest: str | None = None
    categories: list[CategoryOut]
    retention: RetentionOut
    sale_or_sharing: bool
    targeted_advertising: bool
    direct_marketing: bool
    automated_decision: AutomatedDecisionOut | None = None


class FieldOut(_Out):
    """A field of a collection point."""

    key: str
    label: str | None = None
    category: CategoryOut
    required: bool
    purposes: list[str]


class CollectionPointOut(_Out):
    """Where data enters, and from whom."""

    key: str
    label: str
    description: str | None = None
    source: Source
    origin: str | None = None
    subjects: list[str]
    requirement: Requirement | None = None
    consequence: str | None = None
    fields: list[FieldOut]


class RecipientOut(_Out):
    """Someone data is disclosed to."""

    key: str
    name: str
    role: RecipientRole
    country: str | None = None
    purposes: list[str]
    categories: list[str]
    obligations: str | None = None
    privacy_policy: str | None = None
    transfer: bool = Field(description="Outside the controller's country and the EEA.")


class DisclosureOut(_Out):
    """An exceptional ground for disclosure."""

    ground: DisclosureGround
    description: str | None = None
    notice: bool


class TransferOut(_Out):
    """An international transfer and its safeguard (GDPR Art. 13(1)(f))."""

    recipient: str
    name: str
    country: str
    safeguard: Safeguard | None = None
    safeguard_details: str | None = None


class StorageOut(_Out):
    """Where data is kept."""

    country: str
    region: str | None = None
    provider: str | None = None
    recipient: str | None = None


class CookieOut(_Out):
    """A cookie or similar technology."""

    name: str
    provider: str
    category: CookieCategory
    purpose: str | None = None
    duration: str | None = Field(None, description='ISO 8601 duration or "session".')
    duration_text: str
    third_party: bool
    description: str | None = None


class ChannelsOut(_Out):
    """How to exercise rights."""

    email: str | None = None
    url: str | None = None
    phone: str | None = None
    postal: str | None = None
    in_app: str | None = None


class RightsOut(_Out):
    """The rights offered and how to exercise them."""

    offered: list[Right]
    channels: ChannelsOut
    response_time: str | None = Field(None, description="ISO 8601 duration.")


class PurposeRetentionOut(_Out):
    """The retention of one purpose, as it applies to a category."""

    purpose: str
    text: str


class NoticeRowOut(_Out):
    """One row of the CCPA notice at collection (1798.100(a))."""

    category: CategoryOut
    purposes: list[str]
    sold_or_shared: bool
    retention: list[PurposeRetentionOut]


class PolicyDocument(_Out):
    """A privacy policy, rendered for machines: its text as sections, and the facts behind it."""

    format: Literal["pledge.policy"] = "pledge.policy"
    format_version: Literal[1] = 1
    language: str
    declaration_digest: str = Field(description="SHA-256 of the declaration rendered.")
    controller: ControllerOut
    policy: PolicyOut
    changes: list[ChangeOut] | None = Field(
        None, description="Changes since the previous version, when one was given."
    )
    lead: list[BlockOut] = Field(description="The introduction before the first section.")
    sections: list[SectionOut]
    purposes: list[PurposeOut]
    collection: list[CollectionPointOut]
    recipients: list[RecipientOut]
    disclosures: list[DisclosureOut]
    transfers: list[TransferOut]
    storage: list[StorageOut]
    cookies: list[CookieOut]
    sells_or_shares: bool
    targeted_advertising: bool
    rights: RightsOut | None = None
    notice_at_collection: list[NoticeRowOut]

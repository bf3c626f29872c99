"""The schema of ``pledge.yaml``: what a company declares about the personal data it processes.

Plain Pydantic models, immutable, with no I/O. Loading (with line numbers) is in ``loader``;
references between sections are checked there too, because they need the whole document. The
value types are in ``fields``, the closed vocabularies in ``enums``, purposes and their
retention in ``purposes``, the ``datastores:`` section in ``datastores``; all of them are
importable from here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from pledge.declaration.datastores import (
    DATASTORE_DIALECTS,
    ColumnAnnotation,
    ColumnReference,
    Datastore,
    DatastoreUrl,
    Erasure,
    ErasureStrategy,
    Identifier,
    IdentityKind,
    LegalHold,
    Mask,
    MatchKind,
    PseudonymKind,
    Reference,
    Relation,
    Rewrite,
    TableAnnotation,
    TableRole,
)
from pledge.declaration.enums import (
    CookieCategory,
    DisclosureGround,
    LegalBasis,
    NoticeChannel,
    RecipientRole,
    Requirement,
    Right,
    Safeguard,
    SensitiveUse,
    Source,
    SpecialCategoryCondition,
)
from pledge.declaration.fields import (
    Country,
    DurationText,
    Email,
    Flag,
    Key,
    Language,
    Url,
)
from pledge.declaration.fields import Model as _Model
from pledge.declaration.purposes import AutomatedDecision, Purpose, Retention, RetentionRule
from pledge.declaration.taxonomy import (
    Category,
    Taxonomy,
    builtin_taxonomy,
    is_transfer,
)

# --- sections ----------------------------------------------------------------------------------


class Person(_Model):
    """A person or office to contact: a DPO, a representative."""

    name: str | None = Field(None, description="Name of the person or office.")
    email: Email | None = Field(None, description="E-mail address.")
    phone: str | None = Field(None, description="Telephone number, with country prefix.")
    address: str | None = Field(None, description="Postal address.")


class Authority(_Model):
    """The supervisory authority a person may complain to."""

    name: str = Field(description="Name of the authority.")
    country: Country | None = Field(None, description="Its country.")
    url: Url | None = Field(None, description="Its web site, where complaints are lodged.")


class Controller(_Model):
    """Who decides why and how personal data is processed (GDPR Art. 4(7), 13(1)(a))."""

    name: str = Field(description="Name people know the company by.")
    legal_name: str | None = Field(None, description="Registered legal name, if different.")
    country: Country = Field(description="Country of establishment (ISO 3166-1 alpha-2).")
    address: str | None = Field(None, description="Postal address.")
    email: Email | None = Field(None, description="Contact e-mail for privacy questions.")
    phone: str | None = Field(None, description="Contact telephone number.")
    hours: str | None = Field(None, description="When the telephone line is staffed.")
    website: Url | None = Field(None, description="The company's web site.")
    public_authority: Flag = Field(
        False, description="A public authority or body must appoint a DPO (GDPR Art. 37(1)(a))."
    )
    dpo: Person | None = Field(None, description="Data protection officer (GDPR Art. 37-39).")
    eu_representative: Person | None = Field(
        None, description="Representative in the EU of a controller outside it (GDPR Art. 27)."
    )
    supervisory_authority: Authority | None = Field(
        None, description="The lead supervisory authority people may complain to."
    )


class Policy(_Model):
    """The published policy: its version, dates and how changes are announced."""

    version: str = Field(description='Version of the policy, e.g. "2.1" (quote numbers).')
    effective_date: dt.date = Field(description="Date the policy takes effect (YYYY-MM-DD).")
    published_date: dt.date | None = Field(
        None, description="Date it was published, before it takes effect (notice period)."
    )
    title: str | None = Field(None, description="Title of the document; default 'Privacy policy'.")
    url: Url | None = Field(None, description="Where the policy is published.")
    languages: list[Language] = Field(
        default_factory=lambda: ["en"], min_length=1, description="Languages it is published in."
    )
    notice_period: DurationText | None = Field(
        None, description="How long before a change takes effect people are told (e.g. P30D)."
    )
    change_notice: list[NoticeChannel] = Field(
        default_factory=list, description="How people are told of changes: email, notice, …"
    )


class CategoryDefinition(_Model):
    """A data category added to the built-in taxonomy."""

    label: str = Field(description="Short name shown in the policy.")
    description: str = Field(description="What the category covers.")
    personal: Flag = Field(True, description="Whether it relates to an identifiable person.")
    sensitive: Flag = Field(
        False, description="A special category (GDPR Art. 9) or criminal data (Art. 10)."
    )


class CollectedField(_Model):
    """One piece of data a collection point gathers."""

    category: Key = Field(description="The data category of the field.")
    required: Flag = Field(False, description="Whether the person must provide it.")
    purposes: list[Key] = Field(default_factory=list, description="Purposes it is used for.")
    label: str | None = Field(None, description="The field's label as the person sees it.")


class CollectionPoint(_Model):
    """Where data enters: a form, telemetry, a social login, server logs…"""

    label: str = Field("", description="Name of the collection point.")
    description: str | None = Field(None, description="What happens there.")
    source: Source = Field(description="direct, observed, automatic or third_party.")
    origin: str | None = Field(
        None, description="Who provides the data when the source is third_party (Art. 14(2)(f))."
    )
    subjects: list[Key] = Field(
        default_factory=list, description="Whose data it is: users, visitors, customers, …"
    )
    requirement: Requirement | None = Field(
        None, description="Whether providing the required fields is statutory or contractual."
    )
    consequence: str | None = Field(
        None, description="What happens if the person does not provide the required fields."
    )
    fields: dict[Key, CollectedField] = Field(
        min_length=1, description="The fields collected, by name."
    )


def _secret_reference(value: str) -> str:
    if not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
        raise PydanticCustomError(
            "secret",
            "write the secret as a reference to an environment variable, e.g."
            " ${ACME_WEBHOOK_SECRET}: pledge.yaml is committed, secrets are not",
        )
    return value


SecretReference = Annotated[
    str,
    AfterValidator(_secret_reference),
    WithJsonSchema({"type": "string", "pattern": "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$"}),
]
"""A secret, given only as an ``${ENV_VAR}`` reference and read from the environment."""


class Webhook(_Model):
    """An HTTPS endpoint that receives signed notifications."""

    url: Url = Field(description="Where notifications are POSTed.")
    secret: SecretReference = Field(
        description="The shared signing secret, as ${ENV_VAR}: each body is signed with"
        " HMAC-SHA-256 in the Pledge-Signature header."
    )


class Recipient(_Model):
    """Someone data is disclosed to."""

    name: str = Field(description="Name of the recipient or category of recipients.")
    role: RecipientRole = Field(description="processor, third_party, affiliate or authority.")
    country: Country | None = Field(None, description="Where the recipient processes the data.")
    purposes: list[Key] = Field(default_factory=list, description="Purposes it receives data for.")
    categories: list[Key] = Field(
        default_factory=list, description="Categories it receives; default: those of its purposes."
    )
    safeguard: Safeguard | None = Field(
        None, description="Legal ground of the transfer when the country is another one."
    )
    safeguard_details: str | None = Field(None, description="Where a copy of the safeguard is.")
    obligations: str | None = Field(
        None, description="What the recipient is bound to, e.g. to follow this policy."
    )
    privacy_policy: Url | None = Field(None, description="The recipient's own privacy policy.")
    webhook: Webhook | None = Field(
        None,
        description="Where the recipient is told of rectifications, erasures and restrictions"
        " (GDPR Art. 19); without one they are listed to be told by hand.",
    )


class Disclosure(_Model):
    """An exceptional ground for disclosure, beyond the declared recipients."""

    description: str | None = Field(None, description="When and to whom, in plain language.")
    notice: Flag = Field(False, description="Whether people are told when it happens.")


class Cookie(_Model):
    """A cookie or similar technology stored on or read from the person's device."""

    provider: str = Field(description="Who sets it: the company or a named third party.")
    category: CookieCategory = Field(description="strictly_necessary, functional, …")
    purpose: Key | None = Field(None, description="The declared purpose the cookie serves.")
    duration: DurationText | Literal["session"] | None = Field(
        None, description='How long it lasts: an ISO 8601 duration or "session".'
    )
    third_party: Flag = Field(False, description="Set by a third party's domain.")
    description: str | None = Field(None, description="What it does, in plain language.")


class Channels(_Model):
    """How people reach the company to exercise their rights."""

    email: Email | None = Field(None, description="E-mail address for requests.")
    url: Url | None = Field(None, description="Web page or privacy center for requests.")
    phone: str | None = Field(None, description="Telephone number for requests.")
    postal: str | None = Field(None, description="Postal address for requests.")
    in_app: str | None = Field(None, description="Where in the product, e.g. Settings > Account.")


class Rights(_Model):
    """The rights people can exercise, and how."""

    offered: list[Right] = Field(default_factory=list, description="Rights offered.")
    channels: Channels = Field(default_factory=Channels, description="How to exercise them.")
    response_time: DurationText | None = Field(
        None, description="How quickly requests are answered (GDPR: at most P1M)."
    )


class Children(_Model):
    """Children's data: minimum age, Art. 8 consent ages, what happens on discovery."""

    minimum_age: int | None = Field(None, ge=0, le=21, description="Youngest age allowed to use.")
    restricted_to_adults: Flag = Field(False, description="The service is for adults only.")
    consent_ages: dict[Country, Annotated[int, Field(ge=13, le=16)]] = Field(
        default_factory=dict,
        description="Overrides of the built-in GDPR Art. 8 age of digital consent per country.",
    )
    parental_consent: Flag = Field(
        False, description="Parental consent is obtained below the age of digital consent."
    )
    on_discovery: str | None = Field(
        None, description="What is done with a child's data collected without consent."
    )


class StorageLocation(_Model):
    """Where data is kept."""

    country: Country = Field(description="Country of the data centre.")
    region: str | None = Field(None, description="Region or city.")
    provider: str | None = Field(None, description="Hosting provider.")
    recipient: Key | None = Field(None, description="The declared recipient that hosts it.")


class BreachNotice(_Model):
    """What the company does after a personal-data breach (GDPR Art. 33-34)."""

    channels: list[NoticeChannel] = Field(
        default_factory=list, description="How affected people are told."
    )
    notify_authority: Flag = Field(False, description="The authority is told within 72 hours.")
    description: str | None = Field(None, description="The response plan, in plain language.")


class Security(_Model):
    """Security measures (GDPR Art. 32), which also feed the record of processing."""

    measures: dict[Key, str | None] = Field(
        default_factory=dict, description="Measure key → description (optional for built-ins)."
    )
    breach: BreachNotice | None = Field(None, description="What happens after a breach.")


def _format_version(value: Any) -> Any:
    if type(value) is not int:  # not True, 1.0 or "1", which Literal[1] would let through
        raise PydanticCustomError(
            "version", f"unsupported format version '{value}'; write pledge: 1"
        )
    return value


class Declaration(_Model):
    """A validated ``pledge.yaml``: the single source of truth about personal data."""

    pledge: Annotated[Literal[1], BeforeValidator(_format_version)] = Field(
        description="Format version of the declaration: 1."
    )
    controller: Controller = Field(description="Who is responsible.")
    policy: Policy = Field(description="Version, dates, languages and change notices.")
    categories: dict[Key, CategoryDefinition] = Field(
        default_factory=dict, description="Additions to the built-in taxonomy."
    )
    purposes: dict[Key, Purpose] = Field(min_length=1, description="Why data is processed.")
    collection: dict[Key, CollectionPoint] = Field(
        default_factory=dict, description="Where data enters."
    )
    recipients: dict[Key, Recipient] = Field(
        default_factory=dict, description="Who data is disclosed to."
    )
    disclosures: dict[DisclosureGround, Disclosure] = Field(
        default_factory=dict, description="Exceptional grounds for disclosure."
    )
    cookies: dict[str, Cookie] = Field(
        default_factory=dict, description="Cookies by name (a trailing * matches a prefix)."
    )
    rights: Rights | None = Field(None, description="Rights offered and how to exercise them.")
    children: Children | None = Field(None, description="Minimum age and Art. 8 consent ages.")
    storage: list[StorageLocation] = Field(default_factory=list, description="Where data is kept.")
    security: Security | None = Field(None, description="Security measures.")
    datastores: dict[Key, Datastore] = Field(
        default_factory=dict, description="The company's databases holding personal data."
    )

    # Where the declaration was loaded from (file and positions), set by the loader.
    _origin: Any = PrivateAttr(default=None)

    @property
    def taxonomy(self) -> Taxonomy:
        """The built-in taxonomy with this declaration's additions."""
        return _extended_taxonomy(tuple(self.categories.items()))

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: the declaration's identity."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def collected_categories(self) -> dict[str, list[tuple[str, str]]]:
        """Each collected category → the (collection point, field) pairs that collect it.

        Computed once per declaration; treat the result as read-only.
        """
        return self._collected

    @cached_property
    def _collected(self) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for point_key, point in self.collection.items():
            for field_key, field in point.fields.items():
                found.setdefault(field.category, []).append((point_key, field_key))
        return found

    def purposes_using(self, category: str) -> list[str]:
        """The purposes whose categories cover ``category`` (read-only, computed once per key)."""
        memo = self._purposes_using
        if category not in memo:
            covers = self.taxonomy.covers
            memo[category] = [
                key
                for key, purpose in self.purposes.items()
                if any(covers(used, category) for used in purpose.categories)
            ]
        return memo[category]

    @cached_property
    def _purposes_using(self) -> dict[str, list[str]]:
        return {}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied; caches derived from the old fields are dropped."""
        copy = super().model_copy(update=update, deep=deep)
        for name in ("_collected", "_purposes_using"):
            copy.__dict__.pop(name, None)
        return copy

    def recipient_categories(self, key: str) -> list[str]:
        """What a recipient receives: its own list, else the categories of its purposes."""
        recipient = self.recipients[key]
        if recipient.categories:
            return list(recipient.categories)
        seen: dict[str, None] = {}
        for purpose in recipient.purposes:
            seen.update(dict.fromkeys(self.purposes[purpose].categories))
        return list(seen)

    def transfers(self) -> list[str]:
        """Keys of the recipients outside the controller's country (and outside the EEA)."""
        home = self.controller.country
        return [
            key
            for key, recipient in self.recipients.items()
            if recipient.country is not None and is_transfer(home, recipient.country)
        ]


@lru_cache(maxsize=32)
def _extended_taxonomy(additions: tuple[tuple[str, CategoryDefinition], ...]) -> Taxonomy:
    # Cached by value, not on the instance: model_copy() would carry a stale cache along.
    return builtin_taxonomy().extended(
        Category(key=key, **definition.model_dump()) for key, definition in additions
    )


__all__ = [
    "DATASTORE_DIALECTS",
    "AutomatedDecision",
    "ColumnAnnotation",
    "ColumnReference",
    "CookieCategory",
    "Datastore",
    "DatastoreUrl",
    "DisclosureGround",
    "Erasure",
    "ErasureStrategy",
    "Identifier",
    "IdentityKind",
    "LegalBasis",
    "LegalHold",
    "Mask",
    "MatchKind",
    "NoticeChannel",
    "PseudonymKind",
    "Purpose",
    "RecipientRole",
    "Reference",
    "Relation",
    "Requirement",
    "Retention",
    "RetentionRule",
    "Rewrite",
    "Right",
    "Safeguard",
    "SensitiveUse",
    "Source",
    "SpecialCategoryCondition",
    "TableAnnotation",
    "TableRole",
]

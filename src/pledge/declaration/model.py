"""The schema of ``pledge.yaml``: what a company declares about the personal data it processes.

Plain Pydantic models, immutable, with no I/O. Loading (with line numbers) is in ``loader``;
references between sections are checked there too, because they need the whole document. The
value types are in ``fields``, the ``datastores:`` section in ``datastores``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

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
from pledge.declaration.duration import DurationError, RetentionEvent, split_retention
from pledge.declaration.fields import (
    Country,
    DurationText,
    Email,
    Flag,
    Key,
    Language,
    Url,
    not_a_duration,
)
from pledge.declaration.fields import Model as _Model
from pledge.declaration.taxonomy import (
    Category,
    Taxonomy,
    builtin_taxonomy,
    is_transfer,
)

# --- enumerations ------------------------------------------------------------------------------


class LegalBasis(StrEnum):
    """GDPR Art. 6(1): exactly one lawful basis per purpose."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class SpecialCategoryCondition(StrEnum):
    """GDPR Art. 9(2): the condition under which special categories of data are processed."""

    EXPLICIT_CONSENT = "explicit_consent"  # (a)
    EMPLOYMENT_AND_SOCIAL_SECURITY = "employment_and_social_security"  # (b)
    VITAL_INTERESTS = "vital_interests"  # (c)
    NOT_FOR_PROFIT_BODY = "not_for_profit_body"  # (d)
    MADE_PUBLIC_BY_SUBJECT = "made_public_by_subject"  # (e)
    LEGAL_CLAIMS = "legal_claims"  # (f)
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial_public_interest"  # (g)
    HEALTH_OR_SOCIAL_CARE = "health_or_social_care"  # (h)
    PUBLIC_HEALTH = "public_health"  # (i)
    ARCHIVING_RESEARCH_STATISTICS = "archiving_research_statistics"  # (j)


class SensitiveUse(StrEnum):
    """CCPA 1798.121(a), 11 CCR 7027(m): the uses of sensitive personal information that a
    request to limit leaves in place."""

    EXPECTED_SERVICE = "expected_service"  # (m)(1)
    SECURITY_INCIDENTS = "security_incidents"  # (m)(2)
    MALICIOUS_ACTIONS = "malicious_actions"  # (m)(3)
    PHYSICAL_SAFETY = "physical_safety"  # (m)(4)
    TRANSIENT_USE = "transient_use"  # (m)(5)
    BUSINESS_SERVICES = "business_services"  # (m)(6)
    QUALITY_AND_SAFETY = "quality_and_safety"  # (m)(7)
    NO_INFERENCE = "no_inference"  # (m)(8)


class Source(StrEnum):
    """How data reaches the company."""

    DIRECT = "direct"  # the person gives it (a form)
    OBSERVED = "observed"  # watching what the person does (usage, telemetry)
    AUTOMATIC = "automatic"  # sent by the device or browser (IP address, cookies)
    THIRD_PARTY = "third_party"  # from someone else (a social login, a partner)


class RecipientRole(StrEnum):
    """What a recipient is to the controller."""

    PROCESSOR = "processor"
    THIRD_PARTY = "third_party"
    AFFILIATE = "affiliate"
    AUTHORITY = "authority"


class Safeguard(StrEnum):
    """The legal ground for an international transfer (GDPR Chapter V)."""

    ADEQUACY = "adequacy"  # Art. 45
    STANDARD_CONTRACTUAL_CLAUSES = "standard_contractual_clauses"  # Art. 46(2)(c)
    BINDING_CORPORATE_RULES = "binding_corporate_rules"  # Art. 47
    CERTIFICATION = "certification"  # Art. 46(2)(f)
    CODE_OF_CONDUCT = "code_of_conduct"  # Art. 46(2)(e)
    EXPLICIT_CONSENT = "explicit_consent"  # Art. 49(1)(a)
    CONTRACT_NECESSITY = "contract_necessity"  # Art. 49(1)(b)


class CookieCategory(StrEnum):
    """The categories a cookie banner lets people choose from."""

    STRICTLY_NECESSARY = "strictly_necessary"
    FUNCTIONAL = "functional"
    ANALYTICS = "analytics"
    ADVERTISING = "advertising"


class Right(StrEnum):
    """The rights a person may exercise (GDPR Art. 15-22 and 77, CCPA 1798.100-.125)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    WITHDRAW_CONSENT = "withdraw_consent"
    COMPLAINT = "complaint"
    OPT_OUT_OF_SALE = "opt_out_of_sale"
    LIMIT_SENSITIVE = "limit_sensitive"
    NON_DISCRIMINATION = "non_discrimination"
    UNSUBSCRIBE = "unsubscribe"


class DisclosureGround(StrEnum):
    """Exceptional grounds on which data may be disclosed outside the declared recipients."""

    CONSENT = "consent"
    LEGAL_OBLIGATION = "legal_obligation"
    COURT_ORDER = "court_order"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_INTEREST = "public_interest"
    ENFORCE_TERMS = "enforce_terms"
    LEGAL_CLAIMS = "legal_claims"
    FRAUD_AND_SECURITY = "fraud_and_security"
    MERGER_OR_ACQUISITION = "merger_or_acquisition"


class Requirement(StrEnum):
    """GDPR Art. 13(2)(e): why a person has to provide data, if they have to."""

    STATUTORY = "statutory"  # the law requires it
    CONTRACTUAL = "contractual"  # the contract requires it
    CONTRACT_ENTRY = "contract_entry"  # needed to enter into the contract
    VOLUNTARY = "voluntary"  # nobody has to


class NoticeChannel(StrEnum):
    """How people are told about something: a policy change, a breach."""

    EMAIL = "email"
    NOTICE = "notice"  # a prominent notice on the service
    IN_APP = "in_app"
    POST = "post"
    SMS = "sms"


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


def _retention(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise PydanticCustomError("duration", not_a_duration(value))
    if isinstance(value, str):
        try:
            period, event = split_retention(value)
        except DurationError as error:
            raise PydanticCustomError("vague" if error.vague else "duration", str(error)) from None
        return {"period": period, "after": event or RetentionEvent.COLLECTION}
    return value


class Retention(_Model):
    """How long data is kept: a period, counted from an event.

    Written either in full (``{period: P30D, after: account_closed}``) or in short
    (``"P30D after account_closed"``; ``"P2Y"`` counts from collection).
    """

    period: DurationText = Field(description="ISO 8601 duration, e.g. P30D, P6M, P2Y.")
    after: RetentionEvent = Field(
        RetentionEvent.COLLECTION, description="The event the period counts from."
    )
    reason: str | None = Field(None, description="Why this long, e.g. the law that requires it.")


class _RetentionShortForm:
    """Adds the short string form ("P30D after account_closed") to the JSON Schema."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        short = {
            "type": "string",
            "pattern": r"^\s*[Pp]\S*(\s+after\s+[a-z_]+)?\s*$",
            "examples": ["P2Y", "P30D after account_closed"],
        }
        return {"anyOf": [handler(core_schema), short]}


RetentionRule = Annotated[Retention, BeforeValidator(_retention), _RetentionShortForm]


class AutomatedDecision(_Model):
    """Automated decision-making with legal or similar effect (GDPR Art. 22, 13(2)(f))."""

    logic: str = Field(description="Meaningful information about the logic involved.")
    significance: str = Field(description="Its significance and envisaged consequences.")
    safeguards: list[str] = Field(
        default_factory=list, description="e.g. human review, the right to contest the decision."
    )


class Purpose(_Model):
    """Why data is processed, on which legal basis, using which categories, for how long."""

    label: str = Field("", description="Short name; defaults from the built-in vocabulary.")
    description: str = Field("", description="What the processing does, in plain language.")
    legal_basis: LegalBasis | None = Field(None, description="GDPR Art. 6(1) basis.")
    legitimate_interest: str | None = Field(
        None, description="The interest pursued, when the basis is legitimate_interests."
    )
    interest_assessment: str | None = Field(
        None, description="Reference to the legitimate-interests assessment (LIA) record."
    )
    categories: list[Key] = Field(default_factory=list, description="Data categories used.")
    retention: RetentionRule | None = Field(None, description="How long the data is kept.")
    sale_or_sharing: Flag = Field(
        False, description="Selling or sharing personal information (CCPA 1798.140(ad), (ah))."
    )
    targeted_advertising: Flag = Field(
        False, description="Advertising chosen from the person's activity or profile."
    )
    direct_marketing: Flag = Field(
        False, description="Direct marketing: an objection to it is absolute (GDPR Art. 21(3))."
    )
    automated_decision: AutomatedDecision | None = Field(
        None, description="Solely automated decisions with legal or similar effect."
    )
    consent_max_age: DurationText | None = Field(
        None, description="How long a grant counts before the person is asked again, e.g. P1Y."
    )
    special_category_condition: SpecialCategoryCondition | None = Field(
        None,
        description="The GDPR Art. 9(2) condition for special categories of data; consent"
        " purposes are explicit consent, Art. 9(2)(a).",
    )
    criminal_data_authorisation: str | None = Field(
        None,
        description="The law authorising the processing of criminal-offence data, or the"
        " official authority controlling it (GDPR Art. 10).",
    )
    ccpa_sensitive_use: SensitiveUse | None = Field(
        None,
        description="The use of sensitive personal information CCPA 1798.121(a) allows that the"
        " purpose keeps to; a request to limit leaves it running.",
    )

    @model_validator(mode="after")
    def _explicit_consent_is_consent(self) -> Self:
        """Explicit consent (Art. 9(2)(a)) is checked in the consent ledger: a consent purpose."""
        if (
            self.special_category_condition is SpecialCategoryCondition.EXPLICIT_CONSENT
            and self.legal_basis is not LegalBasis.CONSENT
        ):
            raise PydanticCustomError(
                "special_category_condition",
                "special_category_condition explicit_consent applies to purposes based on"
                " consent, whose grants Pledge checks; this one is based on"
                f" {self.legal_basis.value if self.legal_basis else 'no legal basis'}",
            )
        return self

    @model_validator(mode="after")
    def _max_age_for_consent(self) -> Self:
        """Only consent expires, and only after some time."""
        if self.consent_max_age is None:
            return self
        if self.legal_basis is not LegalBasis.CONSENT:
            raise PydanticCustomError(
                "consent_max_age",
                "consent_max_age applies to purposes based on consent; this one is based on"
                f" {self.legal_basis.value if self.legal_basis else 'no legal basis'}",
            )
        if not self.consent_max_age.parts:
            raise PydanticCustomError(
                "consent_max_age", "consent_max_age must be longer than no time, e.g. P1Y"
            )
        return self


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
    "ColumnAnnotation",
    "ColumnReference",
    "Datastore",
    "DatastoreUrl",
    "Erasure",
    "ErasureStrategy",
    "Identifier",
    "IdentityKind",
    "LegalHold",
    "Mask",
    "MatchKind",
    "PseudonymKind",
    "Reference",
    "Relation",
    "Rewrite",
    "TableAnnotation",
    "TableRole",
]

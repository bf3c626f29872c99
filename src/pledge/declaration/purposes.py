"""A purpose of processing (why, on which legal basis, with which categories, for how long) and
its retention rule, as ``pledge.yaml`` declares them under ``purposes:``."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from pledge.declaration.duration import DurationError, RetentionEvent, split_retention
from pledge.declaration.enums import LegalBasis, SensitiveUse, SpecialCategoryCondition
from pledge.declaration.fields import DurationText, Flag, Key, not_a_duration
from pledge.declaration.fields import Model as _Model


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


__all__ = ["AutomatedDecision", "Purpose", "Retention", "RetentionRule"]

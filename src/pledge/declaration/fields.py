"""The value types every section of ``pledge.yaml`` uses: durations, countries, e-mail
addresses, web addresses, keys, language tags, flags, and the base of every section's model."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from pledge.declaration.duration import Duration, DurationError
from pledge.declaration.taxonomy import country_codes


def not_a_duration(value: Any) -> str:
    """What to say of a value that is not an ISO 8601 duration."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (
            f"{value} has no unit; write an ISO 8601 duration such as P{value}D (days),"
            f" P{value}M (months) or P{value}Y (years)"
        )
    return "expected an ISO 8601 duration such as P30D"


def _duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("duration", not_a_duration(value))
    try:
        return Duration.parse(value)
    except DurationError as error:
        raise PydanticCustomError("vague" if error.vague else "duration", str(error)) from None


DurationText = Annotated[
    Duration,
    BeforeValidator(_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^[Pp]", "examples": ["P30D", "P2Y", "PT72H"]}),
]


_COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}


def _country(value: str) -> str:
    if value not in country_codes():
        hint = _COUNTRY_HINTS.get(value.upper())
        suffix = f"; did you mean '{hint}'?" if hint else " (e.g. DE, US, GB)"
        raise PydanticCustomError(
            "country", f"'{value}' is not an ISO 3166-1 alpha-2 country code{suffix}"
        )
    return value


Country = Annotated[
    str,
    AfterValidator(_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$", "examples": ["DE", "US"]}),
]


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email  # 20 ms to import: on use

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise PydanticCustomError("email", f"'{value}' is not an e-mail address: {error}") from None


Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]


def _url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
        raise PydanticCustomError("url", f"'{value}' is not a web address; start with https://")
    return value


Url = Annotated[
    str, AfterValidator(_url), WithJsonSchema({"type": "string", "pattern": "^https?://"})
]


_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


def _key(value: str) -> str:
    if not re.fullmatch(_KEY_PATTERN, value):
        raise PydanticCustomError(
            "key", f"'{value}' is not a valid key; use lowercase letters, digits and underscores"
        )
    return value


Key = Annotated[
    str, AfterValidator(_key), WithJsonSchema({"type": "string", "pattern": _KEY_PATTERN})
]
"""A name other parts of the declaration refer to: lowercase snake_case, dots for hierarchy."""


def _language(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        raise PydanticCustomError(
            "language", f"'{value}' is not a language tag such as en or de-AT"
        )
    return value


Flag = Annotated[bool, Strict()]
"""A boolean written as true or false; YAML 1.1's yes/no/on/off are refused."""

Language = Annotated[
    str,
    AfterValidator(_language),
    WithJsonSchema({"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"}),
]


class Model(BaseModel):
    """The base of every section: unknown keys refused, immutable, strings stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

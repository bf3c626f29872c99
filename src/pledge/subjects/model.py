"""Identities: how Pledge recognises a person, normalised so that one person is one subject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pledge.errors import InvalidIdentity as InvalidIdentity  # its home was here


class IdentityKind(StrEnum):
    """The kinds of identifier a subject can be found by."""

    EMAIL = "email"
    PHONE = "phone"
    ACCOUNT = "account"
    DEVICE = "device"


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}")


@dataclass(frozen=True, slots=True)
class Identity:
    """A normalised identifier: ``Identity.parse("email", " Ann@Example.COM ")``."""

    kind: IdentityKind
    value: str

    @classmethod
    def parse(cls, kind: str, value: str, *, default_region: str | None = None) -> Identity:
        """Normalise an identifier of the given kind.

        Args:
            kind: email, phone, account or device.
            value: what the person or the company's system gave.
            default_region: country for phone numbers written without +prefix (e.g. "DE").

        Raises:
            InvalidIdentity: with a message for the person who typed it.
        """
        try:
            identity_kind = IdentityKind(kind)
        except ValueError:
            choices = ", ".join(k.value for k in IdentityKind)
            raise InvalidIdentity(f"unknown identity kind {kind!r}; use one of {choices}") from None
        text = value.strip()
        if identity_kind is IdentityKind.EMAIL:
            return cls(identity_kind, normalise_email(text))
        if identity_kind is IdentityKind.PHONE:
            return cls(identity_kind, normalise_phone(text, default_region))
        if not _TOKEN.fullmatch(text):
            raise InvalidIdentity(
                f"a {kind} id is 1-200 letters, digits or . _ : @ / + = -, starting with a"
                " letter or digit"
            )
        return cls(identity_kind, text)


def normalise_email(text: str) -> str:
    """An e-mail address in the form used for lookups: validated, the whole address lowercased.

    Raises:
        InvalidIdentity: not an e-mail address.
    """
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidIdentity(f"not an e-mail address: {error}") from None


def normalise_phone(text: str, default_region: str | None = None) -> str:
    """A phone number in E.164 form (``+4930123456``).

    Raises:
        InvalidIdentity: not a valid phone number.
    """
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentity(
            "not a phone number; write it with its country prefix, e.g. +49 30 1234567"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

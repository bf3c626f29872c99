"""Request and response pieces that more than one router uses.

Each router defines its own ``XIn``/``XOut`` schemas; they are the API's contract and stay
separate from the model objects of the rooms, which may change without breaking clients.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from pledge.subjects.model import IdentityKind


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    return text


#: Text that every backend can store: valid UTF-8, no NUL.
Text = Annotated[str, AfterValidator(_encodable)]
#: A key of the declaration (purpose, recipient, category).
DeclarationKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$"),
    Field(examples=["newsletter"]),
]


class Schema(BaseModel):
    """The base of the API's schemas: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class IdentityIn(Schema):
    """An identifier a subject can be found by."""

    kind: IdentityKind = Field(description="email, phone, account or device.")
    value: Annotated[Text, StringConstraints(min_length=1, max_length=320)] = Field(
        description="The identifier as given; Pledge normalises it (e-mail case, E.164 phone).",
        examples=["ann@example.com"],
    )


class IdentityOut(BaseModel):
    """An identifier of a subject, normalised."""

    kind: IdentityKind
    value: str

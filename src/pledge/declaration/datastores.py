"""The ``datastores:`` section of ``pledge.yaml``: the company's own databases, annotated.

Which columns hold what, which identify a person and how they compare, which tables are tables
of people, which links make a row someone's, how each table forgets a person and what the law
makes the company keep. Names are written as the database spells them: spaces, capitals and
reserved words included.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from pledge.declaration.duration import RetentionEvent
from pledge.declaration.fields import Country, DurationText, Flag, Key, Model

_NAME_LIMIT = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _identifier(value: str) -> str:
    if not value or len(value) > _NAME_LIMIT or _CONTROL.search(value):
        raise PydanticCustomError(
            "identifier",
            f"'{value}' is not a table or column name: write it as the database spells it"
            f" (1 to {_NAME_LIMIT} characters, no control characters)",
        )
    return value


Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": _NAME_LIMIT}),
]
"""The name of a table or column as the database spells it (``Order Details``, ``User``)."""


class Reference(Model):
    """The column (or columns, for a composite key) of a table that a relation points to."""

    table: Identifier = Field(description="The table, as the database spells it.")
    column: Identifier | list[Identifier] = Field(
        description="The column, or the columns of a composite key in order."
    )

    @property
    def columns(self) -> tuple[str, ...]:
        """The referenced columns, in order."""
        return (self.column,) if isinstance(self.column, str) else tuple(self.column)


def _reference(value: Any) -> Any:
    """``table.column`` (split at the last dot) as a :class:`Reference`; mappings as given."""
    if not isinstance(value, str):
        return value
    table, dot, column = value.rpartition(".")
    if not dot or not table or not column:
        raise PydanticCustomError(
            "column_reference",
            f"'{value}' is not a column reference; write it as table.column, or as"
            " {table: ..., column: ...} when the table's name holds a dot",
        )
    return {"table": table, "column": column}


ColumnReference = Annotated[
    Reference,
    BeforeValidator(_reference),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^.+\..+$", "examples": ["users.email"]},
                {
                    "type": "object",
                    "properties": {
                        "table": {"type": "string"},
                        "column": {
                            "anyOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "string"}},
                            ]
                        },
                    },
                    "required": ["table", "column"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
"""A column of a table of the same datastore: ``table.column`` or ``{table:, column:}``."""

DATASTORE_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")
"""The databases a datastore URL may name (SQLAlchemy dialects, with an optional driver)."""

_ENV_REFERENCE = r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"
_SECRET_PARAMETERS = ("password", "passwd", "pwd", "sslpassword")


def _datastore_url(value: str) -> str:
    found = re.fullmatch(r"(?P<dialect>[A-Za-z0-9]+)(\+[A-Za-z0-9_]+)?://(?P<rest>.*)", value)
    if found is None or found["dialect"] not in DATASTORE_DIALECTS:
        raise PydanticCustomError(
            "datastore_url",
            f"'{value}' is not a database URL; start with one of"
            f" {', '.join(name + '://' for name in DATASTORE_DIALECTS)} (a driver may follow"
            " the name: postgresql+psycopg://)",
        )
    authority = found["rest"].split("/", 1)[0]
    userinfo = authority.rpartition("@")[0]
    colon, password = userinfo.partition(":")[1:]
    literal = bool(colon) and not re.fullmatch(_ENV_REFERENCE, password)
    query = found["rest"].partition("?")[2]
    for parameter in query.split("&") if query else ():
        name, _, given = parameter.partition("=")
        if name.lower() in _SECRET_PARAMETERS and not re.fullmatch(_ENV_REFERENCE, given):
            literal = True
    if literal:
        raise PydanticCustomError(
            "secret",
            "the datastore URL contains a password; write a reference to an environment"
            " variable instead, e.g. postgresql+psycopg://app:${DB_PASSWORD}@db.example/app,"
            " and set DB_PASSWORD where Pledge runs: pledge.yaml is committed, secrets are not",
        )
    return value


DatastoreUrl = Annotated[
    str,
    AfterValidator(_datastore_url),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^(sqlite|postgresql|mysql|mariadb)(\\+[A-Za-z0-9_]+)?://",
            "examples": ["postgresql+psycopg://app:${DB_PASSWORD}@db.example:5432/app"],
        }
    ),
]


class IdentityKind(StrEnum):
    """What identifies a person in an identity column."""

    EMAIL = "email"
    PHONE = "phone"
    ACCOUNT = "account"  # the company's own account or customer id
    DEVICE = "device"  # a device or installation id


PERSON_KINDS = frozenset({IdentityKind.EMAIL, IdentityKind.PHONE, IdentityKind.ACCOUNT})
"""Identity kinds that name a person; a device id names a device, which belongs to someone."""


class MatchKind(StrEnum):
    """How the values of an identity column are compared with a person's identity."""

    EXACT = "exact"  # as stored: account and device ids
    IGNORE_CASE = "ignore_case"  # case and surrounding whitespace ignored: e-mail addresses
    PHONE = "phone"  # the digits, whatever the spelling: phone numbers


DEFAULT_MATCH = {
    IdentityKind.EMAIL: MatchKind.IGNORE_CASE,
    IdentityKind.PHONE: MatchKind.PHONE,
    IdentityKind.ACCOUNT: MatchKind.EXACT,
    IdentityKind.DEVICE: MatchKind.EXACT,
}
"""How each kind of identity compares unless the column says otherwise."""


class TableRole(StrEnum):
    """What a table's rows are: people, or things that belong to people."""

    PERSON = "person"  # a row is one person: customers, staff, employees
    OWNED = "owned"  # a row belongs to the person (or people) it links to


class ErasureStrategy(StrEnum):
    """How a table forgets a person: its rows go, or some of their columns are rewritten."""

    DELETE = "delete"
    REWRITE = "rewrite"


class PseudonymKind(StrEnum):
    """How a pseudonym is derived from the value it replaces."""

    HMAC = "hmac"  # keyed HMAC-SHA-256 under a key of this erasure alone: links nothing
    STABLE = "stable"  # under the datastore's key: the same value, the same pseudonym (joins)


class ColumnAnnotation(Model):
    """What a column of a company's table holds about people."""

    category: Key = Field(description="The data category of the values in the column.")
    identity: IdentityKind | None = Field(
        None, description="The column identifies a person: email, phone, account or device."
    )
    match: MatchKind | None = Field(
        None,
        description="How an identity column compares: exact, ignore_case or phone (default by"
        " kind: e-mail ignore_case, phone phone, account and device exact).",
    )
    region: Country | None = Field(
        None,
        description="Phone identities: the country of numbers stored without a country code"
        " (default: the controller's country).",
    )
    secret: Flag = Field(
        False,
        description="A credential (a token, a secret answer): held, never exported to the"
        " person. The category account.password is secret too.",
    )
    correctable: Flag = Field(
        False, description="The person may have the value corrected (GDPR Art. 16)."
    )
    provided: Flag = Field(
        False, description="The person provided the value: part of a portability export."
    )

    @model_validator(mode="after")
    def _matching_needs_identity(self) -> Self:
        """``match`` and ``region`` describe identity columns only."""
        if self.identity is None and (self.match is not None or self.region is not None):
            raise PydanticCustomError(
                "match", "match and region describe identity columns: add identity, or drop them"
            )
        if self.region is not None and self.matching is not MatchKind.PHONE:
            raise PydanticCustomError("match", "region applies to phone numbers (match: phone)")
        return self

    @property
    def matching(self) -> MatchKind | None:
        """How this identity column compares (None when it is not an identity column)."""
        if self.identity is None:
            return None
        return self.match or DEFAULT_MATCH[self.identity]


class Mask(Model):
    """Masking: every character replaced by ``*`` except the last few."""

    keep_last: int = Field(ge=0, le=64, description="How many trailing characters stay readable.")


class Rewrite(Model):
    """What an erased value of a column becomes: exactly one of fixed, mask or pseudonym."""

    fixed: str | int | float | None = Field(None, description="A fixed value written instead.")
    mask: Mask | None = Field(None, description="The value masked, keeping its last characters.")
    pseudonym: PseudonymKind | None = Field(
        None,
        description="A keyed pseudonym of the value: hmac (a key of this erasure alone) or"
        " stable (the datastore's key, the same in every table and erasure, for joins).",
    )

    @model_validator(mode="after")
    def _one_method(self) -> Self:
        """Refuse a rewrite that names no method, or more than one."""
        chosen = [
            name for name in ("fixed", "mask", "pseudonym") if getattr(self, name) is not None
        ]
        if len(chosen) != 1:
            raise PydanticCustomError(
                "rewrite",
                "write exactly one of fixed, mask or pseudonym (or null to empty the column),"
                f" not {' and '.join(chosen) or 'none'}",
            )
        return self


class Erasure(Model):
    """How a table forgets a person."""

    strategy: ErasureStrategy = Field(description="delete the person's rows, or rewrite columns.")
    rewrite: dict[Identifier, Rewrite | None] | None = Field(
        None,
        description="With strategy rewrite: column → null (empty it) or how to rewrite it.",
    )

    @model_validator(mode="after")
    def _columns_match_strategy(self) -> Self:
        """A rewrite names its columns; a deletion rewrites nothing."""
        if self.strategy is ErasureStrategy.REWRITE and not self.rewrite:
            raise PydanticCustomError(
                "erasure", "strategy rewrite needs 'rewrite': the columns to rewrite and how"
            )
        if self.strategy is ErasureStrategy.DELETE and self.rewrite:
            raise PydanticCustomError(
                "erasure", "strategy delete removes whole rows; drop 'rewrite' or use rewrite"
            )
        return self


class LegalHold(Model):
    """Rows the law requires to be kept: retained (and restricted) despite an erasure request."""

    retain: DurationText = Field(description="How long the rows are kept, e.g. P10Y.")
    reason: str = Field(min_length=1, description="The obligation, e.g. the law that requires it.")
    after: RetentionEvent = Field(
        RetentionEvent.COLLECTION, description="The event the period counts from."
    )


class Relation(Model):
    """A link between tables: one the database does not declare as a foreign key, or how a
    foreign key it declares is followed."""

    column: Identifier | list[Identifier] = Field(
        description="The column of this table, or the columns of a composite link in order."
    )
    references: ColumnReference = Field(
        description="What it points to: table.column, or {table: …, column: […]}."
    )
    follow: Flag | None = Field(
        None,
        description="false: the link only refers to someone (the agent who handled a"
        " booking), requests do not follow it; true: a row belongs to each person it links"
        " to this way. Unset: followed when it is the only link that makes the row someone's.",
    )

    @property
    def columns(self) -> tuple[str, ...]:
        """The linking columns of this table, in order."""
        return (self.column,) if isinstance(self.column, str) else tuple(self.column)

    @model_validator(mode="after")
    def _same_width(self) -> Self:
        """A composite link names as many columns on each side."""
        if len(self.columns) != len(self.references.columns):
            raise PydanticCustomError(
                "relation",
                f"the relation links {len(self.columns)} column(s) to"
                f" {len(self.references.columns)}: name as many on each side, in order",
            )
        return self


class TableAnnotation(Model):
    """What a table holds about people, how it links to others and how it is erased."""

    role: TableRole | None = Field(
        None,
        description="person: a row is one person (customers, staff); owned: a row belongs to"
        " the person it links to. Default: person when the table has an e-mail, phone or"
        " account identity column and points to no table declared person, owned otherwise.",
    )
    columns: dict[Identifier, ColumnAnnotation] = Field(
        default_factory=dict, description="The columns holding personal data, by name."
    )
    erasure: Erasure | None = Field(None, description="How the table forgets a person.")
    legal_hold: LegalHold | None = Field(
        None, description="Rows kept under a legal obligation despite erasure requests."
    )
    relations: list[Relation] = Field(
        default_factory=list,
        description="Links to other tables that are not foreign keys, and how foreign keys are"
        " followed.",
    )

    @property
    def is_person(self) -> bool:
        """Whether a row of this table is one person, as far as the table alone tells
        (declared, or by its identity columns); ``datastores.graph`` also weighs its links."""
        if self.role is not None:
            return self.role is TableRole.PERSON
        return any(column.identity in PERSON_KINDS for column in self.columns.values())


class Datastore(Model):
    """A company database Pledge reads and changes to carry out people's requests."""

    url: DatastoreUrl = Field(
        description="SQLAlchemy URL; secrets only as ${ENV_VAR} references, expanded on connect."
    )
    tables: dict[Identifier, TableAnnotation] = Field(
        min_length=1, description="The tables holding personal data, by name."
    )

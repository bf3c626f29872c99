"""Column-name evidence: what ``email``, ``c_eml_addr`` or ``product_code`` say about a column.

Plain Python. Names are split into words (``firstName`` → ``first``, ``name``; ``c_eml_addr`` →
``c``, ``eml``, ``addr``; ``E-mail Address`` → ``e``, ``mail``, ``address``) and matched
against rules per category; a name that says nothing (``fld_17``) gives no evidence, and one
that describes a thing (``firmware_version``) vetoes what the values alone would suggest.

The table counts too: a bare ``name``, a ``photo`` or ``notes`` are a person's only in a table
of people, and a ``city`` in a table that lists cities names a place, not where someone lives.
Whether a name may stand on its own is :mod:`pledge.datastores.classify`'s call: the name of
an integer key (``address_id``) says what the key points to, not what the column holds
(:func:`is_key_name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

_NAME_WORDS = frozenset(
    {
        "surname", "forename", "fname", "lname", "firstname", "lastname", "fullname",
        "composer", "composers", "author", "lyricist", "songwriter",
    }
)  # fmt: skip
"""Words that name a person on their own, credits (``composer``, ``author``) included."""

# Each rule: category, words that say it on their own, word pairs that say it together, and
# substrings of a name written without separators (``emailaddress``). First match wins, so an
# ``ip_address`` is an IP address before it is a postal address.
_NAME_RULES: tuple[
    tuple[str, frozenset[str], tuple[tuple[str, str], ...], tuple[str, ...]], ...
] = (
    ("contact.email", frozenset({"email", "mail", "eml", "emails"}), (), ("email",)),
    (
        "device.ip_address",
        frozenset({"ip", "ipv4", "ipv6", "ipaddr", "ipaddress"}),
        (("remote", "addr"), ("client", "addr")),
        ("ipaddress",),
    ),
    (
        "contact.phone",
        frozenset({"phone", "tel", "telephone", "mobile", "mob", "cell", "msisdn", "fax"}),
        (),
        ("phone", "mobile"),
    ),
    (
        "financial.payment_card",
        frozenset({"pan", "ccnum", "ccn", "creditcard"}),
        (("card", "number"), ("card", "no"), ("card", "num"), ("cc", "number"), ("cc", "no")),
        ("cardnumber", "creditcard"),
    ),
    (
        "financial.bank_account",
        frozenset({"iban"}),
        (("bank", "account"), ("account", "number")),
        ("iban",),
    ),
    (
        "identity.government_id",
        frozenset({"ssn", "nino", "nir", "dni", "nie", "bsn", "passport", "idnr", "steuerid"}),
        (
            ("tax", "id"),
            ("national", "id"),
            ("social", "security"),
            ("codice", "fiscale"),
            ("id", "card"),
            ("driving", "licence"),
            ("driver", "license"),
        ),
        ("passport", "nationalid", "taxid"),
    ),
    (
        "identity.date_of_birth",
        frozenset({"dob", "birth", "birthdate", "birthday", "born", "geburtsdatum"}),
        (),
        ("birth",),
    ),
    (
        "identity.name",
        _NAME_WORDS,
        (
            ("contact", "name"),
            ("customer", "name"),
            ("person", "name"),
            ("employee", "name"),
            ("holder", "name"),
            ("first", "name"),
            ("last", "name"),
            ("full", "name"),
            ("given", "name"),
            ("family", "name"),
            ("middle", "name"),
            ("maiden", "name"),
        ),
        ("firstname", "lastname", "fullname", "surname"),
    ),
    (
        "contact.postal_address",
        frozenset(
            {"address", "addr", "street", "city", "town", "zip", "zipcode", "postcode", "plz"}
        ),
        (("postal", "code"), ("house", "number")),
        ("address", "street", "postcode", "zipcode"),
    ),
    (
        "identity.photo",
        frozenset({"avatar", "headshot", "selfie", "mugshot"}),
        (("profile", "picture"), ("profile", "photo"), ("profile", "image")),
        ("avatar",),
    ),
    ("device.browser", frozenset({"ua", "useragent"}), (("user", "agent"),), ("useragent",)),
    ("location.precise", frozenset({"lat", "latitude", "lng", "lon", "longitude"}), (), ()),
    ("account.username", frozenset({"username", "login"}), (("user", "name"),), ("username",)),
    ("account.password", frozenset({"password", "passwd", "pwd"}), (), ("password",)),
)

_FREE_TEXT_WORDS = frozenset({"message", "comment", "comments", "feedback", "bio", "review"})
"""Names of columns where people write about themselves: personal even without contact data."""

_NOTE_WORDS = frozenset({"note", "notes", "remark", "remarks", "memo"})
"""Names of free text that is about a person when the table is one of people."""

_PHOTO_WORDS = frozenset({"photo", "photos", "picture", "pic", "image", "portrait", "thumbnail"})
"""Names of pictures that show a person when the table is one of people (not a product's)."""

_EVENT_WORDS = frozenset(
    {
        "hire", "hired", "start", "started", "end", "ended", "order", "ordered", "placed",
        "required", "shipped", "delivered", "create", "created", "creation", "update",
        "updated", "modified", "changed", "last", "issued", "opened", "closed", "paid",
        "payment", "invoice", "rental", "return", "returned", "due", "expires", "expiry",
        "registered", "joined", "signup", "sent", "received", "deleted", "booked", "built",
        "recorded", "logged", "seen", "timestamp",
    }
)  # fmt: skip
"""Words that say a date records when something happened (``hire_date``, ``last_update``)."""

_PLACE_TABLES = frozenset(
    {
        "city", "cities", "town", "towns", "country", "countries", "region", "regions",
        "state", "states", "province", "provinces", "stateprovince", "countryregion",
        "district", "districts", "zip", "zips", "zipcode", "zipcodes", "postcode", "postcodes",
        "postalcode", "postalcodes",
    }
)  # fmt: skip
"""Tables that list places: their ``city`` or ``zip`` names a place, not a person's address."""

_KEY_PREFIXES = ("id", "fk", "pk")
"""First words of key names (``id_city``, ``fk_customer``)."""
_KEY_SUFFIXES = ("id", "key")
"""Endings of key names, across words (``address_id``, ``AddressID``, ``CustomerKey``)."""

_NOT_PERSONAL_WORDS = frozenset(
    {
        "version", "ver", "sku", "product", "order", "code", "status", "price", "amount",
        "qty", "quantity", "count", "total", "checksum", "serial", "sequence", "build",
        "batch", "lot", "tracking", "firmware", "model", "currency",
    }
)  # fmt: skip
"""Words that say a column describes a thing, not a person: value detectors are vetoed."""

_PERSON_TABLE_WORDS = frozenset(
    {
        "user", "users", "customer", "customers", "person", "persons", "people", "member",
        "members", "employee", "employees", "contact", "contacts", "account", "accounts",
        "client", "clients", "patient", "patients", "subscriber", "subscribers", "staff",
        "author", "authors", "profile", "profiles", "student", "students", "guest", "guests",
    }
)  # fmt: skip
"""Table words under which a bare ``name``, a ``photo`` and ``notes`` are a person's."""


def name_words(name: str) -> list[str]:
    """The lower-case words of an identifier: ``c_eml_addr`` → ``["c", "eml", "addr"]``."""
    return [word.lower() for word in _WORDS.findall(name)]


@dataclass(frozen=True)
class NameEvidence:
    """What a column's name says.

    Args:
        category: the category the name suggests, or None.
        not_personal: the name describes a thing (``product_code``, ``firmware_version``).
        free_text: the name is one where people write about themselves (``comment``), or of
            notes in a table of people.
        event: the name says when something happened (``hire_date``, ``last_update``,
            ``created_at``): its dates are not birth dates.
    """

    category: str | None = None
    not_personal: bool = False
    free_text: bool = False
    event: bool = False


def name_evidence(column: str, table: str = "") -> NameEvidence:
    """What the name of ``column`` in ``table`` says about its content.

    Args:
        column: the column's name, in any case and style (``firstName``, ``c_eml_addr``,
            ``PostalCode``, ``E-mail Address``).
        table: the table's name; a bare ``name``, a ``photo`` or ``notes`` are a person's only
            in a table of people, and a ``city`` in a table of cities is a place.

    Returns:
        The evidence; ``NameEvidence()`` when the name says nothing (``fld_17``).
    """
    words = name_words(column)
    word_set = set(words)
    event = bool(word_set & _EVENT_WORDS)
    category = _category(words)
    table_words = name_words(table)
    if category == "contact.postal_address" and "".join(table_words) in _PLACE_TABLES:
        category = None  # Sakila's city.city: the table lists places, not where people live
    of_people = bool(set(table_words) & _PERSON_TABLE_WORDS)
    if category is None and of_people:
        if words == ["name"]:
            category = "identity.name"
        elif word_set & _PHOTO_WORDS:
            category = "identity.photo"
    if category is not None:
        return NameEvidence(category=category, event=event)
    return NameEvidence(
        not_personal=bool(word_set & _NOT_PERSONAL_WORDS),
        free_text=bool(word_set & _FREE_TEXT_WORDS or (of_people and word_set & _NOTE_WORDS)),
        event=event,
    )


def is_key_name(column: str) -> bool:
    """Whether a name is one keys are given: ``address_id``, ``AddressID``, ``id_city``.

    Args:
        column: the column's name; ``businessentityid``, as PostgreSQL folds unquoted names,
            counts too, and so does ``CustomerKey``.

    Returns:
        True when the name starts with ``id``, ``fk`` or ``pk`` or ends with ``id`` or ``key``.
    """
    words = name_words(column)
    return bool(words) and (words[0] in _KEY_PREFIXES or "".join(words).endswith(_KEY_SUFFIXES))


def _category(words: list[str]) -> str | None:
    """The first rule's category the words match.

    A substring counts inside one word (``emailaddress``, as PostgreSQL folds ``EmailAddress``)
    or from the start of a word across the next ones (``post_code``), never from the middle of
    a word across a boundary: ``ShipAddress`` holds no ``ipaddress``.
    """
    word_set = set(words)
    squashed = "".join(words)
    starts = [sum(map(len, words[:index])) for index in range(len(words))]
    for category, singles, pairs, substrings in _NAME_RULES:
        if (
            word_set & singles
            or any(first in word_set and second in word_set for first, second in pairs)
            or any(
                any(part in word for word in words)
                or any(squashed.startswith(part, start) for start in starts)
                for part in substrings
            )
        ):
            return category
    return None

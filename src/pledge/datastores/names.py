"""Column-name evidence: what ``email``, ``c_eml_addr`` or ``product_code`` say about a column.

Plain Python. Names are split into words (``firstName`` → ``first``, ``name``; ``c_eml_addr`` →
``c``, ``eml``, ``addr``) and matched against rules per category; a name that says nothing
(``fld_17``) gives no evidence, and one that describes a thing (``firmware_version``) vetoes
what the values alone would suggest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

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
        frozenset({"surname", "forename", "fname", "lname", "firstname", "lastname", "fullname"}),
        (
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
    ("device.browser", frozenset({"ua", "useragent"}), (("user", "agent"),), ("useragent",)),
    ("location.precise", frozenset({"lat", "latitude", "lng", "lon", "longitude"}), (), ()),
    ("account.username", frozenset({"username", "login"}), (("user", "name"),), ("username",)),
    ("account.password", frozenset({"password", "passwd", "pwd"}), (), ("password",)),
)

_FREE_TEXT_WORDS = frozenset({"message", "comment", "comments", "feedback", "bio", "review"})
"""Names of columns where people write about themselves: personal even without contact data."""

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
"""Table words under which a bare ``name`` column is a person's name."""


def name_words(name: str) -> list[str]:
    """The lower-case words of an identifier: ``c_eml_addr`` → ``["c", "eml", "addr"]``."""
    return [word.lower() for word in _WORDS.findall(name)]


@dataclass(frozen=True)
class NameEvidence:
    """What a column's name says.

    Args:
        category: the category the name suggests, or None.
        not_personal: the name describes a thing (``product_code``, ``firmware_version``).
        free_text: the name is one where people write about themselves (``comment``).
    """

    category: str | None = None
    not_personal: bool = False
    free_text: bool = False


def name_evidence(column: str, table: str = "") -> NameEvidence:
    """What the name of ``column`` in ``table`` says about its content.

    Args:
        column: the column's name, in any case and style (``firstName``, ``c_eml_addr``).
        table: the table's name; a bare ``name`` is a person's name only in a table of people.

    Returns:
        The evidence; ``NameEvidence()`` when the name says nothing (``fld_17``).
    """
    words = name_words(column)
    word_set = set(words)
    squashed = "".join(words)
    for category, singles, pairs, substrings in _NAME_RULES:
        if (
            word_set & singles
            or any(first in word_set and second in word_set for first, second in pairs)
            or any(part in squashed for part in substrings)
        ):
            return NameEvidence(category=category)
    if words == ["name"] and set(name_words(table)) & _PERSON_TABLE_WORDS:
        return NameEvidence(category="identity.name")
    return NameEvidence(
        not_personal=bool(word_set & _NOT_PERSONAL_WORDS),
        free_text=bool(word_set & _FREE_TEXT_WORDS),
    )

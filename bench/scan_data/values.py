"""What the databases shaped like public samples share: value makers, tables, writing them.

A :class:`Table` lists its columns with their SQL type, a function making the value of row
``n`` and the ground truth (the category the column holds, or None); :func:`write` creates the
tables in a SQLite file, fills them and returns the truth per column. Values are drawn column
by column: a row's city and postcode need not match, which a per-column scan cannot notice.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

NAME, EMAIL, PHONE = "identity.name", "contact.email", "contact.phone"
POSTAL, BIRTH, PHOTO = "contact.postal_address", "identity.date_of_birth", "identity.photo"
NOTES, USERNAME, PASSWORD = "user_content.inputs", "account.username", "account.password"

FIRST_NAMES = (
    "Mary", "Patricia", "Linda", "Barbara", "Luís", "Leonie", "François", "Bjørn", "Helena",
    "Astrid", "Daan", "Eduardo", "Fernanda", "Mark", "Frank", "Michelle", "Tim", "Kathy",
    "Victor", "Julia", "Nancy", "Andrew", "Janet", "Margaret", "Steven", "Laura", "Anne",
    "Robert", "Maria", "Ana", "Hanna", "Yoshi", "Carlos", "Elizabeth", "Diego", "Ken", "Terri",
    "Roberto", "Gail", "Jossef",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Gonçalves", "Köhler", "Tremblay", "Hansen", "Wichterlová",
    "Holý", "Schneider", "Peeters", "Nielsen", "Martins", "Rocha", "Almeida", "Fuller",
    "Leverling", "Peacock", "Buchanan", "Suyama", "King", "Callahan", "Dodsworth", "Anders",
    "Trujillo", "Moreno", "Hardy", "Berglund", "Moos", "Sánchez", "Duffy", "Tamburello",
    "Walters", "Erickson", "Goldberg", "Miller", "Brown", "Davis", "Wilson", "Taylor",
)  # fmt: skip
# city, state, country, postal code, phone as Chinook writes it, phone as Northwind writes it
PLACES = (
    ("Berlin", None, "Germany", "1####", "+49 030 ########", "030-#######"),
    ("Stuttgart", None, "Germany", "70###", "+49 0711 #######", "0711-######"),
    ("São José dos Campos", "SP", "Brazil", "12227-000", "+55 (12) 3923-####", "(12) 555-####"),
    ("São Paulo", "SP", "Brazil", "01007-010", "+55 (11) 3###-####", "(11) 555-####"),
    ("Montréal", "QC", "Canada", "H2G 1A7", "+1 (514) ###-####", "(514) 555-####"),
    ("Edmonton", "AB", "Canada", "T6G 2C7", "+1 (780) ###-####", "(780) 555-####"),
    ("Seattle", "WA", "USA", "981##", "+1 (206) ###-####", "(206) 555-####"),
    ("Redmond", "WA", "USA", "98052", "+1 (425) ###-####", "(425) 555-####"),
    ("Boston", "MA", "USA", "02###", "+1 (617) ###-####", "(617) 555-####"),
    ("London", None, "United Kingdom", "SW1V 3EN", "+44 020 7### ####", "(171) 555-####"),
    ("Lyon", None, "France", "69004", "+33 04 78 ## ## ##", "78.##.##.##"),
    ("Madrid", None, "Spain", "280##", "+34 91 ### ## ##", "(91) 555 ## ##"),
    ("Oslo", None, "Norway", "0###", "+47 22 ## ## ##", "22 ## ## ##"),
    ("Prague", None, "Czech Republic", "14###", "+420 2 #### ####", "(2) 555-####"),
    ("Lisbon", None, "Portugal", "1###-###", "+351 (213) ######", "(1) 354-####"),
    ("Helsinki", None, "Finland", "00###", "+358 09 ### ####", "90-224 ####"),
    ("Sydney", "NSW", "Australia", "2010", "+61 (02) #### ####", "(02) 555-####"),
)
STREETS = (
    "Obere Str.", "Av. Brigadeiro Faria Lima", "Rue de la Paix", "Calle Mayor", "Hanoi Way",
    "Elm Street", "Kingsway", "Grensesvingen", "Klanova", "Rua Dr. Falcão Filho", "Napa Ct.",
    "Lakeview Ave.", "20th Ave. E.", "Rue Royale", "Moss Bay Blvd.", "MySakila Drive",
)  # fmt: skip
WORDS = (
    "Academy", "Dinosaur", "Epic", "Drama", "Feminist", "Mad", "Scientist", "Teacher", "Boat",
    "Canadian", "Rockies", "Astounding", "Character", "Study", "Lumberjack", "Chai", "Chang",
    "Aniseed", "Syrup", "Cajun", "Seasoning", "Gumbo", "Mix", "Grandma", "Boysenberry",
    "Spread", "Balls", "Wall", "Highway", "Star", "Dog", "Night", "Summer", "Blue", "Road",
)  # fmt: skip
TITLES = (
    "Sales Representative", "Owner", "Order Administrator", "Marketing Manager",
    "Accounting Manager", "Sales Agent", "Sales Manager", "Sales Support Agent", "IT Staff",
    "General Manager", "Inside Sales Coordinator", "Purchasing Manager",
)  # fmt: skip
COUNTRIES = tuple(sorted({place[2] for place in PLACES} | {"Japan", "India", "Kenya", "Chile"}))

COMPANY_NAMES = (
    "Alfreds", "Blauer See", "Berglunds", "Chop-suey", "Ernst", "Folk och fä", "Hanari",
    "Island", "Königlich", "La maison", "Lehmanns", "Old World", "Piccolo", "Que Delícia",
    "Rattlesnake Canyon", "Save-a-lot", "Simons", "Toms", "Wartian", "Wolski", "Exotic Liquids",
)  # fmt: skip
COMPANY_KINDS = ("Futterkiste", "Delikatessen", "Markets", "Grocery", "Handel", "Trading", "Ltd.")
UNIVERSITIES = ("Colorado State University", "the University of Washington", "Oxford")
CLUBS = ("Toastmasters International", "the Sales Club", "a local chess club")

Make = Callable[[int], object]
"""A column's value in row ``n`` (from 0)."""


@dataclass(frozen=True)
class Column:
    """A column of a generated table.

    Args:
        name: as the sample database spells it (``PostalCode``, ``E-mail Address``).
        type: its SQL type as the sample declares it; SQLite keeps the name and reads it by
            affinity (``UNIQUEIDENTIFIER`` as a number).
        make: the value of row ``n``.
        truth: the category it holds, or None for nothing personal.
    """

    name: str
    type: str
    make: Make
    truth: str | None = None


@dataclass(frozen=True)
class Table:
    """A generated table.

    Args:
        name: as the sample database spells it (``Order Details``).
        rows: how many rows it gets.
        columns: in order.
        key: the primary key's columns.
        references: its foreign keys, as (column, referred table, referred column).
    """

    name: str
    rows: int
    columns: Sequence[Column]
    key: tuple[str, ...]
    references: Sequence[tuple[str, str, str]] = ()


class Values:
    """Value makers in the formats the sample databases use, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def serial(self, n: int) -> int:
        return n + 1

    def key(self, high: int) -> Make:
        return lambda n: self.random.randint(1, high)

    def pick(self, options: Sequence[object]) -> Make:
        return lambda n: self.random.choice(options)

    def sometimes(self, share: float, make: Make) -> Make:
        """``make``'s value in about ``share`` of the rows, else null."""
        return lambda n: make(n) if self.random.random() < share else None

    def upper(self, make: Make) -> Make:
        return lambda n: str(make(n)).upper()

    def digits(self, template: str) -> Make:
        """``template`` with each ``#`` replaced by a digit."""
        return lambda n: "".join(
            str(self.random.randint(0, 9)) if char == "#" else char for char in template
        )

    def pick_digits(self, templates: Sequence[str]) -> Make:
        """One of ``templates`` with each ``#`` replaced by a digit."""
        return lambda n: self.digits(self.random.choice(templates))(n)

    def first(self, n: int) -> str:
        return self.random.choice(FIRST_NAMES)

    def last(self, n: int) -> str:
        return self.random.choice(LAST_NAMES)

    def email(self, domains: Sequence[str], style: str) -> Make:
        """Addresses at one of ``domains``; ``style`` spells the local part from ``{f}``irst
        name, ``{l}``ast name, ``{i}``nitial and a ``{d}``igit."""

        def make(n: int) -> str:
            first, last = _ascii(self.first(n)), _ascii(self.last(n))
            local = style.format(f=first, l=last, i=first[0], d=n % 10)
            return f"{local}@{self.random.choice(domains)}"

        return make

    def codes(self, count: int) -> list[str]:
        """``count`` distinct five-letter codes, as Northwind keys its customers (``ALFKI``)."""
        found: set[str] = set()
        while len(found) < count:
            found.add("".join(self.random.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=5)))
        return sorted(found)

    def company(self, n: int) -> str:
        return f"{self.random.choice(COMPANY_NAMES)} {self.random.choice(COMPANY_KINDS)}"

    def street(self, n: int) -> str:
        street, number = self.random.choice(STREETS), self.random.randint(1, 2400)
        return f"{number} {street}" if self.random.random() < 0.5 else f"{street}, {number}"

    def place(self, part: int) -> Make:
        """One part of a random entry of :data:`PLACES`, ``#`` filled with digits."""
        return lambda n: self.digits(self.random.choice(PLACES)[part] or "")(n) or None

    def words(self, low: int, high: int) -> Make:
        return lambda n: " ".join(self.random.sample(WORDS, self.random.randint(low, high)))

    def moment(self, first: int, last: int, *, midnight: bool = False) -> Make:
        """Timestamps between two years, as SQLite holds ``DATETIME``; at midnight for dates."""

        def make(n: int) -> str:
            low, high = dt.datetime(first, 1, 1), dt.datetime(last, 12, 31)
            stamp = low + (high - low) * self.random.random()
            return f"{stamp:%Y-%m-%d} 00:00:00" if midnight else f"{stamp:%Y-%m-%d %H:%M:%S}"

        return make

    def money(self, low: float, high: float) -> Make:
        return lambda n: f"{self.random.uniform(low, high):.2f}"

    def image(self, n: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + self.random.randbytes(200)

    def guid(self, n: int) -> str:
        text = f"{self.random.getrandbits(128):032X}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def composers(self, n: int) -> str | None:
        if self.random.random() < 0.28:
            return None
        names = [f"{self.first(n)} {self.last(n)}" for _ in range(self.random.randint(1, 3))]
        return ", ".join(names) if self.random.random() < 0.7 else " & ".join(names)

    def note_on_employee(self, n: int) -> str:
        first, year = self.first(n), self.random.randint(1960, 1990)
        degree = self.random.choice(
            ["a BA in psychology", "a BTS in commerce", "a PhD in English literature"]
        )
        return (
            f"Education includes {degree} from {self.random.choice(UNIVERSITIES)} in {year}."
            f' {first} also completed "The Art of the Cold Call" and is a member of'
            f" {self.random.choice(CLUBS)}."
        )

    def supplier_note(self, n: int) -> str:
        day = self.random.choice(["Monday", "Tuesday", "Thursday"])
        return f"Preferred supplier of {self.random.choice(WORDS).lower()}; delivers on {day}s."

    def photo_path(self, n: int) -> str:
        return f"http://accweb/emmployees/{_ascii(self.last(n))}.bmp"

    def full(self, n: int) -> str:
        return f"{self.first(n)} {self.last(n)}"

    def film_description(self, n: int) -> str:
        pick = self.random.choice
        return (
            f"A {pick(WORDS)} {pick(['Drama', 'Saga', 'Story'])} of a {pick(WORDS)} And a"
            f" {pick(WORDS)} who must Battle a {pick(WORDS)} in The {pick(WORDS)} {pick(WORDS)}"
        )


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def write(path: Path, tables: Sequence[Table]) -> dict[tuple[str, str], str | None]:
    """Create ``tables`` in a new SQLite file at ``path`` and fill them.

    Args:
        path: where the database is written.
        tables: in an order where each table follows the ones it refers to.

    Returns:
        The ground truth: the category each ``(table, column)`` holds, or None.
    """
    truth: dict[tuple[str, str], str | None] = {}
    with closing(sqlite3.connect(path)) as connection, connection:
        for table in tables:
            parts = [f"{_quoted(column.name)} {column.type}" for column in table.columns]
            parts.append(f"PRIMARY KEY ({', '.join(map(_quoted, table.key))})")
            parts += [
                f"FOREIGN KEY ({_quoted(column)}) REFERENCES {_quoted(other)} ({_quoted(key)})"
                for column, other, key in table.references
            ]
            connection.execute(f"CREATE TABLE {_quoted(table.name)} ({', '.join(parts)})")
            marks = ", ".join("?" for _ in table.columns)
            connection.executemany(
                f"INSERT INTO {_quoted(table.name)} VALUES ({marks})",
                ([column.make(n) for column in table.columns] for n in range(table.rows)),
            )
            truth.update({(table.name, column.name): column.truth for column in table.columns})
    return truth


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""The scan benchmark's own synthetic database: a company's tables with hard cases.

:func:`generate` writes it with the standard library only (``sqlite3``, ``random`` with a fixed
seed) and returns the ground truth per column: the category it holds, or None. Besides plain
personal columns it holds the hard negatives a scanner gets wrong: order numbers that pass
Luhn, product and part codes that look like phone numbers, firmware versions that parse as
IPv4 addresses, product names in a ``name`` column, free-text product descriptions and machine
notes, dates that are not birth dates (some old enough to be), and the hard positives:
obfuscated column names (``c_eml_addr``, ``fld_17``) and a column where only 5 % of the values
are e-mail addresses.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import string
from collections.abc import Callable
from pathlib import Path

SEED = 20261122

FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Emma",
    "Felix",
    "Greta",
    "Hugo",
    "Ida",
    "Jonas",
    "Lena",
    "Max",
    "Nora",
    "Paul",
    "Sofia",
    "Tom",
]
LAST = [
    "Meyer",
    "Schmidt",
    "Garcia",
    "Dubois",
    "Rossi",
    "Jansen",
    "Smith",
    "Novak",
    "Berg",
    "Silva",
    "Kowalski",
    "Byrne",
]
DOMAINS = ["example.com", "mail.example.org", "example.net", "post.example.de"]
CITIES = ["Berlin", "Hamburg", "Lyon", "Madrid", "Austin", "Leeds", "Porto", "Utrecht"]
STREETS = ["Hauptstraße", "Rue de la Paix", "Calle Mayor", "Elm Street", "High Street"]
AREA_CODES = [201, 212, 305, 312, 415, 512, 617, 646, 702, 818]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "CloudwarmApp/4.2.1 (Android 14; Pixel 8)",
]
WORDS = [
    "the",
    "thermostat",
    "heating",
    "schedule",
    "room",
    "sensor",
    "firmware",
    "update",
    "battery",
    "display",
    "wall",
    "boiler",
    "valve",
    "reading",
    "offline",
    "restart",
    "setting",
    "winter",
    "summer",
    "mode",
    "eco",
    "comfort",
    "night",
    "week",
]
TICKET_OPENERS = [
    "Hello, my thermostat shows the wrong temperature since the last update",
    "The heating schedule does not switch to night mode anymore in the living room",
    "After replacing the battery the display stays dark and the app says offline",
]
PRODUCTS = ["Thermostat", "Radiator valve", "Room sensor", "Bridge", "Boiler relay"]


def _luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


class Faker:
    """Synthetic values from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def digits(self, count: int) -> str:
        return "".join(self.random.choice(string.digits) for _ in range(count))

    def name(self) -> tuple[str, str]:
        return self.random.choice(FIRST), self.random.choice(LAST)

    def email(self) -> str:
        first, last = self.name()
        number = self.random.randint(1, 999)
        return f"{first}.{last}{number}@{self.random.choice(DOMAINS)}".lower()

    def phone(self, international: bool = False) -> str:
        if international or self.random.random() < 0.15:
            return self.random.choice(
                [
                    f"+49 151 {self.digits(8)}",
                    f"+44 20 7946 {self.digits(4)}",
                    f"+33 6 {self.digits(8)}",
                ]
            )
        area, exchange = self.random.choice(AREA_CODES), self.random.randint(200, 999)
        line = self.digits(4)
        return self.random.choice(
            [
                f"({area}) {exchange}-{line}",
                f"{area}-{exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"{area}{exchange}{line}",
                f"+1 {area} {exchange} {line}",
            ]
        )

    def card(self) -> str:
        prefix, length = self.random.choice(
            [("4", 16), ("5" + str(self.random.randint(1, 5)), 16), ("37", 15), ("6011", 16)]
        )
        number = _luhn_complete(prefix + self.digits(length - len(prefix) - 1))
        if self.random.random() < 0.5:
            return " ".join(number[index : index + 4] for index in range(0, len(number), 4))
        return number

    def order_number(self) -> str:
        """Sixteen digits with a Luhn check digit, as shops write them: not a card."""
        return _luhn_complete(str(self.random.randint(1, 9)) + self.digits(14))

    def iban(self) -> str:
        country, bban = self.random.choice(
            [("DE", self.digits(18)), ("NL", "ABNA" + self.digits(10)), ("FR", self.digits(23))]
        )
        if country == "FR":  # the French RIB key: 97 - (bank, branch, account) mod 97
            bban = bban[:21] + f"{97 - (int(bban[:21]) * 100) % 97:02d}"
        moved = bban + country + "00"
        number = int("".join(str(int(char, 36)) for char in moved))
        return f"{country}{98 - number % 97:02d}{bban}"

    def ip(self) -> str:
        if self.random.random() < 0.2:
            return "2001:db8:" + ":".join(f"{self.random.randint(0, 65535):x}" for _ in range(6))
        return ".".join(str(self.random.randint(1, 254)) for _ in range(4))

    def ssn(self) -> str:
        area = self.random.choice([*range(1, 666), *range(667, 900)])
        return f"{area:03d}-{self.random.randint(1, 99):02d}-{self.random.randint(1, 9999):04d}"

    def dni(self) -> str:
        number = self.random.randint(10_000_000, 99_999_999)
        return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"

    def nir(self) -> str:
        body = (
            f"{self.random.randint(1, 2)}{self.random.randint(40, 99):02d}"
            f"{self.random.randint(1, 12):02d}{self.random.choice([75, 69, 13, 33, 59]):02d}"
            f"{self.random.randint(1, 990):03d}{self.random.randint(1, 999):03d}"
        )
        return f"{body}{97 - int(body) % 97:02d}"

    def tax_id(self) -> str:
        """A German tax id (11 digits): one digit of the first ten twice, one missing."""
        while True:
            digits = self.random.sample(string.digits[1:] + "0", 9)
            digits.insert(self.random.randint(1, 9), self.random.choice(digits))
            body = "".join(digits[:10])
            if body[0] != "0":
                break
        product = 10
        for digit in body:
            total = (int(digit) + product) % 10 or 10
            product = (total * 2) % 11
        return body + str((11 - product) % 10)

    def date(self, first: int, last: int) -> dt.date:
        start = dt.date(first, 1, 1).toordinal()
        return dt.date.fromordinal(self.random.randint(start, dt.date(last, 12, 31).toordinal()))

    def sentence(self, words: int) -> str:
        return " ".join(self.random.choice(WORDS) for _ in range(words)).capitalize() + "."

    def ticket(self) -> str:
        text = f"{self.random.choice(TICKET_OPENERS)}. {self.sentence(8)}"
        roll = self.random.random()
        if roll < 0.15:
            return f"{text} Please call me back at {self.phone()}, thanks."
        if roll < 0.3:
            return f"{text} You can reach me at {self.email()} any time."
        return text


def _tables(
    fake: Faker,
) -> dict[str, tuple[int, dict[str, tuple[str | None, Callable[[], object]]]]]:
    """Table → (rows, column → (expected category or None, value generator))."""
    rand = fake.random
    return {
        "customers": (
            5_000,
            {
                "first_name": ("identity.name", lambda: fake.name()[0]),
                "last_name": ("identity.name", lambda: fake.name()[1]),
                "email": ("contact.email", fake.email),
                "phone": ("contact.phone", fake.phone),
                "date_of_birth": ("identity.date_of_birth", lambda: fake.date(1940, 2005)),
                "street": (
                    "contact.postal_address",
                    lambda: f"{rand.choice(STREETS)} {rand.randint(1, 200)}",
                ),
                "city": ("contact.postal_address", lambda: rand.choice(CITIES)),
                "postcode": ("contact.postal_address", lambda: fake.digits(5)),
                "created_at": (None, lambda: f"{fake.date(2015, 2025)} 10:{fake.digits(2)[0]}0:00"),
                "status": (None, lambda: rand.choice(["active", "closed", "paused"])),
                "loyalty_points": (None, lambda: rand.randint(0, 50_000)),
            },
        ),
        "legacy_accounts": (
            3_000,
            {
                "c_eml_addr": ("contact.email", fake.email),
                "fld_17": ("contact.email", fake.email),
                "fld_18": ("contact.phone", lambda: fake.phone(international=True)),
                "fld_19": ("financial.bank_account", fake.iban),
                "fld_20": ("device.ip_address", fake.ip),
                "fld_21": (None, lambda: rand.randint(1, 10_000_000)),
                "fld_22": (None, lambda: rand.choice(["DE", "FR", "ES", "NL", "US"])),
                "fld_23": ("financial.payment_card", fake.card),
                "fld_24": ("identity.government_id", fake.dni),
                "fld_25": (None, lambda: f"{rand.getrandbits(128):032x}"),
                "fld_26": (None, lambda: rand.choice(["new", "migrated", "duplicate", "merged"])),
            },
        ),
        "contacts_import": (
            4_000,
            {
                # Sparse: 5 % e-mail addresses among what people typed into a free field.
                "misc": (
                    "contact.email",
                    lambda: (
                        fake.email()
                        if rand.random() < 0.05
                        else rand.choice(
                            ["n/a", "walk-in", "see CRM", f"REF-{fake.digits(5)}", "-"]
                        )
                    ),
                ),
                "source": (None, lambda: rand.choice(["fair", "web", "partner"])),
            },
        ),
        "orders": (
            10_000,
            {
                "order_number": (None, fake.order_number),
                "customer_id": (None, lambda: rand.randint(1, 5_000)),
                "placed_on": (None, lambda: fake.date(2019, 2025)),
                "total_cents": (None, lambda: rand.randint(500, 90_000)),
                "card_number": ("financial.payment_card", fake.card),
                "client_ip": ("device.ip_address", fake.ip),
            },
        ),
        "invoices": (
            6_000,
            {
                "doc_ref": (None, fake.order_number),  # Luhn-valid, and no name to veto it
                "issued_on": (None, lambda: fake.date(2018, 2025)),
            },
        ),
        "products": (
            500,
            {
                "sku": (None, lambda: f"PRD-{fake.digits(5)}"),
                "name": (
                    None,
                    lambda: f"{rand.choice(PRODUCTS)} {rand.choice('SMLX')}{fake.digits(2)}",
                ),
                "description": (None, lambda: fake.sentence(12)),
                "product_code": (
                    None,
                    lambda: f"{fake.digits(3)}-{fake.digits(3)}-{fake.digits(4)}",
                ),
            },
        ),
        "parts": (
            800,
            {
                "part_no": (None, lambda: f"{fake.digits(3)}-{fake.digits(3)}-{fake.digits(4)}"),
                "bin": (None, lambda: f"{rand.choice('ABCD')}{rand.randint(1, 40)}"),
            },
        ),
        "devices": (
            2_000,
            {
                "firmware_version": (
                    None,
                    lambda: f"{rand.randint(1, 4)}.{rand.randint(0, 20)}.0.{rand.randint(1, 99)}",
                ),
                "last_ip": ("device.ip_address", fake.ip),
                "user_agent": ("device.browser", lambda: rand.choice(AGENTS)),
                "serial_no": (None, lambda: f"CW{fake.digits(10)}"),
            },
        ),
        "employees": (
            300,
            {
                "full_name": ("identity.name", lambda: " ".join(fake.name())),
                "ssn": ("identity.government_id", fake.ssn),
                "tax_id": ("identity.government_id", fake.tax_id),
                "nir": ("identity.government_id", fake.nir),
                "hired_on": (None, lambda: fake.date(1995, 2024)),
                "department": (None, lambda: rand.choice(["ops", "sales", "support"])),
            },
        ),
        "tickets": (
            2_000,
            {
                "subject": (
                    None,
                    lambda: rand.choice(["Display dark", "Wrong temperature", "Offline"]),
                ),
                "body": ("user_content.inputs", fake.ticket),
                "opened_on": (None, lambda: fake.date(2020, 2025)),
            },
        ),
        "buildings": (
            400,
            {
                "built_on": (None, lambda: fake.date(1900, 1995)),  # old enough to be a birth date
                "maintenance_note": (None, lambda: f"Boiler serviced, {fake.sentence(9)}"),
            },
        ),
        "readings": (
            50_000,
            {
                "device_id": (None, lambda: rand.randint(1, 2_000)),
                "celsius": (None, lambda: round(rand.uniform(12, 26), 1)),
                "recorded_at": (None, lambda: f"{fake.date(2025, 2025)} 12:00:00"),
            },
        ),
    }


def generate(path: Path, seed: int = SEED) -> dict[tuple[str, str], str | None]:
    """Write the synthetic database to ``path``; the expected category per (table, column)."""
    fake = Faker(seed)
    truth: dict[tuple[str, str], str | None] = {}
    with sqlite3.connect(path) as connection:
        for table, (rows, columns) in _tables(fake).items():
            types = {
                name: "DATE" if name.endswith(("_on", "birth")) else "TEXT" for name in columns
            }
            declared = ", ".join(f"{name} {types[name]}" for name in columns)
            connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {declared})")
            truth[table, "id"] = None
            marks = ", ".join("?" for _ in columns)
            generators = [generator for _, generator in columns.values()]
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                ([str(make()) for make in generators] for _ in range(rows)),
            )
            truth.update({(table, name): category for name, (category, _) in columns.items()})
    return truth

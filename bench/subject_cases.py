"""The two schemas the subject-request benchmark runs on: Cloudwarm's and the shop data set's.

Each case knows its load (``cloudwarm_data.py``, ``shop_data.py``), its declaration for Pledge,
its hand-written SQL (``subject_baseline.py``, ``shop_baseline.py``), the expression indexes
Pledge's documentation tells users to create for its case-insensitive e-mail match, and what the
benchmark needs around the timings, none of it timed: people who were not erased yet, how many
rows each person has, a check that erased people left nothing behind, found from ids recorded
before erasing (an ``hmac`` pseudonym is keyed per erasure, so it cannot be recomputed), and a
synthetic person who holds 10,000 rows under a legal hold, added before and removed after each
erasure of them.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

import cloudwarm_data
import shop_data
from pledge import Declaration, loads
from pledge.datastores.matching import index_expression
from pledge.declaration import load_data
from pledge.declaration.datastores import MatchKind
from shop_baseline import shop_access, shop_erase
from subject_baseline import ERASED_PASSWORD, baseline_access, baseline_erase

Connection = psycopg.Connection[tuple[Any, ...]]
ROOT = Path(__file__).resolve().parents[1]
CLOUDWARM_DECLARATION = ROOT / "examples" / "cloudwarm" / "pledge.yaml"
SHOP_DECLARATION = Path(__file__).resolve().parent / "shop_pledge.yaml"
KEPT = 10_000
"""Rows the synthetic person holds under a legal hold."""
HOLDER = 2_000_000_000
"""The first id of the synthetic person's rows, above every id of the loads."""


@dataclass(frozen=True)
class Load:
    """What a case's database holds."""

    people: int
    counts: Mapping[str, int]
    seconds: float
    seed: int

    @property
    def rows(self) -> int:
        """Rows in every table together."""
        return sum(self.counts.values())


class Case:
    """One schema: its load, its declaration, its hand-written SQL and its checks."""

    name: str
    datastore: str
    url: str
    source: str
    """Where the load comes from, for the figures' set-up."""
    tables: tuple[str, ...]
    """The tables holding a person's rows, compared between Pledge and the hand-written SQL."""
    folded: tuple[tuple[str, str], ...]
    """``(table, column)`` of each e-mail column Pledge compares as ``lower(trim(column))``."""
    phones: tuple[tuple[str, str], ...]
    """``(table, column)`` of each phone column Pledge compares by its digits."""
    kept: str
    """What the synthetic person's rows under a legal hold are, for the figures."""

    def ensure(self, *, force: bool = False) -> Load:
        """Load the data, or find it loaded."""
        raise NotImplementedError

    def declaration(self, *, hold: bool = False) -> Declaration:
        """The declaration with the datastore pointed at :attr:`url`; ``hold``: the one the
        synthetic person is erased under."""
        raise NotImplementedError

    def access(self, connection: Connection, email: str, *, folded: bool) -> dict[str, int]:
        """The hand-written access: rows per table."""
        raise NotImplementedError

    def erase(
        self, connection: Connection, email: str, key: bytes, *, folded: bool, hold: bool = False
    ) -> dict[str, int]:
        """The hand-written erasure, committed: rows deleted or rewritten per table."""
        raise NotImplementedError

    def erased(self, connection: Connection, people: int) -> set[int]:
        """The ids of the ``people`` of the load erased so far."""
        raise NotImplementedError

    def accounts(self, connection: Connection, ids: Sequence[int]) -> dict[int, str]:
        """The e-mail address of each person of ``ids``."""
        raise NotImplementedError

    def rows(self, connection: Connection, ids: Sequence[int]) -> dict[int, int]:
        """How many rows each person of ``ids`` holds, in every table together."""
        raise NotImplementedError

    def sharing(self, connection: Connection, ids: Sequence[int]) -> set[int]:
        """The people of ``ids`` whose phone number another person's row holds too (a
        generated number drawn twice): Pledge's residue search would take that row for theirs
        and fail their erasure."""
        table = self.tables[0]
        return {
            person
            for (person,) in connection.execute(
                f"SELECT p.id FROM {table} p WHERE p.id = ANY(%s) AND EXISTS"
                f" (SELECT 1 FROM {table} o WHERE o.phone = p.phone AND o.id <> p.id)",
                (list(ids),),
            )
        }

    def residue(self, connection: Connection, erased: Mapping[int, str]) -> int:
        """Rows the erased people (id → address) left that the declaration does not keep."""
        raise NotImplementedError

    def add_holder(self, connection: Connection) -> str:
        """Add the synthetic person and their rows (:data:`KEPT` of them kept); their address."""
        raise NotImplementedError

    def remove_holder(self, connection: Connection) -> None:
        """Remove whatever is left of the synthetic person."""
        raise NotImplementedError

    def order(self, people: int, seed: int) -> list[int]:
        """The people of the load in the benchmark's fixed order."""
        return random.Random(seed).sample(range(1, people + 1), people)


class Cloudwarm(Case):
    """Cloudwarm's example schema: 100,000 people, 2.1 million rows."""

    name = "Cloudwarm"
    datastore = "app"
    url = cloudwarm_data.URL
    source = "`bench/cloudwarm_data.py`"
    tables = (
        "users",
        "homes",
        "home_members",
        "thermostats",
        "temperature_readings",
        "support_tickets",
        "newsletter_subscriptions",
        "invoices",
    )
    folded = (
        ("users", "email"),
        ("support_tickets", "customer_email"),
        ("newsletter_subscriptions", "email"),
    )
    phones = (("users", "phone"),)
    kept = "invoices"

    def ensure(self, *, force: bool = False) -> Load:
        found = cloudwarm_data.ensure(self.url, force=force)
        return Load(found.people, found.counts, found.seconds, found.seed)

    def declaration(self, *, hold: bool = False) -> Declaration:
        # Invoices are under a legal hold in the example itself: one declaration for both.
        source = CLOUDWARM_DECLARATION.read_text(encoding="utf-8")
        head, marker, rest = source.partition("\n  app:\n    url: ")
        return loads(head + marker + self.url + rest[rest.index("\n") :])

    def access(self, connection: Connection, email: str, *, folded: bool) -> dict[str, int]:
        found = baseline_access(connection, email, folded=folded)
        return {table: len(rows) for table, rows in found.items()}

    def erase(
        self, connection: Connection, email: str, key: bytes, *, folded: bool, hold: bool = False
    ) -> dict[str, int]:
        return baseline_erase(connection, email, key, folded=folded)

    def erased(self, connection: Connection, people: int) -> set[int]:
        return {
            account
            for (account,) in connection.execute(
                "SELECT id FROM users WHERE password_hash = %s AND id < %s",
                (ERASED_PASSWORD, HOLDER),
            )
        }

    def accounts(self, connection: Connection, ids: Sequence[int]) -> dict[int, str]:
        return dict(
            connection.execute(
                "SELECT id, email FROM users WHERE id = ANY(%s)", (list(ids),)
            ).fetchall()
        )

    def rows(self, connection: Connection, ids: Sequence[int]) -> dict[int, int]:
        return dict(
            connection.execute(
                """
                SELECT u.id, 1
                  + (SELECT count(*) FROM homes h WHERE h.owner_id = u.id)
                  + (SELECT count(*) FROM home_members m WHERE m.user_id = u.id)
                  + (SELECT count(*) FROM home_members m JOIN homes h ON h.id = m.home_id
                       WHERE h.owner_id = u.id AND m.user_id <> u.id)
                  + (SELECT count(*) FROM thermostats t JOIN homes h ON h.id = t.home_id
                       WHERE h.owner_id = u.id)
                  + (SELECT count(*) FROM temperature_readings r
                       JOIN thermostats t ON t.id = r.thermostat_id
                       JOIN homes h ON h.id = t.home_id WHERE h.owner_id = u.id)
                  + (SELECT count(*) FROM support_tickets s WHERE s.customer_email = u.email)
                  + (SELECT count(*) FROM newsletter_subscriptions n
                       WHERE n.email = u.email OR n.user_id = u.id)
                  + (SELECT count(*) FROM invoices i WHERE i.user_id = u.id)
                FROM users u WHERE u.id = ANY(%s)
                """,
                (list(ids),),
            ).fetchall()
        )

    def residue(self, connection: Connection, erased: Mapping[int, str]) -> int:
        # Accounts are rewritten, never deleted (invoices may point to them): each must still
        # be there, emptied; everything else of the person deleted, but invoices.
        row = connection.execute(
            """
            SELECT
                (SELECT count(*) FROM users WHERE lower(trim(email)) = ANY(%(addresses)s))
              + (SELECT count(*) FROM users WHERE id = ANY(%(ids)s)
                   AND (full_name IS NOT NULL OR phone IS NOT NULL OR password_hash <> %(erased)s))
              + %(people)s - (SELECT count(*) FROM users WHERE id = ANY(%(ids)s))
              + (SELECT count(*) FROM homes WHERE owner_id = ANY(%(ids)s))
              + (SELECT count(*) FROM home_members WHERE user_id = ANY(%(ids)s))
              + (SELECT count(*) FROM support_tickets
                   WHERE lower(trim(customer_email)) = ANY(%(addresses)s))
              + (SELECT count(*) FROM newsletter_subscriptions
                   WHERE lower(trim(email)) = ANY(%(addresses)s) OR user_id = ANY(%(ids)s))
            """,
            {
                "ids": list(erased),
                "addresses": [address.strip().lower() for address in erased.values()],
                "erased": ERASED_PASSWORD,
                "people": len(erased),
            },
        ).fetchone()
        assert row is not None
        return int(row[0])

    def add_holder(self, connection: Connection) -> str:
        email = "holder@bench.example"
        with connection.transaction():
            execute = connection.execute
            execute(
                "INSERT INTO users (id, email, full_name, phone, password_hash, created_at)"
                " VALUES (%s, %s, 'Holly Holder', '+49 30 5550100', '$argon2id$bench', now())",
                (HOLDER, email),
            )
            execute(
                "INSERT INTO homes (id, owner_id, name, street, postal_code, city, country)"
                " VALUES (%s, %s, 'Home', 'Lindenweg 1', '10115', 'Berlin', 'DE')",
                (HOLDER, HOLDER),
            )
            execute("INSERT INTO home_members VALUES (%s, %s, 'owner')", (HOLDER, HOLDER))
            execute(
                "INSERT INTO thermostats (id, home_id, serial_number, model, firmware)"
                " VALUES (%s, %s, 'CW-HOLDER', 'CW Smart 3', '4.0.0')",
                (HOLDER, HOLDER),
            )
            execute(
                "INSERT INTO temperature_readings (id, thermostat_id, recorded_at,"
                " indoor_celsius, target_celsius) SELECT %s + n, %s,"
                " now() - n * interval '15 minutes', 20.5, 21.0 FROM generate_series(0, 5) n",
                (HOLDER, HOLDER),
            )
            execute(
                "INSERT INTO support_tickets (id, customer_email, subject, body, status)"
                " VALUES (%s, %s, 'Invoice copy', 'Please resend it.', 'closed')",
                (HOLDER, email),
            )
            execute(
                "INSERT INTO newsletter_subscriptions (id, user_id, email) VALUES (%s, %s, %s)",
                (HOLDER, HOLDER, email),
            )
            execute(
                "INSERT INTO invoices (id, user_id, number, issued_on, billing_name, amount,"
                " currency) SELECT %s + n, %s, 'HOLD-' || n, current_date, 'Holly Holder',"
                " 4.99, 'EUR' FROM generate_series(0, %s) n",
                (HOLDER, HOLDER, KEPT - 1),
            )
        return email

    def remove_holder(self, connection: Connection) -> None:
        with connection.transaction():
            execute = connection.execute
            execute(
                "DELETE FROM temperature_readings WHERE thermostat_id = %s"
                " OR id BETWEEN %s AND %s + 5",
                (HOLDER, HOLDER, HOLDER),
            )
            execute("DELETE FROM thermostats WHERE id = %s", (HOLDER,))
            execute("DELETE FROM home_members WHERE home_id = %s OR user_id = %s", (HOLDER,) * 2)
            execute("DELETE FROM homes WHERE id = %s", (HOLDER,))
            execute("DELETE FROM support_tickets WHERE id = %s", (HOLDER,))
            execute("DELETE FROM newsletter_subscriptions WHERE id = %s", (HOLDER,))
            execute("DELETE FROM invoices WHERE user_id = %s", (HOLDER,))
            execute("DELETE FROM users WHERE id = %s", (HOLDER,))


class Shop(Case):
    """The shop data set: 100,000 customers, 1.3 million rows."""

    name = "shop"
    datastore = "shop"
    url = shop_data.URL
    source = "`bench/shop_data.py`: `generate.py` of the shop data set"
    tables = ("customers", "addresses", "orders", "order_items", "support_tickets", "newsletter")
    folded = (
        ("customers", "email"),
        ("support_tickets", "customer_email"),
        ("newsletter", "email"),
    )
    phones = (("customers", "phone"),)
    kept = "orders (and their lines)"

    def ensure(self, *, force: bool = False) -> Load:
        found = shop_data.ensure(self.url, force=force)
        return Load(found.customers, found.counts, found.seconds, found.seed)

    def declaration(self, *, hold: bool = False) -> Declaration:
        data = yaml.safe_load(SHOP_DECLARATION.read_text(encoding="utf-8"))
        data["datastores"]["shop"]["url"] = self.url
        if hold:
            data = held(data)
        return load_data(data)

    def access(self, connection: Connection, email: str, *, folded: bool) -> dict[str, int]:
        found = shop_access(connection, email, folded=folded)
        return {table: len(rows) for table, rows in found.items()}

    def erase(
        self, connection: Connection, email: str, key: bytes, *, folded: bool, hold: bool = False
    ) -> dict[str, int]:
        return shop_erase(connection, email, key, folded=folded, hold=hold)

    def erased(self, connection: Connection, people: int) -> set[int]:
        present = connection.execute(
            "SELECT id FROM customers WHERE id <= %s", (people,)
        ).fetchall()
        return set(range(1, people + 1)) - {customer for (customer,) in present}

    def accounts(self, connection: Connection, ids: Sequence[int]) -> dict[int, str]:
        return dict(
            connection.execute(
                "SELECT id, email FROM customers WHERE id = ANY(%s)", (list(ids),)
            ).fetchall()
        )

    def rows(self, connection: Connection, ids: Sequence[int]) -> dict[int, int]:
        return dict(
            connection.execute(
                """
                SELECT c.id, 1
                  + (SELECT count(*) FROM addresses a WHERE a.customer_id = c.id)
                  + (SELECT count(*) FROM orders o WHERE o.customer_id = c.id)
                  + (SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id
                       WHERE o.customer_id = c.id)
                  + (SELECT count(*) FROM support_tickets t WHERE t.customer_email = c.email)
                  + (SELECT count(*) FROM newsletter n WHERE n.email = c.email)
                FROM customers c WHERE c.id = ANY(%s)
                """,
                (list(ids),),
            ).fetchall()
        )

    def residue(self, connection: Connection, erased: Mapping[int, str]) -> int:
        # Everything is deleted; the foreign keys leave no order line without its order.
        row = connection.execute(
            """
            SELECT
                (SELECT count(*) FROM customers
                   WHERE id = ANY(%(ids)s) OR lower(trim(email)) = ANY(%(addresses)s))
              + (SELECT count(*) FROM addresses WHERE customer_id = ANY(%(ids)s))
              + (SELECT count(*) FROM orders WHERE customer_id = ANY(%(ids)s))
              + (SELECT count(*) FROM support_tickets
                   WHERE lower(trim(customer_email)) = ANY(%(addresses)s))
              + (SELECT count(*) FROM newsletter WHERE lower(trim(email)) = ANY(%(addresses)s))
            """,
            {
                "ids": list(erased),
                "addresses": [address.strip().lower() for address in erased.values()],
            },
        ).fetchone()
        assert row is not None
        return int(row[0])

    def add_holder(self, connection: Connection) -> str:
        email = "holder@bench.example"
        with connection.transaction():
            execute = connection.execute
            execute(
                "INSERT INTO customers VALUES (%s, %s, 'Holly Holder', '+4915550100', now())",
                (HOLDER, email),
            )
            execute(
                "INSERT INTO addresses SELECT %s + n, %s, n || ' Market St', 'Berlin', '10115'"
                " FROM generate_series(0, 1) n",
                (HOLDER, HOLDER),
            )
            execute(
                "INSERT INTO orders SELECT %s + n, %s, now(), 19.99 FROM generate_series(0, %s) n",
                (HOLDER, HOLDER, KEPT - 1),
            )
            execute(
                "INSERT INTO order_items SELECT %s + n, %s + n, 'SKU-00001', 1, 19.99"
                " FROM generate_series(0, %s) n",
                (HOLDER, HOLDER, KEPT - 1),
            )
            execute(
                "INSERT INTO support_tickets VALUES (%s, %s, 'Where is my parcel?')",
                (HOLDER, email),
            )
            execute("INSERT INTO newsletter VALUES (%s, now())", (email,))
        return email

    def remove_holder(self, connection: Connection) -> None:
        with connection.transaction():
            execute = connection.execute
            execute(
                "DELETE FROM order_items WHERE order_id IN"
                " (SELECT id FROM orders WHERE customer_id = %s)",
                (HOLDER,),
            )
            execute("DELETE FROM orders WHERE customer_id = %s", (HOLDER,))
            execute("DELETE FROM addresses WHERE customer_id = %s", (HOLDER,))
            execute("DELETE FROM support_tickets WHERE id = %s", (HOLDER,))
            execute("DELETE FROM newsletter WHERE email = 'holder@bench.example'")
            execute("DELETE FROM customers WHERE id = %s", (HOLDER,))


def held(data: Mapping[str, Any]) -> dict[str, Any]:
    """The shop's declaration (as data) with its orders and their lines under a legal hold.

    The lines go with the orders (an order is kept whole); the customer is rewritten instead of
    deleted, since the kept orders point to it.
    """
    found = copy.deepcopy(dict(data))
    tables = found["datastores"]["shop"]["tables"]
    hold = {
        "retain": "P10Y",
        "after": "transaction",
        "reason": "Commercial and tax law require orders to be kept for ten years.",
    }
    for table in ("orders", "order_items"):
        tables[table]["legal_hold"] = hold
    tables["customers"]["erasure"] = {
        "strategy": "rewrite",
        "rewrite": {"email": {"pseudonym": "hmac"}, "name": None, "phone": None},
    }
    return found


CASES: tuple[Case, ...] = (Cloudwarm(), Shop())


def folded_indexes(connection: Connection, case: Case, *, present: bool) -> None:
    """Create (``present``) or drop the expression indexes that ``docs/declaration.md`` tells
    users to create: on ``lower(trim(column))`` for each e-mail column Pledge compares
    case-insensitively, on the digits of each phone column; the planner's statistics are
    brought up to date after a change."""
    existing = {
        name
        for (name,) in connection.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
    }
    changed: list[str] = []
    wanted = [(table, column, MatchKind.IGNORE_CASE, "folded") for table, column in case.folded]
    wanted += [(table, column, MatchKind.PHONE, "digits") for table, column in case.phones]
    for table, column, match, suffix in wanted:
        name = f"{table}_{column}_{suffix}"
        if present and name not in existing:
            expression = index_expression(column, match, "postgresql")
            connection.execute(f"CREATE INDEX {name} ON {table} (({expression}))")
            changed.append(table)
        elif not present and name in existing:
            connection.execute(f"DROP INDEX {name}")
            changed.append(table)
    for table in dict.fromkeys(changed):
        connection.execute(f"ANALYZE {table}")

"""Create Cloudwarm's example database and fill it with a few made-up people.

Usage::

    python examples/cloudwarm/schema/seed.py sqlite:///cloudwarm.db [--people 5]

Runs on SQLite, PostgreSQL and MariaDB/MySQL (any SQLAlchemy URL whose driver is installed).
The same seed gives the same rows, so tests can assert exact contents. Standard library and
SQLAlchemy only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

SCHEMA = Path(__file__).with_name("schema.sql")
SEED = 20261122
READINGS_PER_THERMOSTAT = 48

_FIRST = ["Mei", "Jonas", "Aylin", "Tomasz", "Ingrid", "Kwame", "Lucía", "Ravi", "Sofia", "Li"]
_LAST = ["Zhang", "Becker", "Yilmaz", "Nowak", "Lund", "Mensah", "García", "Iyer", "Rossi", "Wang"]
_STREETS = ["Lindenweg", "Harbour Road", "Rue des Fleurs", "Via Roma", "Nanjing Lu", "Elm Street"]
_CITIES = [("Berlin", "DE"), ("Shanghai", "CN"), ("Lyon", "FR"), ("Milano", "IT"), ("Leeds", "GB")]


def statements(sql: str) -> list[str]:
    """The statements of a SQL script: comments dropped, split at semicolons."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def create_schema(engine: Engine) -> None:
    """Create the example tables (schema.sql) in an empty database."""
    with engine.begin() as connection:
        for statement in statements(SCHEMA.read_text(encoding="utf-8")):
            connection.execute(text(statement))


def rows(people: int = 5, seed: int = SEED) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table for ``people`` made-up people, the same for the same seed."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 6, 8, 0, 0)
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "users",
            "homes",
            "home_members",
            "thermostats",
            "temperature_readings",
            "support_tickets",
            "newsletter_subscriptions",
            "invoices",
            "firmware_releases",
        )
    }
    tables["firmware_releases"] = [
        {"version": "4.2.0", "released_on": dt.date(2024, 11, 2), "notes": "Faster boost mode."},
        {"version": "4.3.1", "released_on": dt.date(2025, 3, 14), "notes": "Frost protection."},
    ]
    for person in range(1, people + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        email = f"{first.lower()}.{last.lower()}{person}@example.com".replace("í", "i")
        created = start + dt.timedelta(days=rng.randrange(300))
        tables["users"].append(
            {
                "id": person,
                "email": email,
                "full_name": f"{first} {last}",
                "phone": f"+49 30 {rng.randrange(1000000, 9999999)}",
                "password_hash": f"$argon2id$v=19$m=65536,t=3,p=4${rng.getrandbits(64):016x}",
                "referred_by": rng.randrange(1, person)
                if person > 1 and rng.random() < 0.5
                else None,
                "created_at": created,
                "closed_at": None,
            }
        )
        city, country = rng.choice(_CITIES)
        tables["homes"].append(
            {
                "id": person,
                "owner_id": person,
                "name": rng.choice(["Home", "Flat", "Cottage", "Parents"]),
                "street": f"{rng.choice(_STREETS)} {rng.randrange(1, 120)}",
                "postal_code": f"{rng.randrange(10000, 99999)}",
                "city": city,
                "country": country,
                "latitude": round(rng.uniform(30, 55), 6),
                "longitude": round(rng.uniform(-2, 122), 6),
            }
        )
        tables["home_members"].append({"home_id": person, "user_id": person, "role": "owner"})
        if person > 1 and rng.random() < 0.5:  # shares someone else's home as well
            tables["home_members"].append(
                {"home_id": rng.randrange(1, person), "user_id": person, "role": "member"}
            )
        for number in range(rng.randrange(1, 3)):
            thermostat = person * 10 + number
            tables["thermostats"].append(
                {
                    "id": thermostat,
                    "home_id": person,
                    "serial_number": f"CW-{thermostat:06d}-{rng.randrange(16**4):04X}",
                    "model": rng.choice(["CW Smart 2", "CW Smart 3 Pro"]),
                    "firmware": rng.choice(["4.2.0", "4.3.1"]),
                    "installed_on": (created + dt.timedelta(days=3)).date(),
                }
            )
            for hour in range(READINGS_PER_THERMOSTAT):
                tables["temperature_readings"].append(
                    {
                        "id": thermostat * 1000 + hour,
                        "thermostat_id": thermostat,
                        "recorded_at": created + dt.timedelta(hours=hour),
                        "indoor_celsius": round(rng.uniform(16, 24), 1),
                        "target_celsius": rng.choice([19.0, 20.5, 21.0]),
                    }
                )
        for number in range(rng.randrange(0, 3)):
            tables["support_tickets"].append(
                {
                    "id": person * 10 + number,
                    "customer_email": email,
                    "subject": rng.choice(["Heating stays on", "App login fails", "Invoice copy"]),
                    "body": f"Hello, this is {first}. Could you please help me with this?",
                    "status": rng.choice(["open", "closed"]),
                    "opened_at": created + dt.timedelta(days=rng.randrange(1, 60)),
                }
            )
        if rng.random() < 0.6:
            tables["newsletter_subscriptions"].append(
                {
                    "id": person,
                    "user_id": person,
                    "email": email,
                    "subscribed_at": created,
                    "unsubscribed_at": None,
                }
            )
        for number in range(rng.randrange(1, 4)):
            tables["invoices"].append(
                {
                    "id": person * 10 + number,
                    "user_id": person,
                    "number": f"CW-2025-{person:04d}{number}",
                    "issued_on": (created + dt.timedelta(days=30 * (number + 1))).date(),
                    "billing_name": f"{first} {last}",
                    "billing_address": tables["homes"][-1]["street"] + f", {city}",
                    "amount": round(4.99 * (number + 1), 2),
                    "currency": "EUR",
                }
            )
    # A visitor who writes to support without an account, and a newsletter-only subscriber.
    tables["support_tickets"].append(
        {
            "id": 9001,
            "customer_email": "visitor@example.org",
            "subject": "Before I buy",
            "body": "Does the thermostat work with floor heating?",
            "status": "closed",
            "opened_at": start,
        }
    )
    tables["newsletter_subscriptions"].append(
        {
            "id": 9001,
            "user_id": None,
            "email": "reader@example.org",
            "subscribed_at": start,
            "unsubscribed_at": None,
        }
    )
    return tables


def seed(engine: Engine, people: int = 5, seed: int = SEED) -> dict[str, int]:
    """Insert the rows of :func:`rows` (parents before children); returns the count per table.

    Numbers are floats, not Decimals, because SQLite's driver binds no Decimal.
    """
    tables = rows(people, seed)
    with engine.begin() as connection:
        for name, table_rows in tables.items():
            if table_rows:
                columns = list(table_rows[0])
                statement = text(
                    f"INSERT INTO {name} ({', '.join(columns)})"
                    f" VALUES ({', '.join(':' + column for column in columns)})"
                )
                connection.execute(statement, table_rows)
    return {name: len(table_rows) for name, table_rows in tables.items()}


def main() -> None:
    """Create the schema at the URL given and seed it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of an empty database")
    parser.add_argument("--people", type=int, default=5, help="how many people (default 5)")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    arguments = parser.parse_args()
    engine = create_engine(arguments.url)
    try:
        create_schema(engine)
        counts = seed(engine, arguments.people, arguments.seed)
    finally:
        engine.dispose()
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))


if __name__ == "__main__":
    main()

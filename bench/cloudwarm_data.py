"""Fill Cloudwarm's example schema on PostgreSQL with 100,000 made-up people (over 2,000,000 rows).

Usage::

    .venv/bin/python bench/cloudwarm_data.py [--people 100000] [--seed N] [--url URL] [--force]

The schema is ``examples/cloudwarm/schema/schema.sql``, the tables of the ``app`` datastore of
``examples/cloudwarm/pledge.yaml``. The database (``pledge_bench`` by default, or
``PLEDGE_BENCH_CLOUDWARM_URL``) is created through the server's ``postgres`` database when it
does not exist. Rows are made from one seeded random generator, so the same parameters give the
same rows, and loaded with ``COPY`` in one transaction; the load is recorded in
``generator.generation`` (a schema of its own, so that reflecting the app's tables does not see
it), and a later call with the same parameters finds it there and does nothing (``--force``
rebuilds). ``VACUUM (ANALYZE)`` ends a load, so that the first requests measured neither set
hint bits nor run on guessed statistics.

The shape, per person: an account (a third referred by an earlier one), one or two homes, one
to three thermostats per home, a few readings per thermostat with a long tail (the big table),
0 to 6 support tickets naming the person's e-mail address, a newsletter subscription for about
half of them (some under an older address, found only by the account id; some taken out before
signing up, found only by the address) and 0 to 5 invoices. About one person in seven is also a
member of someone else's home. Visitors write tickets and readers subscribe to the newsletter
without an account. Names and addresses are ASCII and free of tabs and backslashes, so rows are
written straight in ``COPY``'s text format.

Besides the schema's own indexes, the load adds the ones a production database has on its
foreign-key and lookup columns (``EXTRA_INDEXES``): ``schema.sql`` leaves them out because it
stays portable, and without them every request would scan whole tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.progress import Progress
from sqlalchemy.engine import make_url

SCHEMA = Path(__file__).resolve().parents[1] / "examples" / "cloudwarm" / "schema" / "schema.sql"
URL = os.environ.get(
    "PLEDGE_BENCH_CLOUDWARM_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pledge_bench"
)
PEOPLE = 100_000
SEED = 20261122
VERSION = 1
"""Bumped whenever the generated shape changes, so that older loads are rebuilt."""

COLUMNS = {  # parents before children: the order of the load
    "firmware_releases": "version, released_on, notes",
    "users": "id, email, full_name, phone, password_hash, referred_by, created_at, closed_at",
    "homes": "id, owner_id, name, street, postal_code, city, country, latitude, longitude",
    "home_members": "home_id, user_id, role",
    "thermostats": "id, home_id, serial_number, model, firmware, installed_on",
    "temperature_readings": "id, thermostat_id, recorded_at, indoor_celsius, target_celsius",
    "support_tickets": "id, customer_email, subject, body, status, opened_at",
    "newsletter_subscriptions": "id, user_id, email, subscribed_at, unsubscribed_at",
    "invoices": ("id, user_id, number, issued_on, billing_name, billing_address, amount, currency"),
}
TABLES = tuple(COLUMNS)
EXTRA_INDEXES = (
    "CREATE INDEX users_referred_by ON users (referred_by)",
    "CREATE INDEX homes_owner ON homes (owner_id)",
    "CREATE INDEX home_members_user ON home_members (user_id)",
    "CREATE INDEX thermostats_home ON thermostats (home_id)",
    "CREATE INDEX newsletter_subscriptions_email ON newsletter_subscriptions (email)",
    "CREATE INDEX newsletter_subscriptions_user ON newsletter_subscriptions (user_id)",
    "CREATE INDEX invoices_user ON invoices (user_id)",
)
LOCK = 73_942_611
"""The advisory lock that keeps two loads of one database from running at once."""

_FIRST = ["Mei", "Jonas", "Aylin", "Tomasz", "Ingrid", "Kwame", "Lucia", "Ravi", "Sofia", "Li"]
_FIRST += ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Nora", "Omar"]
_LAST = ["Zhang", "Becker", "Yilmaz", "Nowak", "Lund", "Mensah", "Garcia", "Iyer", "Rossi"]
_LAST += ["Wang", "Meyer", "Schmidt", "Dubois", "Jansen", "Smith", "Novak", "Berg", "Silva"]
_DOMAINS = ["example.com", "mail.example.org", "example.net", "post.example.de"]
_STREETS = ["Lindenweg", "Harbour Road", "Rue des Fleurs", "Via Roma", "Elm Street", "Hauptstr."]
_CITIES = [  # city, country, latitude, longitude
    ("Berlin", "DE", 52.52, 13.40),
    ("Hamburg", "DE", 53.55, 9.99),
    ("Lyon", "FR", 45.76, 4.84),
    ("Milano", "IT", 45.46, 9.19),
    ("Leeds", "GB", 53.80, -1.55),
    ("Utrecht", "NL", 52.09, 5.12),
    ("Porto", "PT", 41.15, -8.61),
    ("Krakow", "PL", 50.06, 19.94),
]
_HOME_NAMES = ["Home", "Flat", "Cottage", "Parents", "Office", "Holiday home"]
_MODELS = ["CW Smart 2", "CW Smart 3", "CW Smart 3 Pro", "CW Radiator Valve"]
_TARGETS = ["18.0", "19.0", "19.5", "20.0", "20.5", "21.0", "22.0"]
_SUBJECTS = [
    "Heating stays on",
    "App login fails",
    "Invoice copy",
    "Thermostat offline",
    "Wrong temperature shown",
    "Schedule ignored at night",
]
_BODIES = [
    "Hello, since the last update the display stays dark. Could you please help?",
    "Hi, the app asks me to log in again every morning.",
    "Could you send me a copy of my last invoice, please?",
    "The thermostat in the living room shows 3 degrees more than the room has.",
    "The night schedule is ignored since we changed the batteries.",
]
_FIRMWARE = [f"4.{minor}.{patch}" for minor in range(8) for patch in range(3)]
_EPOCH = dt.datetime(2019, 1, 1)
_NULL = "\\N"
_CHUNK = 1_000
"""People generated between two joins of the pending lines of each table."""


@dataclass(frozen=True)
class Generation:
    """What the database holds: the load's parameters, its rows per table and how long it took.

    ``loaded`` tells whether this call loaded it, or found it already there.
    """

    people: int
    seed: int
    counts: dict[str, int]
    seconds: float
    loaded: bool

    @property
    def rows(self) -> int:
        """Rows in every table together."""
        return sum(self.counts.values())


def conninfo(url: str) -> str:
    """The psycopg connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(url: str) -> None:
    """Create the database ``url`` names through the server's ``postgres`` database, if missing."""
    target = make_url(url)
    admin = conninfo(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if exists is None:
            name = str(target.database).replace('"', '""')
            connection.execute(f'CREATE DATABASE "{name}"')


def ensure(
    url: str = URL,
    people: int = PEOPLE,
    seed: int = SEED,
    *,
    force: bool = False,
    progress: bool = True,
) -> Generation:
    """Make the database at ``url`` hold the load of ``people`` people from ``seed``.

    Args:
        url: SQLAlchemy URL of the PostgreSQL database, created when missing.
        people: how many people (accounts) to make.
        seed: the random seed; the same parameters give the same rows.
        force: load again even when the database holds this load already.
        progress: show progress bars.

    Returns:
        The load found or made.
    """
    create_database(url)
    parameters = json.dumps({"people": people, "seed": seed, "version": VERSION})
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        try:
            found = _recorded(connection, parameters)
            if found is not None and not force:
                counts, seconds = found
                return Generation(people, seed, counts, seconds, loaded=False)
            started = time.perf_counter()
            with connection.transaction():
                counts = _load(connection, people, seed, progress)
            _vacuum(connection, progress)
            seconds = time.perf_counter() - started
            # Recorded last: a load cut short is loaded again next time.
            connection.execute(
                "CREATE SCHEMA generator; CREATE TABLE generator.generation"
                " (parameters jsonb NOT NULL, counts jsonb NOT NULL,"
                " seconds double precision NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())"
            )
            connection.execute(
                "INSERT INTO generator.generation (parameters, counts, seconds)"
                " VALUES (%s, %s, %s)",
                (parameters, json.dumps(counts), seconds),
            )
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (LOCK,))
    return Generation(people, seed, counts, seconds, loaded=True)


def _recorded(
    connection: psycopg.Connection[tuple[object, ...]], parameters: str
) -> tuple[dict[str, int], float] | None:
    exists = connection.execute("SELECT to_regclass('generator.generation')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = connection.execute(
        "SELECT counts, seconds FROM generator.generation WHERE parameters = %s::jsonb",
        (parameters,),
    ).fetchone()
    if row is None:
        return None
    counts, seconds = row
    assert isinstance(counts, dict) and isinstance(seconds, float)
    return {table: int(counts[table]) for table in TABLES}, seconds


def _load(
    connection: psycopg.Connection[tuple[object, ...]], people: int, seed: int, progress: bool
) -> dict[str, int]:
    """Replace the tables with a fresh load, in the caller's transaction; rows per table."""
    connection.execute(
        "DROP SCHEMA IF EXISTS generator CASCADE;"
        f" DROP TABLE IF EXISTS {', '.join(reversed(TABLES))} CASCADE"
    )
    connection.execute(SCHEMA.read_text(encoding="utf-8"))
    with Progress(transient=True, disable=not progress) as bars:
        making = bars.add_task("making people", total=people)
        chunks: dict[str, list[str]] = {table: [] for table in TABLES}
        counts = dict.fromkeys(TABLES, 0)
        for made, batch in _batches(people, seed):
            for table, lines in batch.items():
                if lines:
                    chunks[table].append("".join(lines))
                    counts[table] += len(lines)
            bars.update(making, completed=made)
        bars.remove_task(making)
        copying = bars.add_task("copying", total=sum(counts.values()))
        with connection.cursor() as cursor:
            for table in TABLES:
                bars.update(copying, description=f"copying {table}")
                with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    while chunks[table]:
                        chunk = chunks[table].pop(0)
                        copy.write(chunk)
                        bars.advance(copying, chunk.count("\n"))
        bars.remove_task(copying)
        indexing = bars.add_task("indexing", total=len(EXTRA_INDEXES))
        for statement in EXTRA_INDEXES:
            connection.execute(statement)
            bars.advance(indexing)
    return counts


def _vacuum(connection: psycopg.Connection[tuple[object, ...]], progress: bool) -> None:
    with Progress(transient=True, disable=not progress) as bars:
        task = bars.add_task("vacuum and analyze", total=len(TABLES))
        for table in TABLES:
            connection.execute(f"VACUUM (ANALYZE) {table}")
            bars.advance(task)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(" ")


def _tickets(roll: float, randrange: Callable[[int], int]) -> int:
    """How many tickets a person wrote: none for most, one or two for many, up to six for some."""
    if roll < 0.55:
        return 0
    if roll < 0.8:
        return 1
    return 2 if roll < 0.9 else 3 + randrange(4)


def _batches(people: int, seed: int) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """The COPY text lines of every table, ``_CHUNK`` people at a time, and people made so far.

    One random generator drawn in one fixed order: the same ``people`` and ``seed`` give the
    same lines.
    """
    rng = random.Random(seed)
    random_, randrange, choice = rng.random, rng.randrange, rng.choice
    lines: dict[str, list[str]] = {table: [] for table in TABLES}
    for version_number, version in enumerate(_FIRMWARE):
        released = dt.date(2023, 1, 10) + dt.timedelta(days=45 * version_number)
        lines["firmware_releases"].append(f"{version}\t{released}\tStability fixes.\n")
    users, homes, members = lines["users"], lines["homes"], lines["home_members"]
    thermostats, readings = lines["thermostats"], lines["temperature_readings"]
    tickets, newsletter = lines["support_tickets"], lines["newsletter_subscriptions"]
    invoices = lines["invoices"]
    home_id = thermostat_id = reading_id = ticket_id = subscription_id = invoice_id = 0
    for person in range(1, people + 1):
        first, last = choice(_FIRST), choice(_LAST)
        email = f"{first}.{last}.{person}@{choice(_DOMAINS)}".lower()
        created = _EPOCH + dt.timedelta(minutes=randrange(6 * 365 * 24 * 60))
        full_name = f"{first} {last}" if random_() < 0.95 else _NULL
        phone = f"+49 30 {randrange(1_000_000, 9_999_999)}" if random_() < 0.8 else _NULL
        referred = str(randrange(1, person)) if person > 1 and random_() < 0.3 else _NULL
        closed = (
            _stamp(created + dt.timedelta(days=randrange(30, 900))) if random_() < 0.03 else _NULL
        )
        users.append(
            f"{person}\t{email}\t{full_name}\t{phone}"
            f"\t$argon2id$v=19$m=65536,t=3,p=4${rng.getrandbits(128):032x}"
            f"\t{referred}\t{_stamp(created)}\t{closed}\n"
        )
        if home_id > 0 and random_() < 0.15:  # also a member of someone else's home
            role = "member" if random_() < 0.8 else "guest"
            members.append(f"{randrange(1, home_id + 1)}\t{person}\t{role}\n")
        address = ""
        for _ in range(2 if random_() < 0.3 else 1):
            home_id += 1
            city, country, latitude, longitude = choice(_CITIES)
            address = f"{choice(_STREETS)} {randrange(1, 200)}"
            homes.append(
                f"{home_id}\t{person}\t{choice(_HOME_NAMES)}\t{address}"
                f"\t{randrange(10000, 99999)}\t{city}\t{country}"
                f"\t{latitude + random_() / 10:.6f}\t{longitude + random_() / 10:.6f}\n"
            )
            members.append(f"{home_id}\t{person}\towner\n")
            for _ in range(choice((1, 1, 1, 2, 2, 3))):
                thermostat_id += 1
                installed = created + dt.timedelta(days=randrange(1, 60))
                thermostats.append(
                    f"{thermostat_id}\t{home_id}\tCW-{thermostat_id:07d}-{randrange(65536):04X}"
                    f"\t{choice(_MODELS)}\t{choice(_FIRMWARE)}\t{installed.date()}\n"
                )
                # A long tail: most thermostats report a few readings, a few report many.
                count = min(1 + int(rng.expovariate(0.23)), 96)
                recorded = installed + dt.timedelta(days=randrange(0, 365))
                for _ in range(count):
                    reading_id += 1
                    recorded += dt.timedelta(minutes=15)
                    readings.append(
                        f"{reading_id}\t{thermostat_id}\t{_stamp(recorded)}"
                        f"\t{15 + random_() * 10:.1f}\t{choice(_TARGETS)}\n"
                    )
        for _ in range(_tickets(random_(), randrange)):
            ticket_id += 1
            opened = created + dt.timedelta(hours=randrange(1, 20_000))
            tickets.append(
                f"{ticket_id}\t{email}\t{choice(_SUBJECTS)}\t{choice(_BODIES)}"
                f"\t{'open' if random_() < 0.1 else 'closed'}\t{_stamp(opened)}\n"
            )
        roll = random_()
        if roll < 0.55:  # subscribed from the account; some under an address changed since
            subscription_id += 1
            address_then = email if random_() < 0.9 else f"{first}{person}@old.example.net".lower()
            gone = _stamp(created + dt.timedelta(days=200)) if random_() < 0.2 else _NULL
            newsletter.append(
                f"{subscription_id}\t{person}\t{address_then}\t{_stamp(created)}\t{gone}\n"
            )
        elif roll < 0.6:  # subscribed before signing up: the address only
            subscription_id += 1
            before = _stamp(created - dt.timedelta(days=randrange(1, 300)))
            newsletter.append(f"{subscription_id}\t{_NULL}\t{email}\t{before}\t{_NULL}\n")
        for number in range(randrange(6)):
            invoice_id += 1
            issued = (created + dt.timedelta(days=30 * (number + 1))).date()
            invoices.append(
                f"{invoice_id}\t{person}\tCW-{issued.year}-{invoice_id:08d}\t{issued}"
                f"\t{full_name if full_name != _NULL else email}\t{address or _NULL}"
                f"\t{4.99 * (number % 3 + 1):.2f}\tEUR\n"
            )
        if person % 10 == 0:  # a visitor writes to support, and a reader subscribes
            visitor = f"{choice(_FIRST)}.{choice(_LAST)}.v{person}@{choice(_DOMAINS)}".lower()
            for _ in range(1 + (random_() < 0.3)):
                ticket_id += 1
                tickets.append(
                    f"{ticket_id}\t{visitor}\tBefore I buy\tDoes it work with floor heating?"
                    f"\tclosed\t{_stamp(created)}\n"
                )
            if random_() < 0.3:
                subscription_id += 1
                newsletter.append(
                    f"{subscription_id}\t{_NULL}\t{visitor}\t{_stamp(created)}\t{_NULL}\n"
                )
        if person % 5 == 0:
            subscription_id += 1
            reader = f"reader.{person}@{choice(_DOMAINS)}"
            newsletter.append(f"{subscription_id}\t{_NULL}\t{reader}\t{_stamp(created)}\t{_NULL}\n")
        if person % _CHUNK == 0 or person == people:
            yield person, lines
            for pending in lines.values():
                pending.clear()


def main() -> None:
    """Load the database at ``--url`` unless it holds this load already."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=URL, help="SQLAlchemy URL (PostgreSQL)")
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"default {PEOPLE:,}")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument("--force", action="store_true", help="load again even if loaded")
    arguments = parser.parse_args()
    found = ensure(arguments.url, arguments.people, arguments.seed, force=arguments.force)
    verb = "loaded" if found.loaded else "already held"
    print(f"{verb}: {found.rows:,} rows in {found.seconds:.1f} s")
    print(", ".join(f"{table}: {count:,}" for table, count in found.counts.items()))


if __name__ == "__main__":
    main()

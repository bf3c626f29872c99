"""Shape 15: the column types real schemas use beyond text, numbers and dates.

Members are keyed by UUID (PostgreSQL's and MariaDB's own type, text on SQLite) and hold a time
of day, a length of time (PostgreSQL's ``interval``, MariaDB's ``TIME``), an IP address
(``inet``, ``INET6``), JSON, a set of tags (an array, a ``SET``), money as a decimal and a
picture as bytes. Their sessions point to them by that UUID. Every value the driver returns has
to survive the job's store (the rows found are kept encrypted between steps) and appear in the
report, and the erasure has to find the rows again by those keys.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Connection
from tests.integration.corpus.driver import access, erase, errors
from tests.integration.corpus.harness import Company, Person, Rows, keys, matching, nonempty, seeded

ANN_ID = "0a0a0a0a-0000-4000-8000-000000000001"
BOB_ID = "0b0b0b0b-0000-4000-8000-000000000002"


def schema(engine: str) -> list[str]:
    """The tables in each engine's own types."""
    if engine == "postgresql":
        uuid, time, length, ip, document, tags, picture = (
            "UUID",
            "TIME",
            "INTERVAL",
            "INET",
            "JSONB",
            "TEXT[]",
            "BYTEA",
        )
    elif engine == "mariadb":
        uuid, time, length, ip, document, tags, picture = (
            "UUID",
            "TIME",
            "TIME",
            "INET6",
            "JSON",
            "SET('news', 'beta', 'vip')",
            "BLOB",
        )
    else:
        uuid, time, length, ip, document, tags, picture = (
            "CHAR(36)",
            "TIME",
            "VARCHAR(20)",
            "VARCHAR(45)",
            "JSON",
            "VARCHAR(100)",
            "BLOB",
        )
    return [
        f"CREATE TABLE members (id {uuid} PRIMARY KEY, email VARCHAR(200) NOT NULL,"
        f" name VARCHAR(200), callback_at {time}, trial {length}, last_ip {ip},"
        f" preferences {document}, tags {tags}, balance NUMERIC(10, 2), avatar {picture})",
        f"CREATE TABLE sessions (id {uuid} PRIMARY KEY, member_id {uuid} NOT NULL,"
        f" started_at {time} NOT NULL, ip {ip},"
        " FOREIGN KEY (member_id) REFERENCES members (id))",
    ]


def seed(engine: str) -> list[str]:
    """Ann with two sessions, Bob with one (IPv4 addresses mapped into IPv6 on MariaDB, whose
    ``INET6`` holds nothing else)."""
    v4 = "::ffff:" if engine == "mariadb" else ""
    if engine == "postgresql":
        trial, tags, picture = "'14 days'", "ARRAY['news', 'beta']", "'\\x89504e47'::bytea"
        bob_tags = "ARRAY['vip']"
    elif engine == "mariadb":
        trial, tags, picture, bob_tags = "'02:00:00'", "'news,beta'", "X'89504E47'", "'vip'"
    else:
        trial, tags, picture, bob_tags = "'14 days'", "'news,beta'", "X'89504E47'", "'vip'"
    return [
        "INSERT INTO members (id, email, name, callback_at, trial, last_ip, preferences, tags,"
        " balance, avatar) VALUES"
        f" ('{ANN_ID}', 'ann@example.org', 'Ann Smith', '08:30:00', {trial}, '{v4}192.0.2.10',"
        f" '{json.dumps({'theme': 'dark', 'language': 'de'})}', {tags}, 12.50, {picture}),"
        f" ('{BOB_ID}', 'bob@example.org', 'Bob Jones', '17:00:00', {trial}, '2001:db8::1',"
        f" '{json.dumps({'theme': 'light'})}', {bob_tags}, 0.00, NULL)",
        "INSERT INTO sessions (id, member_id, started_at, ip) VALUES"
        f" ('1a000000-0000-4000-8000-000000000001', '{ANN_ID}', '09:15:00', '{v4}192.0.2.10'),"
        f" ('1a000000-0000-4000-8000-000000000002', '{ANN_ID}', '21:40:30', '{v4}198.51.100.7'),"
        f" ('1b000000-0000-4000-8000-000000000003', '{BOB_ID}', '10:00:00', '2001:db8::1')",
    ]


KEYS = {"members": ("id",), "sessions": ("id",)}

TABLES = """\
members:
  columns:
    email: {category: contact.email, identity: email}
    name: {category: identity.name}
    callback_at: {category: account.settings}
    trial: {category: account.membership}
    last_ip: {category: usage.account_activity}
    preferences: {category: account.settings}
    tags: {category: account.settings}
    balance: {category: financial.transactions}
    avatar: {category: identity.photo}
  erasure: {strategy: delete}
sessions:
  columns:
    started_at: {category: usage.access_times}
    ip: {category: usage.account_activity}
  erasure: {strategy: delete}
"""

ANN = Person("Ann Smith", "ann@example.org")


def theirs(connection: Connection, person: Person) -> Rows:
    """The person's rows, by hand-written SQL: the member, and the sessions pointing to it."""
    members = matching(connection, "SELECT id, email FROM members", person.owns_email)
    if not members:
        return {}
    sessions = keys(connection, "SELECT id FROM sessions WHERE member_id IN :ids", ids=members)
    return nonempty({"members": members, "sessions": sessions})


shop = seeded(schema, seed)


def test_the_declaration_checks_without_errors(shop: Company) -> None:
    assert errors(shop, TABLES) == []


def test_access_reports_every_type_as_text_a_person_can_read(shop: Company, tmp_path: Path) -> None:
    """Ann's report holds her member row and both sessions, every value in it readable."""
    (report,) = access(shop, tmp_path, TABLES, KEYS, theirs, ANN)
    (member,) = report.rows["members"]
    assert str(member["id"]).lower() == ANN_ID
    assert str(member["callback_at"]).startswith("08:30")
    assert "192.0.2.10" in str(member["last_ip"])
    assert "dark" in json.dumps(member["preferences"])
    assert "news" in str(member["tags"]) and "beta" in str(member["tags"])
    assert str(member["balance"]) in ("12.50", "12.5")
    assert member["avatar"] == "89504e47"
    assert {str(row["member_id"]).lower() for row in report.rows["sessions"]} == {ANN_ID}
    assert "bob@example.org" not in report.text and "2001:db8::1" not in report.text


def test_erasure_finds_the_rows_again_by_their_uuid_keys(shop: Company, tmp_path: Path) -> None:
    """The rows found are kept between steps and erased by key; Bob's stay as they were."""
    done = erase(shop, tmp_path, TABLES, theirs, ANN)
    assert done.tables["members"]["rows"] == 1
    assert done.tables["sessions"]["rows"] == 2

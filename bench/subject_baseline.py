"""The minimal hand-written SQL for one person's access and erasure in Cloudwarm's database.

What a careful engineer would write by hand for the ``app`` datastore of
``examples/cloudwarm/pledge.yaml``, on PostgreSQL through psycopg: the yardstick Pledge's own
planner and executor are measured against (``bench/subject_requests.py``, goal ≤ 1.5×).

It follows the declaration's graph from the e-mail address: the account (``users.email``), the
homes it owns, their memberships, thermostats and readings, the support tickets naming the
address (a declared relation, no foreign key), newsletter subscriptions by address or by
account, and invoices. A person's home memberships are their own rows plus every membership of
the homes they own, which go with those homes; homes they only share are someone else's and
stay out. Access returns exactly the rows erasure touches, plus the invoices it keeps.

Erasure has the outcome of the declared strategies, children first, in one transaction:
readings, thermostats, memberships and homes deleted; tickets and subscriptions deleted;
invoices retained under the legal hold; the account rewritten (e-mail to its keyed pseudonym,
name and phone emptied, password hash set to ``!erased``), because invoices still refer to it.

Each function takes an idle psycopg connection (autocommit is what the benchmark uses) and
opens its own transaction. By default the e-mail columns are compared as stored (``email =
%s``), which is all a careful engineer needs when every address is stored in lower case, as in
this load; ``folded=True`` compares them as Pledge does, ``lower(trim(email)) = %s``, which an
index on that expression serves: the two together say what the case-insensitive match costs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import psycopg

Row = tuple[Any, ...]
Connection = psycopg.Connection[Row]
TABLES = (
    "users",
    "homes",
    "home_members",
    "thermostats",
    "temperature_readings",
    "support_tickets",
    "newsletter_subscriptions",
    "invoices",
)
"""The annotated tables that hold a person's rows (firmware_releases holds no one's)."""
ERASED_PASSWORD = "!erased"


def compared(column: str, folded: bool) -> str:
    """The SQL of an e-mail column as compared: as stored, or case and spaces folded."""
    return f"lower(trim({column}))" if folded else column


def pseudonym(value: str, key: bytes) -> str:
    """The keyed pseudonym of ``value``: HMAC-SHA-256 of its UTF-8 bytes, in hex."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def baseline_access(
    connection: Connection, email: str, *, folded: bool = False
) -> dict[str, list[Row]]:
    """Every row of the person with ``email``, per annotated table, in one transaction.

    Args:
        connection: an idle psycopg connection to the Cloudwarm database.
        email: the address the person gave, in lower case.
        folded: compare e-mail columns as ``lower(trim(column))``.

    Returns:
        Each table of :data:`TABLES` with the person's rows (every column), maybe none.
    """
    found: dict[str, list[Row]] = {table: [] for table in TABLES}
    with connection.transaction():
        execute = connection.execute
        found["users"] = execute(
            f"SELECT * FROM users WHERE {compared('email', folded)} = %s", (email,)
        ).fetchall()
        account = found["users"][0][0] if found["users"] else None
        found["support_tickets"] = execute(
            f"SELECT * FROM support_tickets WHERE {compared('customer_email', folded)} = %s",
            (email,),
        ).fetchall()
        found["newsletter_subscriptions"] = execute(
            "SELECT * FROM newsletter_subscriptions"
            f" WHERE {compared('email', folded)} = %s OR user_id = %s",
            (email, account),
        ).fetchall()
        if account is None:
            return found
        found["homes"] = execute("SELECT * FROM homes WHERE owner_id = %s", (account,)).fetchall()
        homes = [home[0] for home in found["homes"]]
        found["home_members"] = execute(
            "SELECT * FROM home_members WHERE user_id = %s OR home_id = ANY(%s)", (account, homes)
        ).fetchall()
        if homes:
            found["thermostats"] = execute(
                "SELECT * FROM thermostats WHERE home_id = ANY(%s)", (homes,)
            ).fetchall()
            thermostats = [thermostat[0] for thermostat in found["thermostats"]]
            found["temperature_readings"] = execute(
                "SELECT * FROM temperature_readings WHERE thermostat_id = ANY(%s)", (thermostats,)
            ).fetchall()
        found["invoices"] = execute(
            "SELECT * FROM invoices WHERE user_id = %s", (account,)
        ).fetchall()
    return found


def baseline_erase(
    connection: Connection, email: str, key: bytes, *, folded: bool = False
) -> dict[str, int]:
    """Erase the person with ``email`` as the declaration says, in one transaction.

    Args:
        connection: an idle psycopg connection to the Cloudwarm database.
        email: the address the person gave, in lower case.
        key: the key of the e-mail pseudonym.
        folded: compare e-mail columns as ``lower(trim(column))``.

    Returns:
        Rows deleted or rewritten per table (invoices, retained, are not counted).
    """
    changed: dict[str, int] = {}
    with connection.transaction():
        execute = connection.execute
        account_row = execute(
            f"SELECT id FROM users WHERE {compared('email', folded)} = %s FOR UPDATE", (email,)
        ).fetchone()
        if account_row is not None:
            account = account_row[0]
            homes = [
                home for (home,) in execute("SELECT id FROM homes WHERE owner_id = %s", (account,))
            ]
            if homes:
                changed["temperature_readings"] = execute(
                    "DELETE FROM temperature_readings WHERE thermostat_id IN"
                    " (SELECT id FROM thermostats WHERE home_id = ANY(%s))",
                    (homes,),
                ).rowcount
                changed["thermostats"] = execute(
                    "DELETE FROM thermostats WHERE home_id = ANY(%s)", (homes,)
                ).rowcount
            changed["home_members"] = execute(
                "DELETE FROM home_members WHERE user_id = %s OR home_id = ANY(%s)",
                (account, homes),
            ).rowcount
            if homes:
                changed["homes"] = execute(
                    "DELETE FROM homes WHERE id = ANY(%s)", (homes,)
                ).rowcount
        changed["support_tickets"] = execute(
            f"DELETE FROM support_tickets WHERE {compared('customer_email', folded)} = %s",
            (email,),
        ).rowcount
        changed["newsletter_subscriptions"] = execute(
            "DELETE FROM newsletter_subscriptions"
            f" WHERE {compared('email', folded)} = %s OR user_id = %s",
            (email, account_row[0] if account_row else None),
        ).rowcount
        if account_row is not None:
            changed["users"] = execute(
                "UPDATE users SET email = %s, full_name = NULL, phone = NULL, password_hash = %s"
                " WHERE id = %s",
                (pseudonym(email, key), ERASED_PASSWORD, account_row[0]),
            ).rowcount
    return {table: changed.get(table, 0) for table in TABLES if table != "invoices"}


def baseline_erase_many(
    connection: Connection, emails: Sequence[str], key: bytes
) -> dict[str, int]:
    """Erase everyone in ``emails`` at once: :func:`baseline_erase`, set-based, one transaction.

    Args:
        connection: an idle psycopg connection to the Cloudwarm database.
        emails: the addresses, each a different person.
        key: the key of the e-mail pseudonym.

    Returns:
        Rows deleted or rewritten per table, everyone together.
    """
    addresses = list(emails)
    with connection.transaction():
        execute = connection.execute
        accounts = execute(
            "SELECT id, email FROM users WHERE email = ANY(%s) FOR UPDATE", (addresses,)
        ).fetchall()
        ids = [account for account, _ in accounts]
        homes = [
            home for (home,) in execute("SELECT id FROM homes WHERE owner_id = ANY(%s)", (ids,))
        ]
        changed = {
            "temperature_readings": execute(
                "DELETE FROM temperature_readings WHERE thermostat_id IN"
                " (SELECT id FROM thermostats WHERE home_id = ANY(%s))",
                (homes,),
            ).rowcount,
            "thermostats": execute(
                "DELETE FROM thermostats WHERE home_id = ANY(%s)", (homes,)
            ).rowcount,
            "home_members": execute(
                "DELETE FROM home_members WHERE user_id = ANY(%s) OR home_id = ANY(%s)",
                (ids, homes),
            ).rowcount,
            "homes": execute("DELETE FROM homes WHERE id = ANY(%s)", (homes,)).rowcount,
            "support_tickets": execute(
                "DELETE FROM support_tickets WHERE customer_email = ANY(%s)", (addresses,)
            ).rowcount,
            "newsletter_subscriptions": execute(
                "DELETE FROM newsletter_subscriptions WHERE email = ANY(%s) OR user_id = ANY(%s)",
                (addresses, ids),
            ).rowcount,
            "users": execute(
                "UPDATE users SET email = erased.pseudonym, full_name = NULL, phone = NULL,"
                " password_hash = %s FROM unnest(%s::integer[], %s::text[])"
                " AS erased (id, pseudonym) WHERE users.id = erased.id",
                (ERASED_PASSWORD, ids, [pseudonym(email, key) for _, email in accounts]),
            ).rowcount,
        }
    return {table: changed[table] for table in TABLES if table != "invoices"}

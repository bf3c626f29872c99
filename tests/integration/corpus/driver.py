"""How the corpus drives Pledge: a declaration around a shape's tables, requests, reports.

A test states what is particular to its shape; the procedure every request follows is here:
``access`` (the report holds exactly the rows the oracle finds), ``erase`` (the oracle and the
residue search find nothing of the person, nobody else's row changed, no link broken) and
``assert_refused`` (the request fails for good, naming why, and nothing changes).

Pledge is imported inside these functions, not at the top: the corpus's schemas and oracles
are collected and run whatever state Pledge's planner is in, and a test fails at the point
where it asks Pledge for something.
"""

from __future__ import annotations

import io
import json
import os
import re
import textwrap
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.integration.corpus.harness import (
    Company,
    Key,
    Oracle,
    Person,
    Rows,
    Snapshot,
    changes_to_others,
    plain,
)

DATASTORE = "shop"

Identity = tuple[str, str]
"""An identity as a person gives it in a request: its kind and value, ``("email", "ann@…")``."""

DECLARATION = """\
pledge: 1
controller: {{name: Shop, legal_name: Shop GmbH, country: DE, email: privacy@shop.example}}
policy: {{version: "1", effective_date: 2026-01-01}}
purposes:
  provide_service:
    legal_basis: contract
    categories: [contact, identity, account, financial, user_content, usage, consent]
    retention: P30D after account_closed
rights:
  offered: [access, rectification, erasure, restriction, portability, objection, complaint]
children: {{minimum_age: 16}}
datastores:
  shop:
    url: {url}
    tables:
{tables}"""
"""A minimal valid declaration; the shape's annotated tables go under ``datastores.shop``."""


def declaration(url: str, tables: str) -> str:
    """The declaration of datastore ``shop`` at ``url`` with ``tables`` (YAML, from column 0)."""
    return DECLARATION.format(url=url, tables=textwrap.indent(textwrap.dedent(tables), " " * 6))


@contextmanager
def pledge_for(folder: Path, source: str) -> Iterator[Any]:
    """Pledge's runtime (its own store on SQLite in ``folder``) under the declaration ``source``."""
    from pledge import loads
    from pledge.app import build_runtime
    from pledge.config import Settings
    from pledge.store.database import Database

    store = Database(f"sqlite:///{folder / 'pledge.db'}")
    store.upgrade()
    runtime = build_runtime(
        Settings(secret_key=os.urandom(32)),
        declaration=loads(source),
        database=store,
        log_mode="sync",
    )
    try:
        yield runtime
    finally:
        runtime.close()


def submitted(runtime: Any, kind: str, *identities: Identity) -> str:
    """A request by the person with these ``(kind, value)`` identities, verified by staff."""
    from pledge.subjects.model import Identity as SubjectIdentity

    (first_kind, first_value), *more = identities
    request = runtime.requests.submit(
        kind,
        SubjectIdentity.parse(first_kind, first_value),
        on_behalf_of_staff="Sam",
        skip_verification_reason="the corpus knows who they are",
    )
    for identity_kind, value in more:
        runtime.subjects.add_identity(
            request.subject_id, SubjectIdentity.parse(identity_kind, value), actor="test"
        )
    return str(request.id)


@dataclass(frozen=True)
class Carried:
    """A request after it was approved and run: its record, and what running it raised."""

    request: Any
    raised: str | None

    @property
    def state(self) -> str:
        """Where the request is now (``completed``, ``failed`` …)."""
        return str(self.request.state)

    @property
    def why(self) -> str:
        """What to show when the state is not the one expected."""
        request = self.request
        return f"failure={request.failure!r} retryable={request.retryable} raised={self.raised!r}"


def carry_out(runtime: Any, request_id: str) -> Carried:
    """Approve the request and run its job now; a failed job raises, its request says why."""
    raised = None
    try:
        runtime.execution.approve(request_id, actor="staff:Sam")
        runtime.execution.run_now(request_id, owner="corpus")
    except Exception as error:  # the test reads the request's state and failure instead
        raised = f"{type(error).__name__}: {error}"
    return Carried(runtime.requests.get(request_id), raised)


def ask(runtime: Any, kind: str, *identities: Identity) -> tuple[str, Carried]:
    """Submit, approve and run a request of ``kind``: its id and how it ended."""
    request_id = submitted(runtime, kind, *identities)
    return request_id, carry_out(runtime, request_id)


def _by_email(person: Person) -> tuple[Identity, ...]:
    """How most requests identify the person: by their e-mail address alone."""
    return (("email", person.email),)


# --- access --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """An access request's report: its zip archive, as the person downloads it."""

    archive: bytes

    @cached_property
    def files(self) -> zipfile.ZipFile:
        """The archive, opened."""
        return zipfile.ZipFile(io.BytesIO(self.archive))

    @cached_property
    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The rows of datastore ``shop`` in the report's ``data.json``, by table."""
        data = json.loads(self.files.read("data.json"))
        (datastore,) = [item for item in data["datastores"] if item["name"] == DATASTORE]
        return {table["name"]: table["rows"] for table in datastore["tables"]}

    @cached_property
    def text(self) -> str:
        """Every file of the archive as one text, to search for what must not be there."""
        return "\n".join(
            self.files.read(name).decode("utf-8", "replace") for name in self.files.namelist()
        )


def reported_keys(
    rows: Mapping[str, list[dict[str, Any]]], primary_keys: Mapping[str, tuple[str, ...]]
) -> Rows:
    """The keys of the reported rows by table (tables with no rows left out).

    Raises:
        AssertionError: rows of a table the shape does not expect, or a row without its key.
    """
    found: Rows = {}
    for table, table_rows in rows.items():
        assert table in primary_keys or not table_rows, f"the report has rows of {table}"
        for row in table_rows:
            missing = [column for column in primary_keys[table] if column not in row]
            assert not missing, f"a reported row of {table} lacks its key column(s) {missing}"
            key: Key = tuple(plain(row[column]) for column in primary_keys[table])
            found.setdefault(table, set()).add(key)
    return found


def access(
    shop: Company,
    folder: Path,
    tables: str,
    primary_keys: Mapping[str, tuple[str, ...]],
    oracle: Oracle,
    *people: Person,
    identities: Sequence[tuple[Identity, ...]] | None = None,
) -> list[Report]:
    """Ask for each person's data in turn; each report holds exactly that person's rows.

    The requests run one after another under one runtime; each must complete, and its report
    hold the rows ``oracle`` finds of that person, by key, and none of any other table.

    Args:
        shop: the shape's database.
        folder: where Pledge keeps its own store.
        tables: the shape's annotated tables (declaration YAML).
        primary_keys: each reportable table's key columns.
        oracle: the shape's hand-written search for a person's rows.
        people: whose data each request asks for (a person may be asked for twice).
        identities: what each request gives, in the order of ``people``; by default each
            person's e-mail address.

    Returns:
        The reports, in the order of ``people``, for what a test checks further.
    """
    given = identities if identities is not None else [_by_email(person) for person in people]
    assert len(given) == len(people), "one set of identities per person asked for"
    expected = [shop.found(oracle, person) for person in people]
    reports = []
    with pledge_for(folder, declaration(shop.url, tables)) as runtime:
        for identity in given:
            request_id, done = ask(runtime, "access", *identity)
            assert done.state == "completed", done.why
            reports.append(Report(runtime.execution.report(request_id, "zip").content))
    assert [reported_keys(report.rows, primary_keys) for report in reports] == expected
    return reports


# --- erasure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """An erasure carried out and checked, with what a test may assert on further.

    Args:
        theirs: the person's rows before, as the oracle found them.
        before: the snapshot before the request.
        after: the snapshot after.
        result: the result recorded when the request completed.
        subject: the person's subject record afterwards (``erased``, ``restricted`` …).
    """

    theirs: Rows
    before: Snapshot
    after: Snapshot
    result: dict[str, Any]
    subject: Any

    @property
    def tables(self) -> dict[str, Any]:
        """What the result says the erasure did per table of datastore ``shop``."""
        return dict(self.result["datastores"][DATASTORE]["tables"])


def erase(
    shop: Company,
    folder: Path,
    tables: str,
    oracle: Oracle,
    person: Person,
    *,
    identities: tuple[Identity, ...] | None = None,
    kept: Mapping[str, Collection[Key]] | None = None,
    regions: Mapping[tuple[str, str], str] | None = None,
    nulled: Collection[tuple[str, str]] = (),
    as_snapshot_sees: Callable[[Rows], Rows] | None = None,
) -> Erasure:
    """Erase the person and check what is left.

    The request completes; afterwards the oracle finds nothing of theirs, the residue search
    nothing of them outside ``kept``, no row that was not theirs has changed, and no link is
    broken.

    Args:
        shop: the shape's database.
        folder: where Pledge keeps its own store.
        tables: the shape's annotated tables (declaration YAML).
        oracle: the shape's hand-written search for a person's rows.
        person: whose erasure it is.
        identities: what the request gives; by default the person's e-mail address.
        kept: rows that may still show the person (held or shared), for the residue search.
        regions: ``(table, column)`` → the country of national numbers there, likewise.
        nulled: links the database itself may set to null (ON DELETE SET NULL).
        as_snapshot_sees: the person's rows as the snapshot lists them, where it lists a row
            under more than one table (a partition and its parent).

    Returns:
        The erasure, for what a test checks further.
    """
    before = shop.snapshot()
    theirs = shop.found(oracle, person)
    with pledge_for(folder, declaration(shop.url, tables)) as runtime:
        request_id, done = ask(runtime, "erasure", *(identities or _by_email(person)))
        assert done.state == "completed", done.why
        result = completion(runtime, request_id)
        subject = runtime.subjects.get(runtime.requests.get(request_id).subject_id)
    after = shop.snapshot()
    assert shop.found(oracle, person) == {}
    assert shop.residue(person, kept, regions) == []
    may_change = as_snapshot_sees(theirs) if as_snapshot_sees else theirs
    assert changes_to_others(before, after, may_change, nulled) == []
    assert shop.broken_links() == []
    return Erasure(theirs, before, after, result, subject)


def completion(runtime: Any, request_id: str) -> dict[str, Any]:
    """The result recorded when the request completed (its ``request.completed`` audit event)."""
    from pledge.enforcement import audit
    from pledge.enforcement.audit import AuditFilter

    subject_id = runtime.requests.get(request_id).subject_id
    with runtime.database.read() as connection:
        events = audit.read(
            connection,
            AuditFilter(subject_id=subject_id, action="request.completed", limit=1000),
        )
    (event,) = [item for item in events if item.details.get("request_id") == request_id]
    return {name: value for name, value in event.details.items() if name != "request_id"}


# --- refusals ------------------------------------------------------------------------------


def assert_refused(
    shop: Company,
    folder: Path,
    tables: str,
    *asked: tuple[str, Person],
    naming: tuple[str, ...],
) -> None:
    """Each request ``(kind, person)``, by the person's e-mail, fails for good; nothing changes.

    Args:
        shop: the shape's database.
        folder: where Pledge keeps its own store.
        tables: the shape's annotated tables (declaration YAML).
        asked: the requests, run one after another under one runtime.
        naming: tables or columns, one of which each failure's reason must name; it must name
            none of the person's values (e-mail address, name).
    """
    before = shop.snapshot()
    with pledge_for(folder, declaration(shop.url, tables)) as runtime:
        ended = [ask(runtime, kind, *_by_email(person))[1] for kind, person in asked]
    for (_, person), done in zip(asked, ended, strict=True):
        assert done.state == "failed", done.why
        assert done.request.retryable is False, done.why
        reason = str(done.request.failure)
        assert any(name in reason for name in naming), f"{reason!r} names none of {naming}"
        values = (person.email, person.name)
        assert not [value for value in values if value.lower() in reason.lower()], reason
    assert shop.snapshot() == before


# --- check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An error ``pledge datastores check`` finds, reduced to what the corpus asserts on."""

    code: str
    table: str | None
    message: str

    @property
    def has_d_code(self) -> bool:
        """Whether the finding carries a datastore code (D and three digits)."""
        return re.fullmatch(r"D\d{3}", self.code) is not None


def errors(shop: Company, tables: str) -> list[Problem]:
    """The errors ``pledge datastores check`` finds in the declaration of ``tables``."""
    from pledge import loads
    from pledge.datastores import check

    found = []
    for report in check(loads(declaration(shop.url, tables))):
        for finding in report.findings:
            if str(finding.severity) != "error":
                continue
            path = tuple(finding.path)
            table = str(path[3]) if path[:3] == ("datastores", DATASTORE, "tables") else None
            found.append(Problem(finding.code, table, finding.message))
    return found


def revised(text: str, *edits: tuple[str, str]) -> str:
    """``text`` with each ``(old, new)`` edit applied; each ``old`` must occur exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times, not once"
        text = text.replace(old, new)
    return text

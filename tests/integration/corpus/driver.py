"""How the corpus drives Pledge: a declaration around a shape's tables, requests, reports.

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.corpus.harness import Key, Rows, plain

DATASTORE = "shop"

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


def submitted(runtime: Any, kind: str, *identities: tuple[str, str]) -> str:
    """A request by the person with these ``(kind, value)`` identities, verified by staff."""
    from pledge.subjects.model import Identity

    (first_kind, first_value), *more = identities
    request = runtime.requests.submit(
        kind,
        Identity.parse(first_kind, first_value),
        on_behalf_of_staff="Sam",
        skip_verification_reason="the corpus knows who they are",
    )
    for identity_kind, value in more:
        runtime.subjects.add_identity(
            request.subject_id, Identity.parse(identity_kind, value), actor="test"
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


def ask(runtime: Any, kind: str, *identities: tuple[str, str]) -> tuple[str, Carried]:
    """Submit, approve and run a request of ``kind``: its id and how it ended."""
    request_id = submitted(runtime, kind, *identities)
    return request_id, carry_out(runtime, request_id)


def archive(runtime: Any, request_id: str) -> zipfile.ZipFile:
    """The access report's zip archive."""
    return zipfile.ZipFile(io.BytesIO(runtime.execution.report(request_id, "zip").content))


def reported_rows(runtime: Any, request_id: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of datastore ``shop`` in the access report's ``data.json``, by table."""
    data = json.loads(archive(runtime, request_id).read("data.json"))
    (datastore,) = [item for item in data["datastores"] if item["name"] == DATASTORE]
    return {table["name"]: table["rows"] for table in datastore["tables"]}


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


def archive_text(runtime: Any, request_id: str) -> str:
    """Every file of the access report's archive as one text, to search for what must not be."""
    files = archive(runtime, request_id)
    return "\n".join(files.read(name).decode("utf-8", "replace") for name in files.namelist())


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


def erased_tables(result: Mapping[str, Any]) -> dict[str, Any]:
    """What an erasure's result says it did per table of datastore ``shop``."""
    return dict(result["datastores"][DATASTORE]["tables"])


def subject_of(runtime: Any, request_id: str) -> Any:
    """The subject record of the request's person."""
    return runtime.subjects.get(runtime.requests.get(request_id).subject_id)


@dataclass(frozen=True)
class Problem:
    """A finding of ``pledge datastores check``, reduced to what the corpus asserts on."""

    code: str
    severity: str
    table: str | None
    message: str


def problems(source: str) -> list[Problem]:
    """What ``pledge datastores check`` finds in the declaration ``source``."""
    from pledge import loads
    from pledge.datastores import check

    found = []
    for report in check(loads(source)):
        for finding in report.findings:
            path = tuple(finding.path)
            table = str(path[3]) if path[:3] == ("datastores", DATASTORE, "tables") else None
            found.append(Problem(finding.code, str(finding.severity), table, finding.message))
    return found


def errors(source: str) -> list[Problem]:
    """The errors ``pledge datastores check`` finds in ``source``."""
    return [problem for problem in problems(source) if problem.severity == "error"]


def d_code(problem: Problem) -> bool:
    """Whether the finding carries a datastore code (D and three digits)."""
    return re.fullmatch(r"D\d{3}", problem.code) is not None


def revised(text: str, *edits: tuple[str, str]) -> str:
    """``text`` with each ``(old, new)`` edit applied; each ``old`` must occur exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times, not once"
        text = text.replace(old, new)
    return text


def assert_refused(done: Carried, values: tuple[str, ...], *names: str) -> None:
    """The request failed for good, with a reason that names one of ``names`` and no value.

    Args:
        done: the request as it ended.
        values: the person's values (e-mail, name …) that the reason must not carry.
        names: tables or columns, one of which the reason must name.
    """
    assert done.state == "failed", done.why
    assert done.request.retryable is False, done.why
    reason = str(done.request.failure)
    assert any(name in reason for name in names), f"{reason!r} names none of {names}"
    assert not [value for value in values if value.lower() in reason.lower()], reason

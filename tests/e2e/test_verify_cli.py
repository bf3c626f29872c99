"""``pledge verify`` and ``pledge checkpoint`` end to end, on a SQLite store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from pledge import loads
from pledge.cli import app
from pledge.consent.service import ConsentLedger
from pledge.store.database import Database
from pledge.store.tables import consent_events
from pledge.subjects.crypto import Keyring
from pledge.subjects.service import Subjects


@pytest.fixture
def store_url(tmp_path: Path, clean_yaml: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store with one subject and two decisions, named by PLEDGE_DATABASE_URL."""
    url = f"sqlite:///{tmp_path}/pledge.db"
    database = Database(url)
    database.upgrade()
    subjects = Subjects(database, Keyring(os.urandom(32)))
    ledger = ConsentLedger(database, loads(clean_yaml), subjects)
    ann = subjects.create([], actor="test")
    ledger.grant(ann, "newsletter", channel="form", actor="signup")
    ledger.withdraw(ann, "newsletter", channel="form", actor="settings")
    database.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLEDGE_DATABASE_URL", url)
    monkeypatch.delenv("PLEDGE_SECRET_KEY", raising=False)
    return url


def tamper(url: str) -> str:
    """Edit the first consent event behind Pledge's back; returns its subject id."""
    database = Database(url)
    with database.transaction() as connection:
        subject_id: str = connection.execute(
            update(consent_events)
            .where(consent_events.c.seq == 1)
            .values(actor="mallory")
            .returning(consent_events.c.subject_id)
        ).scalar_one()
    database.dispose()
    return subject_id


def test_verify_says_ok_and_exits_0_on_an_intact_store(store_url: str) -> None:
    """Counts of what was checked go to standard output; no secret key is needed."""
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 2 consent events of 1 subject, 0 checkpoints")


def test_verify_names_the_first_broken_record_and_exits_1(store_url: str) -> None:
    """An edited event is reported by table, subject and seq."""
    subject_id = tamper(store_url)
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"first broken record: consent_events: subject {subject_id} seq 1:")
    assert "hash does not match" in first
    assert "1 problem found" in result.stderr


def test_verify_reports_json_for_machines(store_url: str) -> None:
    """--format json gives ok, counts, the first problem and all problems."""
    subject_id = tamper(store_url)
    result = CliRunner().invoke(app, ["verify", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["problem_count"] == 1
    assert report["first"]["table"] == "consent_events"
    assert report["first"]["record"] == f"subject {subject_id} seq 1"
    assert report["counts"]["consent_events"] == 2


def test_checkpoint_seals_the_heads_and_verify_counts_it(store_url: str) -> None:
    """pledge checkpoint prints the new checkpoint; verify then checks it."""
    sealed = CliRunner().invoke(app, ["checkpoint", "--format", "json"])
    assert sealed.exit_code == 0, sealed.output
    checkpoint = json.loads(sealed.stdout)
    assert checkpoint["seq"] == 1 and checkpoint["subjects"] == 1
    text = CliRunner().invoke(app, ["checkpoint"])
    assert text.stdout.startswith("checkpoint 2 sealed: 1 subject, audit seq")
    verified = CliRunner().invoke(app, ["verify"])
    assert verified.exit_code == 0 and "2 checkpoints" in verified.stdout


def test_verify_without_a_database_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that is not there is not created: status 2 and the reason."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLEDGE_DATABASE_URL", f"sqlite:///{tmp_path}/missing.db")
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 2
    assert "no Pledge database" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_verify_on_a_database_without_the_schema_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty database file asks for the migrations first."""
    (tmp_path / "empty.db").touch()
    monkeypatch.setenv("PLEDGE_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(app, ["checkpoint"])
    assert result.exit_code == 2
    assert "pledge db upgrade" in result.stderr

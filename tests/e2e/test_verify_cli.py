"""``pledge verify`` and ``pledge checkpoint`` end to end: on a SQLite store, and on both
backends for malformed rows and checkpoints exported to a file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text, update
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


# --- on both backends: malformed rows, exported checkpoints -------------------------------------

SECRET = base64.b64encode(hashlib.sha256(b"this installation").digest()).decode()
OTHER_SECRET = base64.b64encode(hashlib.sha256(b"another installation").digest()).decode()


@pytest.fixture
def backend_url(
    store: Database, clean_yaml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A store on SQLite or PostgreSQL with one subject and two decisions, its master key set."""
    subjects = Subjects(store, Keyring(os.urandom(32)))
    ledger = ConsentLedger(store, loads(clean_yaml), subjects)
    ann = subjects.create([], actor="test")
    ledger.grant(ann, "newsletter", channel="form", actor="signup")
    ledger.withdraw(ann, "newsletter", channel="form", actor="settings")
    ledger.close()
    url = store.url.render_as_string(hide_password=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLEDGE_DATABASE_URL", url)
    monkeypatch.setenv("PLEDGE_SECRET_KEY", SECRET)
    return url


def run_sql(url: str, statement: str) -> None:
    """Change the store behind Pledge's back."""
    database = Database(url)
    with database.transaction() as connection:
        connection.execute(text(statement))
    database.dispose()


def test_verify_names_a_malformed_row_and_exits_1_without_a_traceback(backend_url: str) -> None:
    """SQLite holds a seq of 'abc' and a time of 'garbage'; PostgreSQL refuses those but holds
    details that are not JSON and a time of 'infinity'. Each is named; none crashes verify."""
    if backend_url.startswith("sqlite"):
        run_sql(backend_url, "UPDATE consent_events SET seq = 'abc' WHERE seq = 2")
        run_sql(backend_url, "UPDATE audit_events SET occurred_at = 'garbage' WHERE seq = 2")
        expected = ["malformed: seq 'abc' is not a whole number", "occurred_at 'garbage'"]
    else:
        run_sql(backend_url, "UPDATE audit_events SET details = '{oops' WHERE seq = 2")
        run_sql(backend_url, "UPDATE consent_events SET occurred_at = 'infinity' WHERE seq = 2")
        expected = ["details '{oops' is not JSON", "occurred_at 'infinity' is not a time"]
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for words in expected:
        assert words in result.stdout
    assert "audit_events: seq 2: malformed:" in result.stdout


def test_checkpoint_export_writes_a_signed_file_that_verify_checks_against(
    backend_url: str, tmp_path: Path
) -> None:
    """The round trip: export, then verify against the file, which names its key."""
    exported = tmp_path / "outside" / "checkpoint-1.json"
    sealed = CliRunner().invoke(app, ["checkpoint", "--export", str(exported)])
    assert sealed.exit_code == 0, sealed.output
    assert sealed.stdout.startswith("checkpoint 1 sealed: 1 subject")
    assert f"wrote {exported}" in sealed.stderr
    document = json.loads(exported.read_text())
    assert document["checkpoint"]["seq"] == 1 and len(document["heads"]) == 1
    result = CliRunner().invoke(app, ["verify", "--against", str(exported)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: 2 consent events of 1 subject, 1 checkpoint")
    assert lines[1].startswith(f"ok: nothing sealed in checkpoint 1 of {exported} is missing")
    assert document["public_key"] in lines[1]


def test_verify_against_a_tampered_file_fails_its_signature_and_exits_1(
    backend_url: str, tmp_path: Path
) -> None:
    """One character of a sealed head changed in the file: the signature no longer holds."""
    exported = tmp_path / "checkpoint.json"
    CliRunner().invoke(app, ["checkpoint", "--export", str(exported)])
    document = json.loads(exported.read_text())
    head = document["heads"][0]
    document["heads"][0] = head[:-1] + ("0" if head[-1] != "0" else "1")
    exported.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["verify", "--against", str(exported), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    problems = {(problem["table"], problem["record"]) for problem in report["problems"]}
    assert ("checkpoint file", "signature") in problems
    assert report["against"]["checkpoint"] == 1


def test_verify_against_the_file_catches_every_checkpoint_deleted(
    backend_url: str, tmp_path: Path
) -> None:
    """Checkpoints deleted from the database are named from the file (and, inside the
    database, by their checkpoint.sealed events)."""
    exported = tmp_path / "checkpoint.json"
    CliRunner().invoke(app, ["checkpoint", "--export", str(exported)])
    run_sql(backend_url, "DELETE FROM checkpoint_heads")
    run_sql(backend_url, "DELETE FROM checkpoints")
    result = CliRunner().invoke(app, ["verify", "--against", str(exported)])
    assert result.exit_code == 1, result.output
    assert "checkpoints: checkpoint 1: in the exported file, no longer in the database" in (
        result.stdout
    )
    assert "records checkpoint 1 sealed, which is no longer in checkpoints" in result.stdout


def test_verify_against_a_file_signed_by_another_installation_exits_1(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PLEDGE_SECRET_KEY set, the file's key must be this installation's."""
    exported = tmp_path / "checkpoint.json"
    CliRunner().invoke(app, ["checkpoint", "--export", str(exported)])
    monkeypatch.setenv("PLEDGE_SECRET_KEY", OTHER_SECRET)
    result = CliRunner().invoke(app, ["verify", "--against", str(exported)])
    assert result.exit_code == 1, result.output
    assert "checkpoint file: signature: signed with key" in result.stdout
    assert "not this installation's key" in result.stdout


def test_verify_against_without_the_master_key_says_the_key_was_not_checked(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PLEDGE_SECRET_KEY the signature is checked, the key's owner is not; it says so."""
    exported = tmp_path / "checkpoint.json"
    CliRunner().invoke(app, ["checkpoint", "--export", str(exported)])
    monkeypatch.delenv("PLEDGE_SECRET_KEY")
    result = CliRunner().invoke(app, ["verify", "--against", str(exported)])
    assert result.exit_code == 0, result.output
    assert "whether the file's key is this installation's was not checked" in result.stderr
    assert not (tmp_path / ".pledge" / "secret.key").exists()  # verify generates no key


def test_verify_against_a_missing_file_is_a_usage_error(store_url: str, tmp_path: Path) -> None:
    """A file that cannot be read: status 2 and the reason."""
    result = CliRunner().invoke(app, ["verify", "--against", str(tmp_path / "nowhere.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_checkpoint_export_needs_the_master_key_in_production(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signing key comes from PLEDGE_SECRET_KEY: none, no export, nothing sealed."""
    monkeypatch.setenv("PLEDGE_ENV", "production")
    result = CliRunner().invoke(app, ["checkpoint", "--export", str(tmp_path / "c.json")])
    assert result.exit_code == 2
    assert "no secret key" in result.stderr
    verified = CliRunner().invoke(app, ["verify"])
    assert "0 checkpoints" in verified.stdout


def test_checkpoint_export_to_a_file_that_cannot_be_written_seals_nothing(
    backend_url: str, tmp_path: Path
) -> None:
    """The file is opened before the checkpoint is sealed: status 2, and no checkpoint."""
    (tmp_path / "taken").write_text("a file, not a folder")
    result = CliRunner().invoke(app, ["checkpoint", "--export", str(tmp_path / "taken" / "c.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    assert "0 checkpoints" in CliRunner().invoke(app, ["verify"]).stdout

"""Checkpoints kept outside the database: exported, signed, and compared with the store.

Everything ``verify`` reads is in Pledge's database, and so is every checkpoint: someone who
can write there can delete the newest records together with the rows that witness them (the
chain heads, the audit head, the checkpoints). A checkpoint exported to a file kept elsewhere
closes that window up to the moment it was exported. The file holds the checkpoint, every
chain head it sealed (``subject:seq:hash``) and the number of consent events they end, and is
signed with Ed25519 under a key derived (HKDF) from Pledge's master key, so the same
installation always signs with the same key; the public key is in the file.

:func:`read_export` checks the file itself (its form, its signature, optionally that the key
is this installation's, its hashes and counts); :func:`check_against` checks that nothing it
sealed was removed from the store: the checkpoint, every sealed chain head (at its seq, with
its hash: ``verify`` proves the chain from there to today's head intact), the sealed audit
head and the ``checkpoint.sealed`` event after it.

A signature proves the file unaltered since a holder of the key signed it. Without Pledge's
master key at hand, a file re-signed under another key verifies too: the key itself must
then be compared with a copy kept apart (``pledge verify`` prints it).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, select, tuple_

from pledge.consent.audit_checks import CHECKPOINT_SEALED, sealing
from pledge.consent.chain import checkpoint_content, consent_root
from pledge.consent.checkpoints import Checkpoint, Head
from pledge.consent.findings import Findings, Problem
from pledge.consent.rows import Malformed, json_object, raw_columns, sha256_hex, shown, whole_number
from pledge.proof import record_hash
from pledge.store.tables import audit_events, checkpoints, consent_events

FORMAT = "pledge-checkpoint/1"
"""The ``format`` of an exported checkpoint."""

FILE = "checkpoint file"
"""The table name findings about the file itself carry."""

_SIGNING = b"pledge/v1/checkpoint-signing"
_BATCH = 500  # sealed heads looked up per query


def signing_key(master_key: bytes) -> Ed25519PrivateKey:
    """This installation's checkpoint signing key, derived from the master key.

    Args:
        master_key: Pledge's master key (32 bytes).

    Returns:
        The Ed25519 private key; the same master key always gives the same one.
    """
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SIGNING).derive(master_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(master_key: bytes) -> str:
    """The public half of :func:`signing_key`, as the file writes it (64 hex digits)."""
    raw = (
        signing_key(master_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return raw.hex()


def export_document(checkpoint: Checkpoint, heads: list[Head], master_key: bytes) -> str:
    """The signed file of a checkpoint and the heads it sealed.

    Args:
        checkpoint: the checkpoint.
        heads: the heads it sealed.
        master_key: Pledge's master key, which the signing key is derived from.

    Returns:
        The file's text: JSON, one sealed head a line.
    """
    document: dict[str, Any] = {
        "format": FORMAT,
        "checkpoint": checkpoint.to_dict(),
        "consent_events": sum(seq for _, seq, _ in heads),
        "heads": [f"{subject_id}:{seq}:{head_hash}" for subject_id, seq, head_hash in heads],
        "public_key": public_key(master_key),
    }
    document["signature"] = signing_key(master_key).sign(_signed(document)).hex()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _signed(document: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the canonical JSON of everything but the signature."""
    content = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class ExportedCheckpoint:
    """An exported checkpoint as read back, with what is wrong with the file itself.

    ``checkpoint`` is None when the file cannot be read as one; ``problems`` then say why.
    """

    checkpoint: dict[str, Any] | None
    heads: list[Head] = field(default_factory=list)
    public_key: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def seq(self) -> Any:
        """The checkpoint's seq, or None."""
        return self.checkpoint["seq"] if self.checkpoint else None


def read_export(text: str, installation_key: str | None = None) -> ExportedCheckpoint:
    """Read an exported checkpoint and check the file itself.

    Args:
        text: the file's text.
        installation_key: this installation's public key (:func:`public_key`), when the
            master key is at hand: a file signed under any other key is a finding.

    Returns:
        The checkpoint, its heads and the file's problems: not a Pledge checkpoint, a
        signature that does not verify, another key, a hash or a count that does not match.
    """
    try:
        document = json_object(text)
    except Malformed as error:
        return ExportedCheckpoint(None, problems=[Problem(FILE, "file", f"the text {error}")])
    if document.get("format") != FORMAT:
        found = shown(document.get("format"))
        return ExportedCheckpoint(
            None, problems=[Problem(FILE, "file", f"not a {FORMAT} file (format {found})")]
        )
    try:
        exported = _parse(document)
    except Malformed as error:
        return ExportedCheckpoint(None, problems=[Problem(FILE, "file", f"malformed: {error}")])
    checkpoint, heads = exported.checkpoint, exported.heads
    assert checkpoint is not None
    where = f"checkpoint {checkpoint['seq']}"
    problems = exported.problems
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(exported.public_key))
        key.verify(bytes.fromhex(document["signature"]), _signed(document))
    except (InvalidSignature, ValueError):
        problems.append(
            Problem(
                FILE,
                "signature",
                f"does not verify with the file's public key {exported.public_key}: the file"
                " was altered after it was signed",
            )
        )
    if installation_key is not None and exported.public_key != installation_key:
        problems.append(
            Problem(
                FILE,
                "signature",
                f"signed with key {exported.public_key}, not this installation's key"
                f" {installation_key}",
            )
        )
    if record_hash(checkpoint["prev_hash"], checkpoint_content(checkpoint)) != checkpoint["hash"]:
        problems.append(Problem(FILE, where, "its hash does not match its content"))
    if len(heads) != checkpoint["subjects"] or consent_root(heads) != checkpoint["consent_root"]:
        problems.append(
            Problem(
                FILE,
                where,
                f"its {len(heads)} heads do not give its consent_root"
                f" ({checkpoint['subjects']} subjects)",
            )
        )
    if sum(seq for _, seq, _ in heads) != document["consent_events"]:
        problems.append(
            Problem(FILE, where, f"its heads do not end {document['consent_events']} events")
        )
    return exported


def _parse(document: dict[str, Any]) -> ExportedCheckpoint:
    """The fields of a file in the right format, each of the right type.

    Raises:
        Malformed: a field missing or of the wrong kind.
    """
    stored = document.get("checkpoint")
    if not isinstance(stored, dict):
        raise Malformed("no checkpoint")
    checkpoint: dict[str, Any] = {}
    for name in ("seq", "subjects", "audit_seq"):
        checkpoint[name] = _field(stored, name, whole_number)
    for name in ("consent_root", "audit_hash", "prev_hash", "hash"):
        checkpoint[name] = _field(stored, name, sha256_hex)
    checkpoint["created_at"] = _field(stored, "created_at", _moment)
    _field(document, "consent_events", whole_number)
    heads = document.get("heads")
    if not isinstance(heads, list):
        raise Malformed("no heads")
    parsed: list[Head] = []
    for line in heads:
        parts = line.rsplit(":", 2) if isinstance(line, str) else []
        if len(parts) != 3 or not parts[1].isdigit():
            raise Malformed(f"head {shown(line)} is not subject:seq:hash")
        parsed.append((parts[0], int(parts[1]), _field({"hash": parts[2]}, "hash", sha256_hex)))
    key = document.get("public_key")
    signature = document.get("signature")
    if not (isinstance(key, str) and len(key) == 64 and _hex(key)):
        raise Malformed("public_key is not 64 hex digits")
    if not (isinstance(signature, str) and len(signature) == 128 and _hex(signature)):
        raise Malformed("signature is not 128 hex digits")
    return ExportedCheckpoint(checkpoint, parsed, key)


def _field(mapping: dict[str, Any], name: str, parse: Any) -> Any:
    try:
        return parse(mapping.get(name))
    except Malformed as error:
        raise Malformed(f"{name} {shown(mapping.get(name))} {error}") from None


def _moment(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Malformed("is not a time") from None
    if moment.tzinfo is None:
        raise Malformed("is not a time in UTC")
    return moment


def _hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


# --- comparing with the store ----------------------------------------------------------------


def check_against(connection: Connection, exported: ExportedCheckpoint, findings: Findings) -> None:
    """Check that nothing an exported checkpoint sealed was removed from the store.

    Args:
        connection: a snapshot.
        exported: the file as read (:func:`read_export`); its own problems are added first.
        findings: where problems and the count of sealed heads checked go.
    """
    for problem in exported.problems:
        findings.add(problem.table, problem.record, problem.problem)
    checkpoint = exported.checkpoint
    if checkpoint is None:
        return
    sealed_in = f"sealed in the exported checkpoint {checkpoint['seq']}"
    stored = connection.execute(
        select(*raw_columns(connection, checkpoints, ("hash",))).where(
            checkpoints.c.seq == checkpoint["seq"]
        )
    ).one_or_none()
    if stored is None:
        findings.add(
            "checkpoints",
            f"checkpoint {checkpoint['seq']}",
            "in the exported file, no longer in the database (deleted)",
        )
    elif stored[0] != checkpoint["hash"]:
        findings.add(
            "checkpoints",
            f"checkpoint {checkpoint['seq']}",
            "differs from the exported one (rewritten)",
        )
    _check_heads(connection, exported.heads, findings, sealed_in)
    _check_audit_head(connection, checkpoint, findings, sealed_in)
    findings.counts["exported_heads"] = len(exported.heads)


def check_counts(exported: ExportedCheckpoint, findings: Findings) -> None:
    """The store must still count at least what the exported checkpoint sealed.

    Args:
        exported: the file as read.
        findings: the merged findings of the whole store (their ``counts``).
    """
    checkpoint = exported.checkpoint
    if checkpoint is None:
        return
    sealed_in = f"the exported checkpoint {checkpoint['seq']}"
    counts = findings.counts
    events = sum(seq for _, seq, _ in exported.heads)
    wanted = (  # (count, table, record, what, how many were sealed)
        ("consent_events", "consent_events", "count", "consent events", events),
        ("subjects", "consent_events", "subjects", "subjects with a chain", len(exported.heads)),
        # the audit head and the checkpoint's own event after it
        ("audit_events", "audit_events", "count", "audit events", checkpoint["audit_seq"] + 1),
    )
    for name, table, record, what, sealed in wanted:
        if counts.get(name, 0) < sealed:
            findings.add(
                table,
                record,
                f"{what}: {counts.get(name, 0)}, fewer than the {sealed} {sealed_in} sealed",
            )


def _check_heads(
    connection: Connection, heads: list[Head], findings: Findings, sealed_in: str
) -> None:
    columns = raw_columns(connection, consent_events, ("subject_id", "seq", "hash"))
    for start in range(0, len(heads), _BATCH):
        batch = heads[start : start + _BATCH]
        keys = [(subject_id, seq) for subject_id, seq, _ in batch]
        found = {
            (subject_id, seq): stored
            for subject_id, seq, stored in connection.execute(
                select(*columns).where(
                    tuple_(consent_events.c.subject_id, consent_events.c.seq).in_(keys)
                )
            )
        }
        for subject_id, seq, head_hash in batch:
            stored = found.get((subject_id, seq))
            where = f"subject {subject_id} seq {seq}"
            if stored is None:
                findings.add(
                    "consent_events", where, f"{sealed_in}; no longer in the ledger (deleted)"
                )
            elif stored != head_hash:
                findings.add(
                    "consent_events", where, f"differs from the head {sealed_in} (rewritten)"
                )


def _check_audit_head(
    connection: Connection, checkpoint: dict[str, Any], findings: Findings, sealed_in: str
) -> None:
    wanted = [checkpoint["audit_seq"], checkpoint["audit_seq"] + 1]
    columns = raw_columns(connection, audit_events, ("seq", "action", "details", "hash"))
    found = {
        row[0]: row
        for row in connection.execute(select(*columns).where(audit_events.c.seq.in_(wanted)))
    }
    seq = checkpoint["audit_seq"]
    if seq > 0:
        head = found.get(seq)
        if head is None:
            findings.add(
                "audit_events",
                f"seq {seq}",
                f"the audit head {sealed_in}; no longer in the trail (truncated)",
            )
        elif head[3] != checkpoint["audit_hash"]:
            findings.add("audit_events", f"seq {seq}", f"differs from the audit head {sealed_in}")
    event = found.get(seq + 1)
    try:
        named = sealing(json_object(event[2])) if event and event[1] == CHECKPOINT_SEALED else None
    except Malformed:
        named = None
    if named != (checkpoint["seq"], checkpoint["hash"]):
        findings.add(
            "audit_events",
            f"seq {seq + 1}",
            f"the {CHECKPOINT_SEALED} event of the exported checkpoint {checkpoint['seq']} is"
            " no longer in the trail (truncated or rewritten)",
        )

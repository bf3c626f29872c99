"""What the consent chain's hashes cover, shared by the ledger (writing) and proof (checking)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping

HASHED_FIELDS = (
    "subject_id",
    "seq",
    "id",
    "purpose",
    "decision",
    "channel",
    "actor",
    "declaration_version",
    "declaration_digest",
    "notice_hash",
    "guardian_id",
    "evidence_encrypted",
    "occurred_at",
)
"""The columns of a consent event its hash covers (all but the hashes themselves)."""

CHECKPOINT_FIELDS = ("seq", "created_at", "subjects", "consent_root", "audit_seq", "audit_hash")
"""The columns of a checkpoint its hash covers."""


def event_content(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """The part of a consent event its hash covers.

    Args:
        row: the event's columns (at least :data:`HASHED_FIELDS`).

    Returns:
        The content to hash with :func:`pledge.proof.record_hash`.
    """
    return {name: row[name] for name in HASHED_FIELDS}


def checkpoint_content(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """The part of a checkpoint its hash covers.

    Args:
        row: the checkpoint's columns.

    Returns:
        The content to hash.
    """
    return {name: row[name] for name in CHECKPOINT_FIELDS}


def head_line(subject_id: str, seq: int, head_hash: str) -> bytes:
    """One chain head as it enters a checkpoint's consent root: ``subject:seq:hash``.

    Args:
        subject_id: the subject.
        seq: the head's place in the chain.
        head_hash: the head event's hash.

    Returns:
        The line, newline-terminated, as bytes.
    """
    return f"{subject_id}:{seq}:{head_hash}\n".encode()


def consent_root(heads: Iterable[tuple[str, int, str]]) -> str:
    """SHA-256 over the :func:`head_line` of every chain head, sorted by subject.

    Args:
        heads: ``(subject_id, seq, hash)`` of every chain head, in any order.

    Returns:
        64 hex digits (the hash of nothing for no heads).
    """
    digest = hashlib.sha256()
    for subject_id, seq, head_hash in sorted(heads):
        digest.update(head_line(subject_id, seq, head_hash))
    return digest.hexdigest()


def by_subject(connection: Connection, column: Any) -> Any:
    """``column`` compared and ordered as Python orders strings (by code point).

    PostgreSQL's default collation may order differently; verification merges several
    sorted streams in Python and needs them in one order.

    Args:
        connection: the connection the query runs on.
        column: a subject id column.

    Returns:
        The column, with ``COLLATE "C"`` on PostgreSQL.
    """
    return column.collate("C") if connection.dialect.name == "postgresql" else column

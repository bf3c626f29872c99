"""Hash chains: the tamper evidence behind the consent ledger and the audit trail.

Each record's hash covers its own canonical content and the previous record's hash, so that
editing, reordering or removing a record breaks every hash after it. Canonical content is JSON
with sorted keys and no spaces; bytes are written as hex, times as ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64
"""The "previous hash" of the first record of a chain."""

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_AS_IS = frozenset({str, int, float, bool, type(None)})  # JSON already; the common case


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite hands back naive datetimes; Pledge stores UTC only
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


def record_hash(previous: str, content: Mapping[str, Any]) -> str:
    """The hash of a record: SHA-256 over the previous hash and the canonical content."""
    canonical = _CANONICAL.encode(
        {key: value if type(value) in _AS_IS else _plain(value) for key, value in content.items()}
    )
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()

"""The rows a job found, as a step keeps them: JSON, with the values JSON lacks tagged
(decimals, dates, times, bytes), encrypted by the caller under the subject's key."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from typing import Any

from pledge.datastores.collect import Found


def encode(found: Found) -> bytes:
    """The rows found, as bytes to encrypt."""
    body = {"rows": found.rows, "shared": found.shared, "tallies": found.tallies}
    return json.dumps(body, default=_tagged, separators=(",", ":")).encode()


def decode(data: bytes) -> Found:
    """The rows found, from :func:`encode`'s bytes."""
    body = json.loads(data, object_hook=_untagged)
    if set(body) != {"rows", "shared", "tallies"}:
        return Found(body)  # a job found before shared rows were told apart
    return Found(body["rows"], body["shared"], body["tallies"])


def _tagged(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot store a {type(value).__name__}")


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$decimal":
            return decimal.Decimal(text)
        if tag == "$datetime":
            return dt.datetime.fromisoformat(text)
        if tag == "$date":
            return dt.date.fromisoformat(text)
        if tag == "$bytes":
            return base64.b64decode(text)
    return value


__all__ = ["decode", "encode"]

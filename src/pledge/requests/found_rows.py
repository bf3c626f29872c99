"""The rows a job found, as a step keeps them: JSON, with the values JSON lacks tagged
(decimals, dates, times, lengths of time, bytes, UUIDs, IP addresses, sets), encrypted by the
caller under the subject's key. A value of any other type (a driver's range, a geometry) is
kept as its text: shown in the report as such, never compared again as a key."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import json
import uuid
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
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, ipaddress.IPv4Interface | ipaddress.IPv6Interface):  # before addresses:
        return {"$ip_interface": str(value)}  # an interface is an address too
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return {"$ip": str(value)}
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return {"$ip_network": str(value)}
    if isinstance(value, set | frozenset):
        return {"$set": sorted(value, key=str)}
    return {"$text": str(value)}


_UNTAGGED: dict[str, Any] = {
    "$decimal": decimal.Decimal,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$timedelta": lambda parts: dt.timedelta(*parts),
    "$bytes": base64.b64decode,
    "$uuid": uuid.UUID,
    "$ip": ipaddress.ip_address,
    "$ip_interface": ipaddress.ip_interface,
    "$ip_network": ipaddress.ip_network,
    "$set": set,
    "$text": str,
}


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((tag, content),) = value.items()
        restore = _UNTAGGED.get(tag)
        if restore is not None:
            return restore(content)
    return value


__all__ = ["decode", "encode"]

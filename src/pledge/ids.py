"""Sortable identifiers: ULIDs (48-bit millisecond time + 80 random bits, Crockford base32).

Sorting ids sorts records by creation time, which keeps B-tree inserts at the end of the index
and makes ``ORDER BY id`` the natural history order. Within one millisecond a process keeps
them increasing by incrementing the random part.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_time = 0
_last_random = 0


def new_id() -> str:
    """A new ULID, greater than every id this process made before."""
    global _last_time, _last_random
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_time:
            now = _last_time
            _last_random = (_last_random + 1) & ((1 << 80) - 1)
        else:
            _last_random = int.from_bytes(os.urandom(10), "big")
        _last_time = now
        value = (now << 80) | _last_random
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def is_id(text: str) -> bool:
    """Whether ``text`` looks like an id this module makes."""
    return len(text) == 26 and all(char in _ALPHABET for char in text) and text[0] in "01234567"

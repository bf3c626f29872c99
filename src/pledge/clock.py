"""Time, always UTC and always timezone-aware, from one place that tests can replace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time in UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC)

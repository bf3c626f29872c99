"""The figures of the admin console's dashboards, read from the store in one query each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from pledge.store.database import Database
from pledge.store.tables import consent_events, consent_state


@dataclass(frozen=True, slots=True)
class WeeklyConsent:
    """The consent decisions of one purpose in one week.

    Args:
        purpose: the purpose.
        week: the Monday the week starts on.
        granted: decisions granting consent.
        withdrawn: decisions withdrawing it.
        refused: decisions refusing it.
    """

    purpose: str
    week: dt.date
    granted: int
    withdrawn: int
    refused: int


def weekly_consent(
    database: Database, purposes: Sequence[str], *, weeks: int, now: dt.datetime
) -> dict[str, list[WeeklyConsent]]:
    """Per purpose, the decisions of each of the last ``weeks`` weeks (oldest first, with
    empty weeks as zeros)."""
    monday = (now - dt.timedelta(days=now.weekday())).date()
    first = monday - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    counts: dict[tuple[str, dt.date, str], int] = {}
    with database.read() as connection:
        rows = connection.execute(
            select(
                consent_events.c.purpose, consent_events.c.decision, consent_events.c.occurred_at
            )
            .where(consent_events.c.occurred_at >= since)
            .where(consent_events.c.purpose.in_(list(purposes) or [""]))
        )
        for purpose, decision, occurred_at in rows:
            moment = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=dt.UTC)
            day = moment.astimezone(dt.UTC).date()
            week = day - dt.timedelta(days=day.weekday())
            key = (purpose, week, decision)
            counts[key] = counts.get(key, 0) + 1
    figures: dict[str, list[WeeklyConsent]] = {}
    for purpose in purposes:
        figures[purpose] = [
            WeeklyConsent(
                purpose,
                week,
                counts.get((purpose, week, "granted"), 0),
                counts.get((purpose, week, "withdrawn"), 0),
                counts.get((purpose, week, "refused"), 0),
            )
            for week in (first + dt.timedelta(weeks=index) for index in range(weeks))
        ]
    return figures


def current_consent(database: Database, purposes: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per purpose, how many people's current decision is granted, withdrawn or refused."""
    found: dict[str, dict[str, int]] = {purpose: {} for purpose in purposes}
    with database.read() as connection:
        rows = connection.execute(
            select(consent_state.c.purpose, consent_state.c.decision, func.count())
            .where(consent_state.c.purpose.in_(list(purposes) or [""]))
            .group_by(consent_state.c.purpose, consent_state.c.decision)
        )
        for purpose, decision, count in rows:
            found[purpose][decision] = count
    return found


__all__ = ["WeeklyConsent", "current_consent", "weekly_consent"]

"""The expected delivery calendar of a feed (declared in schemas/feeds/<feed>.yaml `delivery`). Pure.

Every year each due date (MM-DD) closes a delivery period that opened at the previous due date. Once a due
date plus its grace days has passed, a feed (or district) is overdue for that period unless a batch was loaded
after the period opened — a late delivery counts, it just no longer raises an alert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edulake.standard import Delivery

ON_TIME, OVERDUE = "on_time", "overdue"
LABELS = {ON_TIME: "按期", OVERDUE: "逾期"}


@dataclass(frozen=True)
class Freshness:
    status: str  # on_time | overdue
    due_date: dt.date  # the last due date whose grace has passed
    period_start: dt.date  # the due date before it: a delivery after this one counts for due_date
    next_due: dt.date
    days_overdue: int  # since due_date + grace (0 when on time)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def due_dates(delivery: Delivery, years: range) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(f"{y}-{md}") for y in years for md in delivery.due)


def freshness(delivery: Delivery, last_loaded: dt.datetime | dt.date | None, as_of: dt.date) -> Freshness:
    """On time or overdue on `as_of`, given when the last batch was loaded (None: never)."""
    dates = due_dates(delivery, range(as_of.year - 2, as_of.year + 2))
    grace = dt.timedelta(days=delivery.grace_days)
    closed = [d for d in dates if d + grace <= as_of]
    due = closed[-1]
    period_start = dates[dates.index(due) - 1]
    next_due = next(d for d in dates if d > due)
    last = last_loaded.date() if isinstance(last_loaded, dt.datetime) else last_loaded
    if last is not None and last > period_start:
        return Freshness(ON_TIME, due, period_start, next_due, 0)
    return Freshness(OVERDUE, due, period_start, next_due, (as_of - (due + grace)).days)

"""The Chinese working-day calendar (statutory holidays and make-up working days 调休),
used by the registry's 7-working-day collection rule and publication's 20-working-day
deadline.

``chinese_calendar`` knows each year's State Council holiday notice only for the years it
ships; outside them it raises NotImplementedError and we fall back to Monday to Friday.
China keeps one UTC+8 offset all year (no DST), so "today" is a fixed offset, not a zone
database lookup.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import chinese_calendar  # type: ignore[import-untyped]

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def china_today() -> date:
    """Today's date in China, whatever the server's own time zone."""
    # Validators call this once per imported row; a clock read per second is plenty.
    return _today_at(int(time.monotonic()))


@lru_cache(maxsize=1)
def _today_at(_second: int) -> date:
    return datetime.now(CHINA_TZ).date()


@lru_cache(maxsize=65536)
def is_working_day(d: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after ``d`` (before it for negative n); ``d`` itself is never
    counted, so a deadline "within n working days of d" is ``add_working_days(d, n)``
    inclusive. ``add_working_days(d, 0) == d``."""
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    current = d
    while remaining:
        current += step
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(a: date, b: date) -> int:
    """Working days in the half-open span (a, b]: 0 when b == a, negative when b < a.
    For n >= 0, ``working_days_between(d, add_working_days(d, n)) == n``."""
    if b < a:
        return -working_days_between(b, a)
    count = 0
    current = a
    while current < b:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count

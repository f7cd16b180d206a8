from __future__ import annotations

from datetime import date

from shared.workdays import add_working_days, is_working_day, working_days_between


def test_statutory_holidays_and_make_up_days() -> None:
    assert not is_working_day(date(2025, 10, 1))  # National Day
    assert not is_working_day(date(2025, 10, 8))  # last day of the 2025 Golden Week
    assert is_working_day(date(2025, 9, 28))  # Sunday, made up for the holiday (调休)
    assert is_working_day(date(2025, 10, 11))  # Saturday, made up for the holiday
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert is_working_day(date(2025, 10, 9))


def test_counting_across_national_day() -> None:
    # Working days after Sun 28 Sep 2025: Mon 29, Tue 30 Sep, (1-8 Oct holiday), Thu 9, Fri 10,
    # Sat 11 (make-up), Mon 13, Tue 14 -> the 7th is 14 Oct; the 8th is Wed 15 Oct.
    assert working_days_between(date(2025, 9, 28), date(2025, 10, 10)) == 4
    assert add_working_days(date(2025, 9, 28), 7) == date(2025, 10, 14)
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert working_days_between(date(2025, 10, 10), date(2025, 9, 28)) == -4
    assert working_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0


def test_years_the_calendar_does_not_know_fall_back_to_weekdays() -> None:
    # 2040 is beyond the shipped holiday notices: Monday to Friday count.
    assert is_working_day(date(2040, 1, 2))  # a Monday
    assert not is_working_day(date(2040, 1, 7))  # a Saturday
    assert working_days_between(date(2040, 1, 6), date(2040, 1, 13)) == 5

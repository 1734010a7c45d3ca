"""Deadlines in working days across Tết, bridge days and make-up days, with explicit dates."""

from datetime import date

import pytest

from core.extensions import db
from feedback.deadlines import (
    build_calendar,
    package_days,
    working_days_after,
    working_days_between,
)
from feedback.models import DeclaredDay
from feedback.workdays import answer_due, calendar_for, forward_due, to_local_date

D = date
YEARS = range(2024, 2027)


@pytest.fixture
def calendar():
    return build_calendar(YEARS)


def test_the_package_knows_tet_2025(calendar):
    # Tết Ất Tỵ: 27/1 to 31/1/2025 (Monday to Friday) are holidays.
    for day in range(27, 32):
        assert not calendar.is_working_day(D(2025, 1, day))
    assert calendar.is_working_day(D(2025, 1, 24))
    assert calendar.is_working_day(D(2025, 2, 3))


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2025, 1, 23), 1, D(2025, 1, 24)),  # Thursday → Friday
        (D(2025, 1, 24), 1, D(2025, 2, 3)),  # Friday before Tết → the Monday after it
        (D(2025, 1, 22), 5, D(2025, 2, 5)),  # 23, 24, (Tết), 3, 4, 5 February
        (D(2025, 1, 25), 5, D(2025, 2, 7)),  # received on a Saturday: counting starts Monday
        (D(2026, 2, 13), 5, D(2026, 2, 27)),  # Tết Bính Ngọ 16-20/2/2026
        (D(2025, 4, 25), 1, D(2025, 4, 26)),  # Saturday 26/4/2025 was a make-up working day
        (D(2025, 4, 29), 1, D(2025, 5, 5)),  # 30/4, 1/5 holidays; 2/5 the bridge day off
        (D(2025, 12, 30), 2, D(2026, 1, 2)),  # across the new year: 1/1 is a holiday
        (D(2025, 3, 3), 0, D(2025, 3, 3)),
    ],
)
def test_working_days_after(calendar, start, n, due):
    assert working_days_after(start, n, calendar) == due


def test_declared_days_win_over_the_package():
    # Suppose the government declares Friday 24/1/2025 a bridge day off and Saturday 8/2 a
    # make-up working day: both change every deadline that crosses them.
    declared = build_calendar(YEARS, [(D(2025, 1, 24), False), (D(2025, 2, 8), True)])
    assert working_days_after(D(2025, 1, 23), 1, declared) == D(2025, 2, 3)
    assert working_days_after(D(2025, 2, 7), 1, declared) == D(2025, 2, 8)
    # And a declared working day overrides a package holiday (e.g. a correction).
    fixed = build_calendar(YEARS, [(D(2025, 1, 27), True)])
    assert working_days_after(D(2025, 1, 24), 1, fixed) == D(2025, 1, 27)


def test_working_days_between(calendar):
    assert working_days_between(D(2025, 1, 24), D(2025, 2, 3), calendar) == 1
    assert working_days_between(D(2025, 2, 3), D(2025, 1, 24), calendar) == -1
    assert working_days_between(D(2025, 3, 3), D(2025, 3, 3), calendar) == 0


def test_negative_counts_are_refused(calendar):
    with pytest.raises(ValueError, match="zero or more"):
        working_days_after(D(2025, 1, 1), -1, calendar)


def test_local_date_is_vietnam_time():
    from datetime import datetime

    assert to_local_date(datetime(2025, 1, 23, 17, 30)) == D(2025, 1, 24)
    assert to_local_date(datetime(2025, 1, 23, 16, 59)) == D(2025, 1, 23)


def test_package_days_are_cached_per_year():
    assert package_days(2025) is package_days(2025)


def test_the_database_calendar_uses_declared_days(app):
    assert calendar_for(D(2025, 1, 23)).is_working_day(D(2025, 1, 24))
    db.session.add(DeclaredDay(day=D(2025, 1, 24), working=False, note="bridge"))
    db.session.commit()
    assert not calendar_for(D(2025, 1, 23)).is_working_day(D(2025, 1, 24))
    assert forward_due(D(2025, 1, 23)) == D(2025, 2, 7)  # 5 working days: 3, 4, 5, 6, 7 Feb


def test_per_topic_deadlines_from_configuration(app):
    app.config["FEEDBACK_DEADLINES"] = {"default": 10, "attitude": 3}
    assert answer_due("attitude", D(2025, 1, 22)) == D(2025, 2, 3)  # 23, 24, (Tết), 3
    assert answer_due("delay", D(2025, 3, 3)) == D(2025, 3, 17)

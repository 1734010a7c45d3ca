"""The working-day calendar as the database declares it, and today's date where the unit is."""

from datetime import date, datetime

from sqlalchemy import select

from core.extensions import db
from core.models import local_time, utcnow
from feedback.deadlines import (
    Calendar,
    build_calendar,
    working_days_after,
    years_around,
)
from feedback.models import DeclaredDay
from feedback.settings import deadline_days, publish_days, setting


def local_today(now: datetime | None = None) -> date:
    """Today's date in Vietnam (now: a naive UTC timestamp)."""
    return local_time(now or utcnow()).date()


def to_local_date(moment: datetime) -> date:
    """The day in Vietnam of a stored (UTC) time."""
    return local_time(moment).date()


def calendar_for(day: date) -> Calendar:
    """The calendar around a day: the package's holidays and the declared days."""
    years = years_around(day)
    declared = db.session.execute(
        select(DeclaredDay.day, DeclaredDay.working).where(
            DeclaredDay.day >= date(years.start, 1, 1),
            DeclaredDay.day <= date(years.stop - 1, 12, 31),
        )
    ).all()
    return build_calendar(years, [(d, w) for d, w in declared])


def answer_due(topic: str, start: date) -> date:
    """The answer's due date for a case of this topic counted from start."""
    return working_days_after(start, deadline_days(topic), calendar_for(start))


def publish_due(topic: str, answered_on: date) -> date:
    """The publishing due date for a case of this topic answered on that day."""
    return working_days_after(answered_on, publish_days(topic), calendar_for(answered_on))


def forward_due(start: date) -> date:
    """The due date for forwarding a case outside the unit's competence."""
    return working_days_after(start, setting("FEEDBACK_FORWARD_DAYS"), calendar_for(start))


def due_soon_limit(today: date) -> date:
    """The last due date that counts as "due soon" today."""
    return working_days_after(today, setting("FEEDBACK_DUE_SOON_DAYS"), calendar_for(today))

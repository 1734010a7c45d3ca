"""The staff queue: which cases an account may see, its tabs and filters, one query each."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, false, func, select
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.models import Role, Unit, User, local_day_start
from feedback.models import Case
from feedback.workflow import OPEN_STATES, State

TABS = (
    "new", "to_classify", "in_progress", "due_soon", "overdue", "answered", "publish_overdue",
    "published", "all",
)  # fmt: skip
OPEN = [str(s) for s in OPEN_STATES]
NEW_HOURS = 24


@dataclass
class Filters:
    tab: str = "to_classify"
    unit: Unit | None = None
    topic: str | None = None
    state: str | None = None
    channel: str | None = None
    received_from: date | None = None
    received_to: date | None = None


def scope(user: User) -> ColumnElement[bool] | None:
    """The condition on Case for the cases this account may handle (None: every case)."""
    if user.role is Role.ADMIN:
        return None
    if user.unit is None or user.role not in (Role.MANAGER, Role.HANDLER):
        return false()
    if user.role is Role.MANAGER:
        return Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(user.unit.path)))
    return Case.unit_id == user.unit_id


def tab_conditions(today: date, due_soon_until: date, now: datetime) -> dict[str, ColumnElement]:
    is_open = Case.state.in_(OPEN)
    return {
        "new": and_(
            Case.state == str(State.RECEIVED), Case.received_at >= now - timedelta(hours=NEW_HOURS)
        ),
        "to_classify": Case.state.in_([str(State.RECEIVED), str(State.CLASSIFIED)]),
        "in_progress": Case.state == str(State.IN_PROGRESS),
        "due_soon": and_(is_open, Case.due_on >= today, Case.due_on <= due_soon_until),
        "overdue": and_(is_open, Case.due_on < today),
        "answered": Case.state == str(State.ANSWERED),
        "publish_overdue": and_(Case.state == str(State.ANSWERED), Case.publish_due_on < today),
        "published": Case.state == str(State.PUBLISHED),
    }


def filter_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on Case of the queue's filters, its tab aside."""
    conditions = []
    if filters.unit is not None:
        conditions.append(
            Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(filters.unit.path)))
        )
    for column, value in (
        (Case.topic, filters.topic),
        (Case.state, filters.state),
        (Case.channel, filters.channel),
    ):
        if value:
            conditions.append(column == value)
    # Vietnam days as UTC bounds on received_at, which the index orders the queue by.
    if filters.received_from:
        conditions.append(Case.received_at >= local_day_start(filters.received_from))
    if filters.received_to:
        end = local_day_start(filters.received_to + timedelta(days=1))
        conditions.append(Case.received_at < end)
    return conditions


def queue_query(
    user: User,
    filters: Filters,
    today: date,
    due_soon_until: date,
    now: datetime,
):
    """The select of the queue's cases, ordered for the tab."""
    query = select(Case)
    conditions = []
    visible = scope(user)
    if visible is not None:
        conditions.append(visible)
    tab = tab_conditions(today, due_soon_until, now).get(filters.tab)
    if tab is not None:
        conditions.append(tab)
    query = query.where(*conditions, *filter_conditions(filters))
    if filters.tab in ("due_soon", "overdue", "to_classify", "in_progress"):
        return query.order_by(Case.due_on, Case.id)
    if filters.tab in ("answered", "publish_overdue"):
        return query.order_by(Case.publish_due_on, Case.id)
    return query.order_by(Case.received_at.desc(), Case.id.desc())


def tab_counts(
    user: User, filters: Filters, today: date, due_soon_until: date, now: datetime
) -> dict[str, int]:
    """Count the cases of every tab under the queue's filters, as each tab's link lists them;
    each count is one indexed query, not a scan of the table."""
    visible = scope(user)
    narrowed = filter_conditions(filters)
    counts = {}
    for name, condition in [*tab_conditions(today, due_soon_until, now).items(), ("all", None)]:
        query = select(func.count()).select_from(Case).where(*narrowed)
        for where in (visible, condition):
            if where is not None:
                query = query.where(where)
        counts[name] = db.session.scalar(query)
    return counts

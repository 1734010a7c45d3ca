"""The staff digest: each morning, the PAKN cases that need a staff member, most urgent first.

Who gets what follows the queue (feedback/queue.py): a handler their unit's cases, a manager
their unit's subtree; an administrator only the cases of units that no active handler or manager
covers, which nobody else is told of; analysts nothing. Only what the queue list shows goes in:
the case's number, topic, unit and date, never the sender or the content.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.elements import ColumnElement

from core.extensions import db
from core.i18n import account_language, day
from core.lazytext import lazy_gettext as _l
from core.mail import plain_message
from core.models import Role, Unit, User
from feedback import queue
from feedback.models import TOPIC_LABELS, Case, Topic

# In order of urgency; each case is in the first section it belongs to, and only there.
SECTIONS = ("overdue", "due_soon", "to_classify", "publish_overdue")
SECTION_LABELS = {
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "to_classify": _l("To classify or assign"),
    "publish_overdue": _l("Publishing overdue"),
}
LINES = 50  # cases listed per section; the count says how many there are, the queue shows all
RECIPIENT_ROLES = (Role.ADMIN, Role.MANAGER, Role.HANDLER)


@dataclass
class Digest:
    """What one staff member is told on one day."""

    user: User
    day: date
    soon: date  # the last due date that counts as due soon
    counts: dict[str, int] = field(default_factory=dict)
    cases: dict[str, list[Case]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def recipients() -> list[User]:
    """The active accounts that may be told of cases, by id."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.role.in_(RECIPIENT_ROLES))
            .order_by(User.id)
        )
    )


def uncovered() -> ColumnElement[bool]:
    """The condition on Case for cases of units no active handler or manager covers."""
    managed = aliased(Unit)
    covered = union(
        select(User.unit_id).where(
            User.active.is_(True), User.role == Role.HANDLER, User.unit_id.is_not(None)
        ),
        select(Unit.id)
        .join(managed, Unit.path.startswith(managed.path))
        .join(User, User.unit_id == managed.id)
        .where(User.active.is_(True), User.role == Role.MANAGER),
    )
    return Case.unit_id.not_in(covered)


def sections(today: date, soon: date, now: datetime) -> dict[str, ColumnElement[bool]]:
    """The condition of each section: the queue's tabs, each case in its most urgent one."""
    tabs = queue.tab_conditions(today, soon, now)
    return {
        "overdue": tabs["overdue"],
        "due_soon": tabs["due_soon"],
        "to_classify": and_(tabs["to_classify"], Case.due_on > soon),
        "publish_overdue": tabs["publish_overdue"],
    }


def collect(user: User, today: date, soon: date, now: datetime) -> Digest:
    """The cases of each section for this account: counts, and the first LINES of each."""
    digest = Digest(user, today, soon)
    if user.role not in RECIPIENT_ROLES:
        return digest
    visible = uncovered() if user.role is Role.ADMIN else queue.scope(user)
    for name, condition in sections(today, soon, now).items():
        count = select(func.count()).select_from(Case).where(visible, condition)
        digest.counts[name] = db.session.scalar(count)
        if not digest.counts[name]:
            continue
        dated = Case.publish_due_on if name == "publish_overdue" else Case.due_on
        query = (
            select(Case)
            .where(visible, condition)
            .options(selectinload(Case.unit))
            .order_by(dated, Case.id)
            .limit(LINES)
        )
        digest.cases[name] = list(db.session.scalars(query))
    return digest


def compose(digest: Digest, address: str, now: datetime, locale: str | None = None):
    """Write the digest's e-mail to this address, dated now (UTC), in the recipient's language."""
    locale = locale or account_language(digest.user)
    with force_locale(locale):
        subject = _("PAKN cases that need you – %(day)s", day=day(digest.day))
        body = _body(digest)
    message_id = f"digest.{digest.user.id}.{digest.day:%Y%m%d}"  # a second try keeps it
    return plain_message(subject, body, address, now, message_id, locale)


def _body(digest: Digest) -> str:
    """The text, in the forced locale: the counts, then each section's cases with their links."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if digest.user.role is Role.ADMIN:
        intro = _("The PAKN cases of units without an active handler or manager that need action "
                  "on %(day)s, most urgent first:", day=day(digest.day))  # fmt: skip
    else:
        intro = _("The PAKN cases of your units that need action on %(day)s, most urgent first:",
                  day=day(digest.day))  # fmt: skip
    lines = [intro, ""]
    lines += [f"{SECTION_LABELS[name]}: {format_decimal(digest.counts[name])}" for name in SECTIONS]
    lines.append(_("Due soon: due by %(day)s.", day=day(digest.soon)))
    for name in SECTIONS:
        cases = digest.cases.get(name)
        if not cases:
            continue
        lines += ["", f"{SECTION_LABELS[name]} ({format_decimal(digest.counts[name])})"]
        for case in cases:
            lines += [_line(case, name), f"  {base}/staff/cases/{case.id}"]
        rest = digest.counts[name] - len(cases)
        if rest > 0:
            link = f"{base}/staff/cases?tab={name}"
            lines.append(_("… and %(n)s more: %(link)s", n=format_decimal(rest), link=link))
    footer = _("This e-mail is sent automatically each working morning to staff with PAKN "
               "cases to act on; replies are not read.")  # fmt: skip
    return "\n".join([*lines, "", "-- ", footer]) + "\n"


def _line(case: Case, section: str) -> str:
    try:
        topic = str(TOPIC_LABELS[Topic(case.topic)])
    except ValueError:
        topic = case.topic
    if section == "publish_overdue":
        due = f"{_('Publish by')}: {day(case.publish_due_on)}"
    else:
        due = f"{_('Due')}: {day(case.due_on)}"
    return f"#{case.id} · {topic} · {case.unit.name} · {due}"

"""Send the staff digests over SMTP (`feedback digest`, from cron each working morning).

One e-mail per staff member and day: a run claims the day's row before sending and deletes it
if the e-mail did not leave, so that a second run that day sends nothing and the next run after
a failure tries again.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.mail import Sender, mailable, masked
from core.models import utcnow
from feedback.digest import SECTIONS, Digest, collect, compose, recipients
from feedback.models import StaffDigest
from feedback.workdays import calendar_for, due_soon_limit, local_today

# How long a claim is left to its run before another may take it: only a run that died lets go.
LEASE = timedelta(minutes=10)


@dataclass
class Run:
    """What one run did, for the command's output."""

    day: date
    working_day: bool = True
    sent: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    would_send: list[str] = field(default_factory=list)
    unreachable: str | None = None


def send_digests(now: datetime | None = None, force: bool = False, dry_run: bool = False) -> Run:
    """Send today's digest to each staff member with cases to act on, once; commit each."""
    now = now or utcnow()
    run = Run(local_today(now))
    if not force and not calendar_for(run.day).is_working_day(run.day):
        run.working_day = False
        return run
    soon = due_soon_limit(run.day)
    sent = set(db.session.scalars(select(StaffDigest.user_id).where(
        StaffDigest.day == run.day, StaffDigest.sent_at.is_not(None))))  # fmt: skip
    with Sender() as sender:
        for user in recipients():
            if user.id in sent:
                run.already += 1
                continue
            digest = collect(user, run.day, soon, now)
            if not digest.total:
                continue
            address = mailable(user.email)
            if address is None:
                run.failed.append(f"user {user.id}: the account's e-mail is not a valid address")
                continue
            if dry_run:
                run.would_send.append(f"{masked(address)} ({user.role}): {summary(digest)}")
                continue
            if not sender.ready():
                break
            if not claim(user.id, run.day, now, digest.total):  # another run has it
                run.already += 1
                continue
            problem, _permanent = sender.send(compose(digest, address, now), address)
            record = db.session.scalar(_row(user.id, run.day))
            if problem is None:
                record.sent_at = now
                run.sent += 1
            else:
                db.session.delete(record)  # not sent: the next run tries again
                run.failed.append(f"user {user.id} ({masked(address)}): {problem}")
            db.session.commit()
    run.unreachable = sender.unreachable
    return run


def summary(digest: Digest) -> str:
    """The counts, for the command's output: '2 overdue, 1 due_soon, 0 to_classify, ...'."""
    return ", ".join(f"{digest.counts[name]:,} {name}" for name in SECTIONS)


def claim(user_id: int, day: date, now: datetime, cases: int) -> bool:
    """Take the day's digest of this account for this run; False if another run has it or sent it.

    The unique (user, day) row decides between two runs at once; a claim older than LEASE and
    never sent was left by a run that died, and is taken over. Commits.
    """
    db.session.add(StaffDigest(user_id=user_id, day=day, claimed_at=now, cases=cases))
    try:
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
    taken = db.session.execute(
        update(StaffDigest)
        .where(
            StaffDigest.user_id == user_id,
            StaffDigest.day == day,
            StaffDigest.sent_at.is_(None),
            StaffDigest.claimed_at < now - LEASE,
        )
        .values(claimed_at=now, cases=cases)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken.rowcount == 1


def _row(user_id: int, day: date):
    return select(StaffDigest).where(StaffDigest.user_id == user_id, StaffDigest.day == day)

"""The outbox of e-mails to citizens: queue one with the change it tells of, claim it, settle it.

Services queue in the same transaction as the case's change (nothing slow runs in a request);
`feedback mail` (feedback/mailer.py) sends from cron.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from core.extensions import db
from core.mail import mail_on
from core.models import utcnow
from feedback.models import Case, CaseEvent, CaseMail, CasePerson, MailEvent
from feedback.settings import setting
from feedback.workflow import Action

# How long a claimed row is left to its sender before another run may take it up again: far
# longer than one message takes, so that only a sender that died lets it go.
LEASE = timedelta(minutes=10)


def queue(case: Case, event: MailEvent, now: datetime | None = None) -> CaseMail | None:
    """Queue an e-mail telling the sender of the case what happened, if they left an address.

    Nothing is queued while mail is off: switching it on later sends no old news. Nor is a
    "received" e-mail past the day's few to one address: anyone may type any address into the
    form, and must not be able to bury someone's mailbox under our notices.
    """
    if not mail_on() or case.person is None or not case.person.email:
        return None
    now = now or utcnow()
    if event == MailEvent.RECEIVED and _received_lately(case.person.email, now) >= setting(
        "FEEDBACK_MAIL_RECEIVED_PER_DAY"
    ):
        return None
    mail = CaseMail(
        case=case,  # a new case has no id before the flush
        event=str(MailEvent(event)),
        locale=case.locale,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    db.session.add(mail)
    return mail


def _received_lately(address: str, now: datetime) -> int:
    """Count the "received" e-mails queued to this address in the last 24 hours."""
    return db.session.scalar(
        select(func.count())
        .select_from(CaseMail)
        .join(CasePerson, CasePerson.case_id == CaseMail.case_id)
        .where(
            CaseMail.event == str(MailEvent.RECEIVED),
            CaseMail.created_at >= now - timedelta(days=1),
            func.lower(CasePerson.email) == address.lower(),
        )
    )


def due(now: datetime, limit: int = 500) -> list[int]:
    """Return the ids of the e-mails due to be sent, oldest first."""
    return list(
        db.session.scalars(
            select(CaseMail.id)
            .where(*_pending(), CaseMail.next_attempt_at <= now)
            .order_by(CaseMail.next_attempt_at, CaseMail.id)
            .limit(limit)
        )
    )


def _pending():
    return CaseMail.sent_at.is_(None), CaseMail.gave_up_at.is_(None)


def claim(mail_id: int, now: datetime) -> bool:
    """Take the e-mail for this sender if it is still due; False if another took it first.

    One conditional UPDATE: on PostgreSQL a second sender waits for the first's row lock and
    then finds the row no longer due; on SQLite writers take turns. The caller commits at once.
    """
    taken = db.session.execute(
        update(CaseMail)
        .where(CaseMail.id == mail_id, *_pending(), CaseMail.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=CaseMail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def sent(mail: CaseMail, now: datetime) -> None:
    mail.sent_at, mail.last_error = now, None
    _history(mail, f"mail={mail.event}; sent")


def failed(mail: CaseMail, error: str, now: datetime, permanent: bool = False) -> bool:
    """Record a failed try; retry later with a doubled wait, or give up. Return True if given up."""
    mail.last_error = error[:300]
    if permanent or mail.attempts >= setting("FEEDBACK_MAIL_ATTEMPTS"):
        mail.gave_up_at = now
        why = error.split(" ", 1)[0] if permanent else "attempts"  # never the address
        _history(mail, f"mail={mail.event}; not sent; attempts={mail.attempts}; reason={why}")
        return True
    wait = setting("FEEDBACK_MAIL_RETRY_MINUTES") * 2 ** (mail.attempts - 1)
    mail.next_attempt_at = now + timedelta(minutes=wait)
    return False


def drop(mail: CaseMail) -> None:
    """Delete an e-mail that no longer has anyone or anything to tell."""
    db.session.delete(mail)


def forget(case_ids: list[int]) -> None:
    """Delete the e-mails of these cases, sent or not (their personal data is being purged)."""
    db.session.execute(delete(CaseMail).where(CaseMail.case_id.in_(case_ids)))


def _history(mail: CaseMail, detail: str) -> None:
    # By id, not through the case: the case's version must not change under a staff form.
    state = db.session.scalar(select(Case.state).where(Case.id == mail.case_id))
    db.session.add(
        CaseEvent(
            case_id=mail.case_id,
            at=mail.sent_at or mail.gave_up_at,
            actor_label="system",
            action=str(Action.MAIL),
            from_state=state,
            to_state=state,
            detail=detail,
        )
    )

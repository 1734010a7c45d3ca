"""Open311 requests: who sees which, the spec's filters, and a case as a service request."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import request
from sqlalchemy import or_, select

from core.apikeys import ApiKey
from core.extensions import db
from core.forms import has_control_characters, without_direction_controls
from core.models import Unit, utcnow
from feedback import open311_format as out
from feedback.models import TOPIC_LABELS, Case, CasePerson, Topic
from feedback.workflow import ANSWERED_STATES, OPEN_STATES, State

MAX_RANGE = timedelta(days=90)
NAME_MAX = CasePerson.__table__.c.name.type.length  # last_name and first_name, joined


def valid_email(address: str) -> bool:
    """Check an address as the citizen's form does (no line break can reach a mail header)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class ApiError(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def person_from(form) -> dict:
    """The sender's personal data, without direction controls, as the citizen's form keeps it."""
    limits = {"first_name": 60, "last_name": 60, "phone": 20, "email": 254, "address_string": 300}
    sent = {field: without_direction_controls(form.get(field)) for field in limits}
    for field, limit in limits.items():
        if len(sent[field] or "") > limit:
            raise ApiError(400, f"{field} is longer than {limit} characters")
        # As the citizen's form refuses them: a zero-width space would hide a name from the
        # check for personal data before publishing.
        if field != "email" and has_control_characters(sent[field] or ""):
            raise ApiError(400, f"{field} holds line breaks, tabs or invisible characters")
    if sent["email"] and not valid_email(sent["email"]):
        raise ApiError(400, "email is not a valid e-mail address")
    name = " ".join(p for p in (sent["last_name"], sent["first_name"]) if p)
    if len(name) > NAME_MAX:
        raise ApiError(400, f"last_name and first_name make a name over {NAME_MAX} characters")
    return {
        "name": name,
        "phone": sent["phone"],
        "email": sent["email"],
        "address": sent["address_string"],
    }


def visible_to(key: ApiKey | None):
    """Published cases for anyone; a partner also sees the cases it handed over."""
    published = Case.state == str(State.PUBLISHED)
    return or_(published, Case.api_key_id == key.id) if key else published


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise ApiError(400, f"{name} is not a W3C date-time") from None
    # In datetime's first or last year, the time zone or the 90 days before fall out of it.
    if not 1 < moment.year < 9999:
        raise ApiError(400, f"{name} is out of range")
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return moment


def filtered(query, args):
    end = _when("end_date") or utcnow()
    start = _when("start_date") or end - MAX_RANGE
    if end < start or end - start > MAX_RANGE:
        raise ApiError(400, "start_date and end_date must span 90 days at most")
    query = query.where(Case.received_at >= start, Case.received_at <= end)
    if args.get("service_code"):
        query = query.where(Case.topic.in_(args["service_code"].split(",")))
    statuses = set(args.get("status", "").split(",")) - {""}
    if statuses - {"open", "closed"}:
        raise ApiError(400, "status must be open, closed, or both")
    if statuses == {"open"}:
        query = query.where(Case.state.in_([str(s) for s in OPEN_STATES]))
    elif statuses == {"closed"}:
        query = query.where(Case.state.not_in([str(s) for s in OPEN_STATES]))
    if args.get("jurisdiction_id"):
        unit = db.session.scalar(select(Unit).where(Unit.code == args["jurisdiction_id"][:20]))
        if unit is None:
            raise ApiError(404, "jurisdiction_id was not found")
        query = query.where(
            Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path)))
        )
    return query


def as_request(case: Case, key: ApiKey | None) -> dict:
    """The case as the caller may read it: the partner that handed it over reads what the
    citizen reads; anyone else only what was published (visible_to lets through no other)."""
    own = key is not None and case.api_key_id == key.id
    notes = case.state
    answer = case.answer if own else case.published_answer
    if case.state in ANSWERED_STATES and answer:
        notes = f"{case.state}: {answer}"
    elif own and case.state in (State.REJECTED, State.FORWARDED):
        notes = f"{case.state}: {case.forwarded_to or ''} {case.citizen_note or ''}".strip()
    return {
        "service_request_id": str(case.id),
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": notes,
        "service_name": str(TOPIC_LABELS.get(Topic(case.topic), case.topic)),
        "service_code": case.topic,
        "description": case.content if own else case.public_summary,
        "agency_responsible": case.unit.name,
        "service_notice": None,
        "requested_datetime": out.w3c(case.received_at),
        "updated_datetime": out.w3c(case.updated_at),
        "expected_datetime": out.end_of_day(case.due_on),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }

"""Open311 GeoReport v2 under /open311/v2/: partner systems hand cases over and read status.

jurisdiction_id is a unit code; service codes are the PAKN topics. See docs/open311.md.
"""

from flask import Blueprint, current_app, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.apikeys import ApiKey, Scope, check_key
from core.errors import NulCharacter
from core.extensions import csrf, db
from core.i18n import LANGUAGE_NAMES, day
from core.models import Unit, local_today
from core.paging import MAX_PAGE
from feedback import open311_format as out
from feedback import services, throttle
from feedback.forms import CONTENT_MAX, CONTENT_MIN, kept_content, seen_length
from feedback.models import KIND_LABELS, TOPIC_LABELS, Case, Channel, Kind, Topic
from feedback.open311_requests import ApiError, as_request, filtered, person_from, visible_to

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)  # partners authenticate with an API key, not a browser session
CHANGESET = "2026-12-04T00:00:00+07:00"  # when this API last changed (attribute[locale])
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
CHANNELS = {"api": Channel.API, "hotline": Channel.HOTLINE}


@bp.errorhandler(ApiError)
def api_error(e: ApiError):
    return out.error(request.view_args.get("fmt", "json"), e.status, e.description)


@bp.errorhandler(413)
def too_large(_e):
    return out.error(request.view_args.get("fmt", "json"), 413, "the request is too large")


@bp.errorhandler(NulCharacter)
def nul_character(_e):
    return out.error(request.view_args.get("fmt", "json"), 400, "a value holds a NUL character")


@bp.url_value_preprocessor
def check_format(_endpoint, values):
    if values and values.get("fmt") not in out.FORMATS:
        values["fmt"] = "json"
        raise ApiError(404, "unknown format: use .json or .xml")


@bp.get("/discovery.<fmt>")
def discovery(fmt):
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return out.render(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": current_app.config.get("FEEDBACK_OPEN311_CONTACT", base),
        "key_service": "API keys are issued by the administrator (flask apikeys create NAME).",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": f"{base}/open311/v2",
            "changeset": CHANGESET,
            "type": "production",
            "formats": list(out.FORMATS.values()),
        }],
    })  # fmt: skip


def _service(topic: Topic) -> dict:
    return {
        "service_code": str(topic),
        "service_name": str(TOPIC_LABELS[topic]),
        "description": _(
            "Complaints and recommendations (PAKN): %(topic)s", topic=TOPIC_LABELS[topic]
        ),
        "metadata": True,
        "type": "realtime",
        "keywords": "pakn",
        "group": "PAKN",
    }


@bp.get("/services.<fmt>")
def service_list(fmt):
    return out.render(fmt, "services", [_service(t) for t in Topic])


@bp.get("/services/<code>.<fmt>")
def service_definition(code, fmt):
    if code not in {str(t) for t in Topic}:
        raise ApiError(404, f"service_code {code[:40]} not found")
    values = [{"key": str(k), "name": str(label)} for k, label in KIND_LABELS.items()]
    channels = [{"key": "api", "name": "api"}, {"key": "hotline", "name": "1022"}]
    languages = [{"key": code, "name": str(name)} for code, name in LANGUAGE_NAMES.items()]
    attribute = {"variable": True, "datatype": "singlevaluelist", "datatype_description": ""}
    return out.render(fmt, "service_definition", {
        "service_code": code,
        "attributes": [
            {**attribute, "code": "kind", "required": True, "order": 1,
             "description": _("Kind"), "values": values},
            {**attribute, "code": "channel", "required": False, "order": 2,
             "description": _("Received by"), "values": channels},
            {"variable": True, "datatype": "string", "datatype_description": "XXXX-XXXX-XXXX",
             "code": "receipt", "required": False, "order": 3,
             "description": _("Receipt code of the dossier (optional)")},
            {**attribute, "code": "locale", "required": False, "order": 4,
             "description": _("The sender's language, for the e-mails about this PAKN"),
             "values": languages},
        ],
    })  # fmt: skip


def _key(required: bool) -> ApiKey | None:
    given = request.values.get("api_key")
    if not given:
        if required:
            raise ApiError(403, "api_key was not provided")
        return None
    key = check_key(given, Scope.OPEN311)
    if key is None:
        raise ApiError(403, "api_key is not valid")
    return key


@bp.post("/requests.<fmt>")
def create_request(fmt):
    key = _key(required=True)
    if not throttle.hit("open311-post", str(key.id), "FEEDBACK_API_POST_LIMIT"):
        raise ApiError(429, "too many requests for this api_key: slow down")
    form = request.form
    if not form.get("jurisdiction_id"):
        raise ApiError(400, "jurisdiction_id was not provided (a unit code)")
    unit = db.session.scalar(select(Unit).where(Unit.code == form["jurisdiction_id"][:20]))
    if unit is None:
        raise ApiError(400, "jurisdiction_id was not found")
    if not key.covers(unit):
        raise ApiError(403, f"jurisdiction_id {unit.code} is outside this api_key's units")
    if not unit.is_open_on(local_today()):
        raise ApiError(400, f"jurisdiction_id {unit.code} closed on {unit.closed_on:%Y-%m-%d}")
    if not form.get("service_code"):
        raise ApiError(400, "service_code was not provided")
    if form["service_code"] not in {str(t) for t in Topic}:
        raise ApiError(400, "service_code was not found")
    kind = form.get("attribute[kind]")
    if kind not in {str(k) for k in Kind}:
        raise ApiError(400, "attribute[kind] is required: report or recommendation")
    channel = form.get("attribute[channel]", "api")
    if channel not in CHANNELS:
        raise ApiError(400, "attribute[channel] must be api or hotline")
    locale = form.get("attribute[locale]", "vi")
    if locale not in LANGUAGE_NAMES:
        raise ApiError(400, "attribute[locale] must be vi or en")
    # Kept as the citizen's form keeps it: line breaks and tabs, no other control character.
    description = kept_content(form.get("description"))
    if seen_length(description) < CONTENT_MIN or len(description) > CONTENT_MAX:
        raise ApiError(400, "description is required: 10 to 4000 characters")
    person = person_from(form)
    receipt = _receipt(unit, form.get("attribute[receipt]", "").strip())
    case = services.create_case(
        unit, kind=kind, topic=form["service_code"], content=description,
        channel=CHANNELS[channel], person=person, receipt=receipt, api_key=key,
        actor_label=f"api:{key.name}", locale=locale,
    )  # fmt: skip
    db.session.commit()
    notice = _("Received. Due by %(day)s.", day=day(case.due_on))
    return out.render(fmt, "service_requests", [
        {"service_request_id": str(case.id), "token": case.code, "service_notice": notice,
         "account_id": None}
    ], 201)  # fmt: skip


def _receipt(unit: Unit, text: str):
    """The dossier the case is about, by its receipt code (optional), or a 400 saying why not."""
    if not text:
        return None
    try:
        return services.receipt_for_case(unit, text)
    except services.ReceiptRefused as e:
        if e.receipt is None:
            raise ApiError(400, "attribute[receipt] was not found: no dossier has this receipt "
                                "code") from None  # fmt: skip
        raise ApiError(400, f"attribute[receipt] is a dossier of unit {e.receipt.unit.code}, "
                            f"outside jurisdiction_id {unit.code} and the units under it"
                       ) from None  # fmt: skip


@bp.get("/requests.<fmt>")
def request_list(fmt):
    key = _key(required=False)
    query = select(Case).where(visible_to(key))
    args = request.args
    if args.get("service_request_id"):
        ids = [_case_id(i.strip()) for i in args["service_request_id"].split(",")[:MAX_PAGE_SIZE]]
        if None in ids:
            raise ApiError(400, "service_request_id must be case numbers separated by commas")
        query = query.where(Case.id.in_(ids))
    else:
        query = filtered(query, args)
    try:
        size = max(min(int(args.get("page_size", PAGE_SIZE)), MAX_PAGE_SIZE), 1)
        page = max(int(args.get("page", 1)), 1)
    except ValueError:
        raise ApiError(400, "page and page_size must be whole numbers") from None
    if page > MAX_PAGE:
        raise ApiError(400, f"page must be {MAX_PAGE} at most")
    cases = db.session.scalars(
        query.order_by(Case.received_at.desc(), Case.id.desc()).limit(size)
        .offset((page - 1) * size).options(selectinload(Case.unit))
    )  # fmt: skip
    return out.render(fmt, "service_requests", [as_request(c, key) for c in cases])


def _case_id(text: str) -> int | None:
    """The case number text spells, or None: ASCII digits, fewer than 19 (a BIGINT holds them)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


@bp.get("/requests/<request_id>.<fmt>")
def request_detail(request_id, fmt):
    key = _key(required=False)
    case = None
    if (case_id := _case_id(request_id)) is not None:
        case = db.session.scalar(select(Case).where(Case.id == case_id, visible_to(key)))
    if case is None:
        raise ApiError(404, f"service_request_id {request_id[:40]} not found")
    return out.render(fmt, "service_requests", [as_request(case, key)])


@bp.get("/tokens/<token>.<fmt>")
def token(token, fmt):
    if throttle.client_over_limit("track", "FEEDBACK_TRACK_LIMIT"):
        raise ApiError(429, "too many unknown tokens: wait a few minutes")
    case = services.case_by_code(token)
    if case is None:
        throttle.client_hit("track", "FEEDBACK_TRACK_LIMIT")
        raise ApiError(404, "token not found")
    return out.render(fmt, "service_requests", [
        {"service_request_id": str(case.id), "token": case.code}
    ])  # fmt: skip

"""The citizen's side: send a PAKN, track it, rate the handling, read published answers."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from core.errors import MESSAGES, nul_taken_out, render_error
from core.extensions import csrf, db
from core.forms import (
    accented,
    has_control_characters,
    kept_key,
    new_key,
    without_direction_controls,
)
from core.i18n import switch_to
from core.models import Unit, local_today
from core.paging import page_number
from feedback import services, templating, throttle
from feedback.forms import CitizenCaseForm, RatingForm
from feedback.images import Photo, PhotoError, inspect
from feedback.models import Case, Channel
from feedback.settings import request_size_limit, setting
from feedback.workflow import ANSWERED_STATES, Outcome, State
from survey.models import SurveyPoint

bp = Blueprint("feedback", __name__)
bp.record_once(lambda state: templating.init_app(state.app))


@bp.after_request
def private_pages(response):
    """Tracking pages are for one person: never cached by a proxy or indexed."""
    if request.endpoint in ("feedback.track_case", "feedback.rate"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.errorhandler(413)
def too_large(_e):
    """A PAKN over the size limit: its body was not read, so say what to send and lead back."""
    if request.endpoint != "feedback.new_case":
        return render_error(413)
    photos = request.mimetype == "multipart/form-data"
    if not photos or (request.content_length or 0) <= request_size_limit():
        # No photos, or within their limit: a text passed the size a form's text may have
        # (MAX_FORM_MEMORY_SIZE), a hundred times what the form takes.
        message = _(
            "The text was far too long, so nothing was sent: write at most %(n)s characters.",
            n=format_decimal(setting("FEEDBACK_CONTENT_MAX")),
        )
    else:
        mb = format_decimal(setting("FEEDBACK_PHOTO_MAX_BYTES") / 1024**2, format="#,##0.#")
        message = _(
            "The photos were too large together, so nothing was sent: send at most %(n)s "
            "photos of at most %(mb)s MB each, or send the PAKN without photos.",
            n=setting("FEEDBACK_PHOTOS_MAX"),
            mb=mb,
        )
    # The same form again: the counter's or the unit's, as the query string names it.
    where = {k: request.args[k][:40] for k in ("point", "unit") if request.args.get(k)}
    back = url_for("feedback.new_case", **where)
    return render_template("feedback/too_large.html", status=413, message=message, back=back), 413


@bp.get("/")
def root():
    """The site's address alone: what a citizen can do there without a counter's QR code."""
    return redirect(url_for("feedback.home"))


@bp.get("/pakn/")
def home():
    return render_template("feedback/home.html")


@bp.get("/pakn/units")
def choose_unit():
    """Walk down the unit tree to the unit the PAKN is for (no script needed)."""
    parent = _unit_or_404(request.args.get("parent")) if request.args.get("parent") else None
    purpose = "published" if request.args.get("for") == "published" else "new"
    # A new PAKN is for a unit that exists today; the published answers of closed ones stay.
    today = local_today()
    if purpose == "new" and parent is not None and not parent.is_open_on(today):
        return _closed_unit()
    units = select(Unit)
    if purpose == "new":
        units = units.where(Unit.open_on(today))
    children = db.session.scalars(
        units.where(Unit.parent_id == (parent.id if parent else None)).order_by(Unit.name)
    ).all()
    with_children = set(
        db.session.scalars(
            units.with_only_columns(Unit.parent_id)
            .where(Unit.parent_id.in_([u.id for u in children]))
            .distinct()
        )
    )
    return render_template(
        "feedback/choose_unit.html",
        parent=parent,
        ancestors=_ancestors(parent),
        children=children,
        with_children=with_children,
        purpose=purpose,
    )


@bp.route("/pakn/new", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, after the larger size limit is set
@nul_taken_out
def new_case():
    request.max_content_length = request_size_limit()
    point = unit = None
    if request.args.get("point"):
        point = db.session.scalar(
            select(SurveyPoint).where(SurveyPoint.token == request.args["point"][:40])
        )
        if point is None or not point.active:
            return render_error(
                404, _("This counter is not known. Please choose the unit."), _choose_unit()
            )
        unit = point.unit
    elif request.args.get("unit"):
        unit = _unit_or_404(request.args["unit"])
    else:
        return redirect(url_for("feedback.choose_unit"))
    if not unit.is_open_on(local_today()):
        return _closed_unit()
    form = CitizenCaseForm()
    form.case_unit = unit
    if not form.is_submitted():
        form.key.data = new_key()
        # From the thank-you page of a receipt's survey: the PAKN is about that dossier.
        form.receipt.data = request.args.get("receipt", "")[:40]
    elif switch_to():
        # The same form in the other language, nothing checked or recorded. A browser sends
        # no file again: the page says so when photos had been attached.
        form.key.data = kept_key(form.key.data)
        return _form_page(form, unit, point, 200, photos_dropped=_dropped(form, "switch"))
    elif form.validate():
        existing = services.case_by_key(form.key.data)
        if existing is not None:  # the same form sent twice
            return redirect(url_for("feedback.track_case", code=existing.code, sent=1), 303)
        photos, error = _photos(form)
        if error is None and not throttle.client_hit("send", "FEEDBACK_SEND_LIMIT"):
            # The form again, with what was written: a citizen behind a busy shared address
            # sends it later rather than writing it again.
            form.key.errors = [MESSAGES[429]()]
            return _form_page(form, unit, point, 429, photos_dropped=_dropped(form))
        if error is None:
            case = services.create_case(
                unit,
                kind=form.kind.data,
                topic=form.topic.data,
                content=form.content.data,
                channel=Channel.COUNTER if point else Channel.WEB,
                person=form.person(),
                photos=photos,
                point_id=point.id if point else None,
                receipt=form.found_receipt,
                submission_key=form.key.data,
                locale=str(get_locale()),
            )
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                case = services.case_by_key(form.key.data)
                if case is None:
                    raise
            return redirect(url_for("feedback.track_case", code=case.code, sent=1), 303)
        form.photos.errors = [error]
    status = 422 if form.is_submitted() else 200
    return _form_page(form, unit, point, status, photos_dropped=_dropped(form))


def _dropped(form: CitizenCaseForm, why: str = "refused") -> str | None:
    """Say why the photos must be chosen again: a browser never fills a file input back."""
    return why if _attached(form) else None


def _form_page(form: CitizenCaseForm, unit, point, status: int, photos_dropped=None):
    return render_template(
        "feedback/new.html",
        form=form,
        unit=unit,
        point=point,
        form_expired=bool(form.csrf_token.errors),
        photos_dropped=photos_dropped,
    ), status


def _attached(form: CitizenCaseForm) -> list:
    return [f for f in request.files.getlist(form.photos.name) if f and f.filename]


def _photos(form):
    files = _attached(form)
    if len(files) > setting("FEEDBACK_PHOTOS_MAX"):
        return [], _("Send %(n)s photos at most.", n=setting("FEEDBACK_PHOTOS_MAX"))
    photos = []
    for upload in files:
        raw = upload.read(setting("FEEDBACK_PHOTO_MAX_BYTES") + 1)
        try:
            # Only the header here: decoding and re-encoding wait (services.finish_photo).
            width, height = inspect(
                raw,
                max_bytes=setting("FEEDBACK_PHOTO_MAX_BYTES"),
                max_pixels=setting("FEEDBACK_PHOTO_MAX_PIXELS"),
            )
        except PhotoError as e:
            # The name as the phone gave it, without invisible characters: a direction
            # override in it would turn the whole message around.
            name = "".join(ch for ch in upload.filename if not has_control_characters(ch))
            return [], f"{name[:80]}: {e}"
        photos.append(Photo(raw, width, height, pending=True))
    return photos, None


@bp.get("/track")
def track():
    typed = request.args.get("code")
    if switch_to():  # the form in the other language, with the code as typed, not looked up
        return render_template("feedback/track_form.html", typed=(typed or "")[:40], error=None)
    if typed is not None:
        if throttle.client_over_limit("track", "FEEDBACK_TRACK_LIMIT"):
            return render_error(429)
        case = services.case_by_code(typed)
        if case is not None:
            return redirect(url_for("feedback.track_case", code=case.code))
        throttle.client_hit("track", "FEEDBACK_TRACK_LIMIT")
        return _unknown_code(typed)
    return render_template("feedback/track_form.html", typed="", error=None)


def _unknown_code(typed: str):
    """The code entry again, with what was typed: a mistyped code is corrected, not typed anew.

    At most the field's 40 characters of it, without direction controls (which would show it
    backwards): the page does not send back a script's megabyte.
    """
    typed = without_direction_controls(typed[:40])
    error = _("No PAKN has this code. Check it and try again.")
    if accented(typed):
        error = _(
            "A tracking code has no accented letters: Vietnamese typing (Telex or VNI) "
            "changed what you typed. Switch it off and type the code again."
        )
    return render_template("feedback/track_form.html", typed=typed, error=error), 404


@bp.get("/track/<code>")
def track_case(code: str):
    if throttle.client_over_limit("track", "FEEDBACK_TRACK_LIMIT"):
        return render_error(429)
    case = services.case_by_code(code)
    if case is None:
        throttle.client_hit("track", "FEEDBACK_TRACK_LIMIT")
        # An address copied wrong from a note or an e-mail: the code entry, not a dead end.
        return _unknown_code(code)
    if case.code != code:
        return redirect(url_for("feedback.track_case", code=case.code))
    return _track_page(case, RatingForm())


def _track_page(case: Case, form: RatingForm, status: int = 200):
    return render_template(
        "feedback/track.html",
        case=case,
        sent=request.args.get("sent") == "1",
        answered=case.state in ANSWERED_STATES,
        rating_form=form,
        rating_expired=bool(form.csrf_token.errors),
        # A rating's address answers only a POST: the language switch leads to the case.
        lang_next=url_for("feedback.track_case", code=case.code)
        if request.method == "POST"
        else None,
        State=State,
        Outcome=Outcome,
    ), status


@bp.post("/track/<code>/rating")
@csrf.exempt  # the form checks its own token: an expired one shows the case again, not a dead end
def rate(code: str):
    # Looked up under the tracking page's limit: else 404 or 422 would tell codes apart.
    if throttle.client_over_limit("track", "FEEDBACK_TRACK_LIMIT"):
        return render_error(429)
    case = services.case_by_code(code)
    if case is None:
        throttle.client_hit("track", "FEEDBACK_TRACK_LIMIT")
        abort(404)
    if case.code != code:
        abort(404)
    form = RatingForm()
    if not form.validate():
        return _track_page(case, form, 422)
    try:
        error = _rate(case, form)
    except StaleDataError:
        # Changed since it was read, mostly by the same rating sent twice at once: read it
        # again and rate that, which says it was rated already or records the rating.
        db.session.rollback()
        case = services.case_by_code(code)
        error = _rate(case, form)
    if error is not None:
        form.satisfied.errors = [error]
        return _track_page(case, form, 409)
    # To the thanks, where the form was: the page's top is a long way up on a phone.
    return redirect(url_for("feedback.track_case", code=case.code, _anchor="rated"), 303)


def _rate(case: Case, form: RatingForm) -> str | None:
    """Record the rating and commit; return why it cannot be recorded, or None."""
    try:
        services.rate(case, form.satisfied.data == "yes")
    except services.IllegalMove as e:
        return str(e)
    db.session.commit()
    return None


@bp.get("/pakn/published")
def published():
    unit = _unit_or_404(request.args["unit"]) if request.args.get("unit") else None
    query = select(Case).where(Case.state == str(State.PUBLISHED))
    if unit is not None:
        query = query.join(Unit, Unit.id == Case.unit_id).where(Unit.path.startswith(unit.path))
    page = db.paginate(
        # The units' names in one query, not one per unit on the page.
        query.order_by(Case.published_at.desc(), Case.id.desc()).options(selectinload(Case.unit)),
        page=page_number(),
        per_page=20,
        max_per_page=20,
        error_out=False,
    )
    if page.page > 1 and not page.items:
        # A link kept from before answers left the public pages: the last page, not "none yet".
        last = page.pages if page.pages > 1 else None
        return redirect(url_for("feedback.published", unit=unit.code if unit else None, page=last))
    return render_template("feedback/published.html", unit=unit, page=page)


def _closed_unit():
    """The page for a unit that no longer exists: a new PAKN goes to the one that took over."""
    return render_error(
        410,
        _("This office no longer exists. Please choose the office that took over its work."),
        _choose_unit(),
    )


def _choose_unit() -> tuple[str, str]:
    """The way on from a counter or an office that is gone: the unit tree, from its top."""
    return url_for("feedback.choose_unit"), _("Choose the unit")


def _unit_or_404(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code[:20]))
    if unit is None:
        abort(404)
    return unit


def _ancestors(unit: Unit | None) -> list[Unit]:
    if unit is None:
        return []
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    by_id = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]

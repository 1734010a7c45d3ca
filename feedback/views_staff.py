"""The back office for PAKN: the queue, a case with its history, its moves, staff intake."""

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false, select
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from core.auth import require_roles
from core.errors import render_error
from core.extensions import db
from core.models import Unit, User, local_today, utcnow
from core.paging import page_number
from feedback import queue, services
from feedback.forms import NONE, ActionForm
from feedback.history import latest_lines
from feedback.models import CHANNEL_LABELS, TOPIC_LABELS, Case, CasePhoto
from feedback.moves import HANDLING_ROLES
from feedback.services import Conflict
from feedback.settings import setting
from feedback.templating import today
from feedback.workdays import due_soon_limit
from feedback.workflow import STATE_LABELS, IllegalMove, allowed_actions

bp = Blueprint("feedback_staff", __name__, url_prefix="/staff")


@bp.before_request
@login_required
@require_roles(*HANDLING_ROLES)
def require_staff():
    """Every page here needs a signed-in account that handles cases."""


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/cases")
def cases():
    args = request.args
    # A code typed into the filter: one no unit has, or of a unit out of scope, lists nothing
    # and says why beside it, the queue and what was typed still there.
    unit, unit_error, status = None, None, 200
    code = args.get("unit", "").strip()[:20]
    if code:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            unit_error, status = _("No unit has this code."), 404
        elif not current_user.can_see_unit(unit):
            unit, unit_error, status = None, _("This unit is not in your scope."), 403
    tab = args.get("tab") if args.get("tab") in queue.TABS else "to_classify"
    filters = queue.Filters(
        tab=tab,
        unit=unit,
        topic=args.get("topic") if args.get("topic") in TOPIC_LABELS else None,
        state=args.get("state") if args.get("state") in STATE_LABELS else None,
        channel=args.get("channel") if args.get("channel") in CHANNEL_LABELS else None,
        received_from=_date_arg("from"),
        received_to=_date_arg("to"),
    )
    # In date's first or last year, the time zone or the day after falls out of range.
    if any(d and not 1 < d.year < 9999 for d in (filters.received_from, filters.received_to)):
        return render_error(400, _("This date is out of range. Check the year."))
    now, day = utcnow(), today()
    soon = due_soon_limit(day)
    query = queue.queue_query(current_user, filters, day, soon, now)
    counts = dict.fromkeys(queue.TABS, 0)
    if unit_error:
        query = query.where(false())
    else:
        counts = queue.tab_counts(current_user, filters, day, soon, now)
    page = db.paginate(
        query.options(selectinload(Case.unit), selectinload(Case.handler)),
        page=page_number(),
        per_page=setting("FEEDBACK_PAGE_SIZE"),
        max_per_page=setting("FEEDBACK_PAGE_SIZE"),
        error_out=False,
    )
    return render_template(
        "feedback/staff/cases.html",
        page=page,
        filters=filters,
        counts=counts,
        tabs=queue.TABS,
        args={k: v for k, v in args.items() if k not in ("page", "tab") and v},
        soon=soon,
        unit_code=code,
        unit_error=unit_error,
    ), status


def _case_or_abort(case_id: int) -> Case:
    case = db.session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        abort(404)
    if not services.can_handle(current_user, case):
        abort(403)
    return case


def _handler_choices(case: Case) -> list[SelectChoice]:
    staff = db.session.scalars(
        select(User)
        .join(Unit, Unit.id == User.unit_id)
        .where(
            User.active.is_(True),
            User.role.in_(HANDLING_ROLES),
            Unit.path.startswith(case.unit.path),
        )
        .order_by(Unit.path, User.email_key)
        .limit(300)
        .options(contains_eager(User.unit))  # the units the query joins, not one query each
    )
    visible = [u for u in staff if current_user.can_see_unit(u.unit)]
    return [NONE] + [SelectChoice(str(u.id), f"{u.email} ({u.unit.name})") for u in visible]


def _unit_suggestions(case: Case) -> list[Unit]:
    ids = [int(i) for i in case.unit.path.strip("/").split("/") if i]
    return list(
        db.session.scalars(
            select(Unit)
            .where((Unit.id.in_(ids)) | (Unit.parent_id.in_(ids)), Unit.open_on(local_today()))
            .order_by(Unit.path)
            .limit(400)
        )
    )


def _case_page(
    case: Case, form: ActionForm | None = None, status: int = 200, message=None, wrong=()
):
    """The case page; a refused move's message on top, with a link to each field in wrong."""
    form = form or ActionForm(formdata=None)
    form.handler.choices = _handler_choices(case)
    # Its latest history lines with who wrote each, in three queries however many there are.
    history, history_total = latest_lines(case.id, request.args.get("history") == "all")
    return render_template(
        "feedback/staff/case.html",
        case=case,
        history=history,
        history_total=history_total,
        form=form,
        actions=allowed_actions(case.state, case.outcome, current_user.role),
        units=_unit_suggestions(case),
        message=message,
        wrong=wrong,
        version=case.version,
    ), status


@bp.get("/cases/<int:case_id>")
def case_page(case_id: int):
    case = _case_or_abort(case_id)
    _finish_photos(case)
    return _case_page(case)


def _finish_photos(case: Case) -> None:
    """Re-encode the case's photos still as the citizen sent them, before anyone sees them."""
    for photo_id in services.pending_photos([case.id]):
        if services.finish_photo(photo_id):
            db.session.commit()


@bp.post("/cases/<int:case_id>")
def act(case_id: int):
    case = _case_or_abort(case_id)
    form = ActionForm()
    form.handler.choices = _handler_choices(case)
    if not form.validate():
        return _refused(case, form)
    unit = None
    if form.unit.data:
        unit = db.session.scalar(select(Unit).where(Unit.code == form.unit.data.strip()))
        if unit is None:
            form.unit.errors = [_("No unit has this code.")]
            return _refused(case, form)
        if not unit.is_open_on(local_today()):
            form.unit.errors = [_("This unit has closed: choose the unit that took over its work.")]
            return _refused(case, form)
    handler = db.session.get(User, int(form.handler.data)) if form.handler.data else None
    if handler is not None and unit is None and form.action.data == "assign":
        unit = handler.unit
    try:
        services.apply_action(
            case, form.action.data, current_user, form.version.data, form.note.data,
            outcome=form.outcome.data or None, unit=unit, handler=handler,
            agency=form.agency.data, answer=form.answer.data, summary=form.summary.data,
            published_answer=form.published_answer.data,
        )  # fmt: skip
        db.session.commit()
    except IllegalMove as e:
        db.session.rollback()
        if e.field is not None:  # something typed or chosen to fix: said beside it
            form[e.field].errors = [str(e)]
            return _refused(db.get_or_404(Case, case_id), form)
        return _case_page(db.get_or_404(Case, case_id), form, 409, str(e))
    except (Conflict, StaleDataError):
        db.session.rollback()
        fresh = db.get_or_404(Case, case_id)
        return _case_page(fresh, _keep(form, fresh), 409, _conflict_message())
    flash(_("Saved."), "ok")
    if not services.can_handle(current_user, case):  # transferred out of this account's scope
        return redirect(url_for("feedback_staff.cases"), 303)
    return redirect(url_for("feedback_staff.case_page", case_id=case.id), 303)


# The fields each move's form shows, beside the note that all of them have.
MOVE_FIELDS = {
    "classify": ("outcome",),
    "assign": ("unit", "handler"),
    "transfer": ("unit",),
    "forward": ("agency",),
    "answer": ("answer",),
    "publish": ("summary", "published_answer"),
}


def _refused(case: Case, form: ActionForm):
    """Show the case again with what was typed and each message beside its field."""
    # A message for a field this move's form does not show (the hidden action and version, a
    # field of another move in a forged post) has nothing to stand beside: it goes on top.
    shown = (*MOVE_FIELDS.get(form.action.data, ()), "note")  # in the order of the page
    hidden = [e for name, errors in form.errors.items() if name not in shown for e in errors]
    wrong = [form[name] for name in shown if form[name].errors]
    message = hidden[0] if hidden else _("The form has problems: see below.")
    return _case_page(case, form, 422, message, wrong)


def _keep(form: ActionForm, fresh: Case) -> ActionForm:
    """Keep what the second editor wrote; the page shows the case as it is now."""
    form.version.data = fresh.version
    return form


def _conflict_message() -> str:
    return _(
        "Someone else changed this case while you were working on it. The page now shows "
        "the case as it is; what you wrote is kept below. Check it and send again if it "
        "still applies."
    )


@bp.get("/cases/<int:case_id>/photos/<int:position>.jpg")
def photo(case_id: int, position: int):
    case = _case_or_abort(case_id)
    _finish_photos(case)
    image = db.session.scalar(
        select(CasePhoto).where(CasePhoto.case_id == case.id, CasePhoto.position == position)
    )
    if image is None:
        abort(404)
    return Response(
        image.data,
        mimetype="image/jpeg",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )

"""Back office for survey points: list them, download their posters, read and exclude their
answers; import a file of paper forms."""

import flask
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from core.accounts import units_in_scope
from core.auth import acting_account, require_roles
from core.csvfile import FileProblems, shown
from core.extensions import csrf, db
from core.forms import read_upload, without_direction_controls
from core.i18n import safe_next
from core.models import Role, Unit, local_today
from core.paging import page_number
from survey import history, importer, integrity, poster, questionnaires, services
from survey.forms import ImportForm
from survey.models import CRITERIA, Exclusion, Response, SurveyPoint
from survey.wording import CHANNEL_LABELS, flag_labels, flag_meanings

bp = Blueprint("survey_staff", __name__, url_prefix="/staff")
POINT_ROLES = (Role.ADMIN, Role.MANAGER, Role.HANDLER)
# The figures rate the unit's own staff: leaving an answer out of them is for its managers.
EXCLUDE_ROLES = (Role.ADMIN, Role.MANAGER)
# Adding, renaming and retiring points (views_points.py), and importing a file of paper forms.
MANAGING_ROLES = (Role.ADMIN, Role.MANAGER)
# A commune's few points fit on one page; a province's thousands are counted a page at a time.
POINTS_PER_PAGE = 100


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def visible_units() -> list[Unit]:
    """Return the units the current account may manage, in tree order."""
    return units_in_scope(current_user)


@bp.get("/")
@require_roles(*POINT_ROLES)
def points():
    """The points in scope a page at a time, in tree order, each with its answers' counts."""
    page = db.paginate(
        services.points_in_scope(current_user), page=page_number(), per_page=POINTS_PER_PAGE
    )
    by_unit: dict[int, list[SurveyPoint]] = {}
    for point in page.items:
        by_unit.setdefault(point.unit_id, []).append(point)
    units = db.session.scalars(select(Unit).where(Unit.id.in_(by_unit)).order_by(Unit.path))
    return render_template(
        "staff/points.html",
        page=page,
        units=list(units),
        by_unit=by_unit,
        counts=services.point_counts([p.id for p in page.items]),
        base_url=current_app.config["PUBLIC_BASE_URL"],
        can_manage=current_user.role in MANAGING_ROLES,
        today=local_today(),
    )


@bp.get("/points/<token>/poster.<fmt>")
@require_roles(*POINT_ROLES)
def point_poster(token: str, fmt: str):
    point = services.point_by_token(token)
    if point is None:
        abort(404)
    if not current_user.can_see_unit(point.unit):
        abort(403)
    if not point.in_use_on(local_today()):
        abort(410)  # its QR code says the point is no longer in use
    if fmt not in poster.FORMATS:
        abort(404)
    size = request.args.get("size", "A4").upper()
    if size not in poster.PAPER_SIZES:
        abort(400)
    url = services.point_url(point, current_app.config["PUBLIC_BASE_URL"])
    data = poster.make_poster(point.unit.name, point.label, url, fmt, size)
    filename = f"poster-{point.unit.code}-{point.id}-{size}.{fmt}"
    return flask.Response(
        data,
        mimetype=poster.FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/points/<token>/responses")
@require_roles(*POINT_ROLES)
def point_responses(token: str):
    """A point's answers, newest first (or only the flagged ones), with exclusion and its undo."""
    point = services.point_by_token(token)
    if point is None:
        abort(404)
    if not current_user.can_see_unit(point.unit):
        abort(403)
    only_flagged = request.args.get("flagged") == "1"
    query = select(Response).where(Response.point_id == point.id)
    if only_flagged:
        query = query.where(Response.flags != "")
    page = db.paginate(
        query.order_by(Response.submitted_at.desc(), Response.id.desc()),
        page=page_number(),
        per_page=50,
        count=False,  # the counts below hold the total: not a second pass over the answers
    )
    counts = services.counts_of_point(point.id)
    page.total = counts.get("flagged" if only_flagged else "total", 0)
    ids = [r.id for r in page.items]
    exclusions = {
        e.response_id: e
        for e in db.session.scalars(
            select(Exclusion).where(Exclusion.response_id.in_(ids), Exclusion.undone_at.is_(None))
        )
    }
    return render_template(
        "staff/point_responses.html", point=point, page=page, exclusions=exclusions,
        counts=counts,
        only_flagged=only_flagged, columns=[c.lower() for c in CRITERIA],
        can_exclude=current_user.role in EXCLUDE_ROLES, as_written=without_direction_controls,
        channel_labels=CHANNEL_LABELS, flag_labels=flag_labels, flag_meanings=flag_meanings(),
    )  # fmt: skip


def _response_in_scope(response_id: int) -> Response:
    response = db.get_or_404(Response, response_id)
    if not current_user.can_see_unit(db.session.get(Unit, response.unit_id)):
        abort(403)
    return response


@bp.post("/responses/<int:response_id>/exclude")
@require_roles(*EXCLUDE_ROLES)
def exclude(response_id: int):
    response = _response_in_scope(response_id)
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > 500:
        flash(_("Say why the response is excluded (500 characters at most)."), "error")
    else:
        integrity.exclude_response(response, current_user, reason)
        db.session.commit()
        flash(_("The response is now left out of the figures."), "success")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/responses/<int:response_id>/restore")
@require_roles(*EXCLUDE_ROLES)
def restore(response_id: int):
    response = _response_in_scope(response_id)
    if integrity.undo_exclusion(response, current_user):
        db.session.commit()
        flash(_("The response counts in the figures again."), "success")
    return redirect(safe_next(request.form.get("next")))


@bp.route("/responses/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, once the file's larger size limit is set
@require_roles(*MANAGING_ROLES)
def import_file():
    """Import a CSV file of paper forms whole, as `responses import` does, within one's units."""
    form = read_upload(ImportForm, current_app.config["RESPONSES_IMPORT_MAX_BYTES"])
    if form is None:
        return _import_page(ImportForm(formdata=None), 413, too_large=True)
    if not form.validate_on_submit():
        return _import_page(form, 422 if form.is_submitted() else 200)
    raw = form.file.data.read()
    again = bool(form.again.data) and form.again.data == importer.digest_of(raw)
    admin = current_user.role is Role.ADMIN
    try:
        done = importer.import_file(
            raw,
            form.file.data.filename or "",
            actor=acting_account(),
            again=again,
            open_cases=form.open_cases.data,
            scope=None if admin else {u.id for u in visible_units()},
        )
    except importer.AlreadyImported as e:
        return _import_page(form, 409, earlier=e.earlier)
    except FileProblems as e:
        db.session.rollback()
        return _import_page(form, 422, problems=e)
    db.session.commit()
    importer.responses_imported.send(current_app._get_current_object(), count=done.count)
    flash(
        ngettext(
            "%(n)s response imported.",
            "%(n)s responses imported.",
            done.count,
            n=format_decimal(done.count),
        ),
        "ok",
    )
    if done.asked:
        flash(_household_register_note(done), "ok")
    return redirect(url_for("survey_staff.import_file"), 303)


def _household_register_note(done: importer.Imported) -> str:
    if done.cases_opened:
        return ngettext(
            "%(n)s of them says a paper household register was asked for: a PAKN case was "
            "opened for it.",
            "%(n)s of them say a paper household register was asked for: a PAKN case was "
            "opened for each.",
            done.asked,
            n=format_decimal(done.asked),
        )
    return ngettext(
        "%(n)s of them says a paper household register was asked for: no PAKN case was "
        "opened for it.",
        "%(n)s of them say a paper household register was asked for: no PAKN case was opened "
        "for them.",
        done.asked,
        n=format_decimal(done.asked),
    )


def _import_page(form: ImportForm, status: int, problems=None, earlier=None, too_large=False):
    return render_template(
        "staff/import.html",
        form=form,
        **shown(problems),
        earlier=earlier,
        too_large=too_large,
        max_mb=current_app.config["RESPONSES_IMPORT_MAX_BYTES"] >> 20,
        recent=history.recent_imports(current_user),
        procedures=_listed_procedures(),
    ), status


def _listed_procedures() -> list[dict]:
    """The current questionnaire's procedures, which a file's procedure column names."""
    questionnaire = questionnaires.current_questionnaire()
    return questionnaire.data.get("procedures", []) if questionnaire else []

"""Back office for survey points: administrators and managers add, rename and retire those of
their units; handlers only see them (views_staff.py)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from core.auth import acting_account, require_roles
from core.extensions import db
from core.forms import NAME_MAX_LENGTH, new_key
from core.lazytext import lazy_gettext as _l
from core.models import local_today, open_today
from core.unit_tree import register_unit_count, unit_by_code
from survey import history, services
from survey.forms import LabelForm, NewPointForm, RetireForm
from survey.models import SurveyPoint
from survey.views_staff import MANAGING_ROLES, visible_units

bp = Blueprint("survey_points", __name__, url_prefix="/staff")
# The unit tree's page (core/views_units.py) counts each unit's points in use.
bp.record_once(
    lambda state: register_unit_count(
        state.app, _l("Active survey points"), services.active_points_by_unit
    )
)


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def _listed(point: SurveyPoint) -> str:
    """The points page, at the point's row."""
    return url_for("survey_staff.points", _anchor=f"point-{point.token}")


def _new_point_form() -> NewPointForm:
    form = NewPointForm()
    form.set_units(open_today(visible_units()))
    if not form.is_submitted():
        form.key.data = new_key()
        form.unit.data = request.args.get("unit", "")[:20]  # "Add a point" beside a unit
    return form


@bp.route("/points/new", methods=["GET", "POST"])
@require_roles(*MANAGING_ROLES)
def new_point():
    form = _new_point_form()
    if form.validate_on_submit():
        # The unit list holds only the units in scope: a forged one is refused as a choice.
        unit = unit_by_code(form.unit.data)
        args = (unit, form.label.data, form.key.data, current_app.secret_key)
        point = services.add_point_once(*args, actor=acting_account())
        try:
            db.session.commit()
        except IntegrityError:  # the same form, sent at the same instant, saved first
            db.session.rollback()
            point = services.add_point_once(*args, actor=acting_account())
        flash(_("Survey point %(label)s added to %(unit)s.", label=point.label,
                unit=point.unit.name), "ok")  # fmt: skip
        return redirect(_listed(point), 303)
    page = render_template("staff/point_new.html", form=form, label_max=NAME_MAX_LENGTH)
    return page, (422 if form.errors else 200)


def _point(token: str) -> SurveyPoint:
    """The point of the URL, if the signed-in account's units hold it."""
    point = services.point_by_token(token)
    if point is None:
        abort(404)
    if not current_user.can_see_unit(point.unit):
        abort(403)
    return point


def _point_page(point: SurveyPoint, status: int = 200, **forms):
    """The point's page with its forms, those given (refused ones) in place of fresh ones."""
    forms.setdefault("label_form", LabelForm(formdata=None, label=point.label))
    forms.setdefault("retire_form", RetireForm(formdata=None))
    page = render_template(
        "staff/point.html",
        point=point,
        url=services.point_url(point, current_app.config["PUBLIC_BASE_URL"]),
        label_max=NAME_MAX_LENGTH,
        history=history.point_history(point),
        actions=history.ACTION_LABELS,
        today=local_today(),
        **forms,
    )
    return page, status


@bp.get("/points/<token>")
@require_roles(*MANAGING_ROLES)
def point(token: str):
    return _point_page(_point(token))


@bp.post("/points/<token>")
@require_roles(*MANAGING_ROLES)
def rename(token: str):
    point = _point(token)
    form = LabelForm()
    if form.validate_on_submit():
        services.rename_point(point, form.label.data, actor=acting_account())
        db.session.commit()
        flash(_("Saved."), "ok")
        return redirect(_listed(point), 303)
    return _point_page(point, 422, label_form=form)


@bp.post("/points/<token>/retire")
@require_roles(*MANAGING_ROLES)
def retire(token: str):
    point = _point(token)
    form = RetireForm()
    if not point.active:
        # Sent twice, or from a page opened before: it stays retired since that day.
        flash(_("%(label)s was already retired.", label=point.label), "ok")
        return redirect(_listed(point), 303)
    if form.validate_on_submit():
        services.retire_point(point, actor=acting_account())
        db.session.commit()
        flash(_("%(label)s is retired: its QR code now says it is no longer in use.",
                label=point.label), "ok")  # fmt: skip
        return redirect(_listed(point), 303)
    return _point_page(point, 422, retire_form=form)

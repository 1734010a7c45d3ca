"""Back office for survey points: list them and download their posters."""

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from core.auth import require_roles
from core.extensions import db
from core.models import Role, Unit
from survey import poster, services
from survey.models import SurveyPoint

bp = Blueprint("survey_staff", __name__, url_prefix="/staff")
POINT_ROLES = (Role.ADMIN, Role.MANAGER, Role.HANDLER)


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def visible_units() -> list[Unit]:
    """Return the units the current account may manage, in tree order."""
    query = select(Unit).order_by(Unit.path)
    if current_user.role is not Role.ADMIN:
        if current_user.unit is None:
            return []
        if current_user.role is Role.MANAGER:
            query = query.where(Unit.path.startswith(current_user.unit.path))
        else:
            query = query.where(Unit.id == current_user.unit_id)
    return list(db.session.scalars(query))


@bp.get("/")
@require_roles(*POINT_ROLES)
def points():
    units = visible_units()
    unit_ids = [u.id for u in units]
    points = db.session.scalars(
        select(SurveyPoint)
        .where(SurveyPoint.unit_id.in_(unit_ids))
        .order_by(SurveyPoint.unit_id, SurveyPoint.id)
    ).all()
    by_unit: dict[int, list[SurveyPoint]] = {}
    for point in points:
        by_unit.setdefault(point.unit_id, []).append(point)
    return render_template(
        "staff/points.html",
        units=[u for u in units if u.id in by_unit],
        by_unit=by_unit,
        counts=services.point_counts(unit_ids),
        base_url=current_app.config["PUBLIC_BASE_URL"],
    )


@bp.get("/points/<token>/poster.<fmt>")
@require_roles(*POINT_ROLES)
def point_poster(token: str, fmt: str):
    point = services.point_by_token(token)
    if point is None:
        abort(404)
    if not current_user.can_see_unit(point.unit):
        abort(403)
    if fmt not in poster.FORMATS:
        abort(404)
    size = request.args.get("size", "A4").upper()
    if size not in poster.PAPER_SIZES:
        abort(400)
    url = services.point_url(point, current_app.config["PUBLIC_BASE_URL"])
    data = poster.make_poster(point.unit.name, url, fmt, size)
    filename = f"poster-{point.unit.code}-{point.id}-{size}.{fmt}"
    return Response(
        data,
        mimetype=poster.FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

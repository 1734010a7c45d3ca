"""Administrators' pages: the declared days off and make-up working days, partner API keys."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from core.accounts import units_in_scope
from core.apikeys import ApiKey, Scope, create_key
from core.auth import require_roles
from core.extensions import db
from core.i18n import vietnamese_choice
from core.models import Role, Unit, open_today, utcnow
from feedback.deadlines import package_days
from feedback.forms import KEY_SCOPES, ApiKeyForm, DeclaredDayForm, EmptyForm
from feedback.models import DeclaredDay
from feedback.templating import today

bp = Blueprint("feedback_admin", __name__, url_prefix="/staff")


@bp.before_request
@login_required
@require_roles(Role.ADMIN)
def require_admin():
    """Only administrators change the calendar and the keys."""


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    form = DeclaredDayForm()
    if form.validate_on_submit():
        working = form.working.data == "working"
        for attempt in range(2):  # again if the same day was declared at the same instant
            existing = db.session.scalar(
                select(DeclaredDay).where(DeclaredDay.day == form.day.data)
            )
            if existing is None:
                existing = DeclaredDay(day=form.day.data)
                db.session.add(existing)
            existing.working = working
            existing.note = (form.note.data or "").strip()
            existing.created_by_id = current_user.id
            existing.created_at = utcnow()
            try:
                db.session.commit()
                break
            except IntegrityError:
                db.session.rollback()
                if attempt:
                    raise
        flash(_("Saved. Deadlines of new moves use it from now on."), "ok")
        return redirect(url_for("feedback_admin.calendar", year=form.day.data.year), 303)
    try:
        year = int(request.args.get("year", today().year))
        date(year, 1, 1)
    except (ValueError, OverflowError):  # OverflowError: a year past C's long
        year = today().year
    declared = db.session.scalars(
        select(DeclaredDay)
        .where(DeclaredDay.day >= date(year, 1, 1), DeclaredDay.day <= date(year, 12, 31))
        .order_by(DeclaredDay.day)
    ).all()
    holidays, workdays = package_days(year)
    return render_template(
        "feedback/staff/calendar.html",
        form=form,
        declared=declared,
        year=year,
        holidays=sorted(holidays),
        package_workdays=sorted(workdays),
        delete_form=EmptyForm(),
    ), (422 if form.is_submitted() else 200)


@bp.post("/calendar/<int:day_id>/delete")
def delete_day(day_id: int):
    form = EmptyForm()
    if form.validate_on_submit():
        day = db.get_or_404(DeclaredDay, day_id)
        year = day.day.year
        db.session.delete(day)
        db.session.commit()
        flash(_("Deleted."), "ok")
        return redirect(url_for("feedback_admin.calendar", year=year), 303)
    return redirect(url_for("feedback_admin.calendar"), 303)


def _key_form(**kwargs) -> ApiKeyForm:
    """The new key's form, its unit choices every unit that exists today in tree order after
    "All units"."""
    form = ApiKeyForm(**kwargs)
    units = [
        vietnamese_choice(str(u.id), f"{u.code} – {u.name}")
        for u in open_today(units_in_scope(current_user))
    ]
    form.unit.choices = [SelectChoice("", _("All units")), *units]
    return form


@bp.route("/apikeys", methods=["GET", "POST"])
def api_keys():
    form = _key_form()
    new_key = None
    if form.validate_on_submit():
        name = form.name.data.strip()
        taken = db.session.scalar(select(ApiKey).where(ApiKey.name == name)) is not None
        if not taken:
            unit = db.session.get(Unit, form.unit.data) if form.unit.data else None
            _record, new_key = create_key(name, Scope(form.scope.data), unit)
            try:
                db.session.commit()
            except IntegrityError:  # the same name, sent at the same instant, saved first
                db.session.rollback()
                taken, new_key = True, None
        if taken:
            form.name.errors.append(_("A key with this name already exists."))
        else:
            form = _key_form(formdata=None)
    keys = db.session.scalars(
        select(ApiKey)
        .options(selectinload(ApiKey.unit))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)
    )
    response = render_template(
        "feedback/staff/apikeys.html",
        form=form,
        keys=list(keys),
        new_key=new_key,
        revoke_form=EmptyForm(),
        scope_names=KEY_SCOPES,
    )
    status = 422 if form.errors else 200
    # The new key is shown once, in this response only: never cached.
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/apikeys/<int:key_id>/revoke")
def revoke_key(key_id: int):
    form = EmptyForm()
    if form.validate_on_submit():
        key = db.get_or_404(ApiKey, key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            db.session.commit()
        flash(_("Key %(name)s revoked.", name=key.name), "ok")
    return redirect(url_for("feedback_admin.api_keys"), 303)

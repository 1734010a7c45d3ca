"""Staff accounts in the back office: administrators and managers manage those of their scope.
New accounts and their invitations: views_invitations.py; one's own: views_own_account.py."""

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import false
from sqlalchemy.orm import selectinload

from core import accounts, invitations
from core.account_forms import (
    ACTION_LABELS,
    ROLE_LABELS,
    ButtonForm,
    RoleUnitForm,
    SetPasswordForm,
)
from core.auth import acting_account, require_roles
from core.extensions import db
from core.mail import mail_on
from core.models import Role, User, open_today
from core.paging import page_number
from core.unit_tree import unit_by_code
from core.views_own_account import signed_in_again

bp = Blueprint("accounts", __name__, url_prefix="/staff")
MANAGING_ROLES = (Role.ADMIN, Role.MANAGER)
PAGE_SIZE = 50
# The flashed message that is an invitation's link, shown once with mail off (staff/user.html).
INVITATION_LINK = "invitation-link"


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def with_choices(form_class, account: User | None = None, **kwargs):
    """The form, its roles and units those the signed-in account may give: those that exist
    today, and the account's own unit even closed, so that its page can change its role."""
    form = form_class(**kwargs)
    form.set_choices(
        accounts.roles_given_by(current_user),
        open_today(accounts.units_given_by(current_user), keep=account and account.unit),
        unit_optional=current_user.role is Role.ADMIN,
    )
    return form


@bp.get("/users")
@require_roles(*MANAGING_ROLES)
def users():
    unit = unknown = None
    if code := request.args.get("unit", "").strip()[:20]:
        unit = unit_by_code(code)
        if unit is None:  # said on the page, with the filter to correct it (as the units page)
            unknown = code
        elif not current_user.can_see_unit(unit):
            abort(403)
    role = request.args.get("role")
    role = Role(role) if role in set(Role) else None
    query = accounts.accounts_query(current_user, unit, role).options(selectinload(User.unit))
    if unknown:
        query = query.where(false())
    page = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "staff/users.html",
        page=page,
        unit=unit,
        unknown=unknown,
        role=role,
        roles=ROLE_LABELS,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    ), 404 if unknown else 200


def account_of(user_id: int, manage: bool = True) -> User:
    """The account of the URL, if the signed-in one may see it (manage: and change it)."""
    account = db.get_or_404(User, user_id)
    allowed = accounts.can_manage if manage else accounts.can_see
    if not allowed(current_user, account):
        abort(403)
    return account


def account_page(account: User, status: int = 200, **forms):
    """The account's page with its forms, those given (refused ones) in place of fresh ones."""
    if "role_form" not in forms:
        forms["role_form"] = with_choices(
            RoleUnitForm,
            account,
            formdata=None,
            role=account.role,
            unit=account.unit and account.unit.code,
        )
    forms.setdefault("password_form", SetPasswordForm(formdata=None))
    forms.setdefault("button_form", ButtonForm(formdata=None))
    forms.setdefault("invite_form", ButtonForm(formdata=None))
    invitation = None if account.has_password else invitations.latest(account)
    page = render_template(
        "staff/user.html",
        account=account,
        roles=ROLE_LABELS,
        manageable=accounts.can_manage(current_user, account),
        own=account.id == current_user.id,
        history=accounts.account_history(account),
        actions=ACTION_LABELS,
        invitation=invitation,
        standing=invitation and invitations.standing(invitation),
        mail=mail_on(),
        **forms,
    )
    return page, status


@bp.get("/users/<int:user_id>")
@require_roles(*MANAGING_ROLES)
def user(user_id: int):
    page, status = account_page(account_of(user_id, manage=False))
    response = make_response(page, status)
    if any(c == INVITATION_LINK for c, _m in get_flashed_messages(with_categories=True)):
        response.headers["Cache-Control"] = "no-store"  # the link, kept by no cache
    return response


@bp.post("/users/<int:user_id>")
@require_roles(*MANAGING_ROLES)
def change_role(user_id: int):
    account = account_of(user_id)
    form = with_choices(RoleUnitForm, account)
    if form.validate_on_submit():
        role = Role(form.role.data)
        if account.id == current_user.id and role is not account.role:
            form.role.errors.append(_("You cannot change your own role."))
        else:
            unit = unit_by_code(form.unit.data) if form.unit.data else None
            try:
                accounts.change_role_and_unit(account, role, unit, actor=acting_account())
            except accounts.LastAdmin:
                form.role.errors.append(_("This is the last active administrator."))
            else:
                db.session.commit()
                flash(_("Saved."), "ok")
                return redirect(url_for("accounts.user", user_id=account.id), 303)
    return account_page(account, 422, role_form=form)


@bp.post("/users/<int:user_id>/password")
@require_roles(*MANAGING_ROLES)
def set_password(user_id: int):
    account = account_of(user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        if account.id == current_user.id:
            form.password.errors.append(
                _("Change your own password on its page, giving the current one.")
            )
        else:
            accounts.set_password(account, form.password.data, actor=acting_account())
            db.session.commit()
            flash(
                _("New password set for %(email)s; its sessions have ended.", email=account.email),
                "ok",
            )
            return redirect(url_for("accounts.user", user_id=account.id), 303)
    return account_page(account, 422, password_form=form)


def _set_active(user_id: int, active: bool):
    account = account_of(user_id)
    form = ButtonForm()
    if form.validate_on_submit():
        if account.id == current_user.id and not active:
            form.form_errors.append(_("You cannot deactivate your own account."))
        else:
            try:
                accounts.set_active(account, active, actor=acting_account())
            except accounts.LastAdmin:
                form.form_errors.append(_("This is the last active administrator."))
            else:
                db.session.commit()
                if active:
                    flash(_("Account %(email)s activated.", email=account.email), "ok")
                else:
                    flash(_("Account %(email)s deactivated.", email=account.email), "ok")
                return redirect(url_for("accounts.user", user_id=account.id), 303)
    return account_page(account, 422, button_form=form)


@bp.post("/users/<int:user_id>/deactivate")
@require_roles(*MANAGING_ROLES)
def deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@require_roles(*MANAGING_ROLES)
def activate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/sessions")
@require_roles(*MANAGING_ROLES)
def end_sessions(user_id: int):
    account = account_of(user_id)
    form = ButtonForm()
    if form.validate_on_submit():
        accounts.end_sessions(account, actor=acting_account())
        db.session.commit()
        if account.id == current_user.id:
            signed_in_again()  # as on one's own page: this session goes on
            flash(_("You are signed out of every other device."), "ok")
        else:
            flash(_("Every session of %(email)s has ended.", email=account.email), "ok")
        return redirect(url_for("accounts.user", user_id=account.id), 303)
    return account_page(account, 422, button_form=form)

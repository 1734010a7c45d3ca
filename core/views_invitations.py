"""New staff accounts and their invitations: an account is made with no password and its owner
chooses the first one with an e-mailed link (core/invitations.py), or with mail off a link shown
once to its creator; the link's page is the reset's (views_reset.py)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.exc import IntegrityError

from core import accounts, invitations, password_reset
from core.account_forms import ButtonForm, NewAccountForm
from core.auth import acting_account, require_roles
from core.extensions import db
from core.mail import mail_on
from core.models import Role, User
from core.unit_tree import unit_by_code
from core.views_accounts import (
    INVITATION_LINK,
    MANAGING_ROLES,
    account_of,
    account_page,
    with_choices,
)

bp = Blueprint("invitations", __name__, url_prefix="/staff")


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


@bp.route("/users/new", methods=["GET", "POST"])
@require_roles(*MANAGING_ROLES)
def new_user():
    form = with_choices(NewAccountForm)
    if form.validate_on_submit():
        unit = unit_by_code(form.unit.data) if form.unit.data else None
        actor = acting_account()
        role = Role(form.role.data)
        user = accounts.create_account(form.email.data, role, unit, None, actor=actor)
        # In the creator's language: the account has chosen none yet.
        token = invitations.invite(user, str(get_locale()), actor=actor)
        try:
            db.session.commit()
        except IntegrityError:  # the same address, sent at the same instant, saved first
            db.session.rollback()
            form.email.errors.append(_("An account with this e-mail already exists."))
        else:
            flash(_("Account %(email)s created.", email=user.email), "ok")
            _invitation_made(user, token)
            return redirect(url_for("accounts.user", user_id=user.id), 303)
    status = 422 if form.errors else 200
    return render_template("staff/user_new.html", form=form, mail=mail_on()), status


@bp.post("/users/<int:user_id>/invite")
@require_roles(*MANAGING_ROLES)
def invite(user_id: int):
    account = account_of(user_id)
    form = ButtonForm()
    if form.validate_on_submit():
        if account.has_password:
            form.form_errors.append(_("This account has a password already."))
        elif not account.active:
            form.form_errors.append(_("Activate the account first."))
        else:
            locale = account.locale or str(get_locale())
            token = invitations.invite(account, locale, actor=acting_account())
            db.session.commit()
            _invitation_made(account, token)
            return redirect(url_for("accounts.user", user_id=account.id), 303)
    return account_page(account, 422, invite_form=form)


def _invitation_made(user: User, token: str | None) -> None:
    """Say where the invitation went; with mail off, hand its link to the next page, once."""
    days = invitations.days_valid()
    if token is None:
        flash(_("An e-mail invites %(email)s to choose a password; its link works once, for "
                "%(days)d days.", email=user.email, days=days), "ok")  # fmt: skip
    else:
        # In the signed session cookie of the creator's browser, for the one page that shows it.
        flash(password_reset.link_url(token), INVITATION_LINK)

"""A staff member's own account, whatever their role: its password and its sessions."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from core import accounts, auth, throttle
from core.account_forms import ButtonForm, OwnPasswordForm
from core.auth import acting_account
from core.extensions import db

bp = Blueprint("own_account", __name__, url_prefix="/staff/account")


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def signed_in_again() -> None:
    """Give this session the account's new mark: it goes on, the others end."""
    login_user(acting_account())


@bp.post("/sessions")
def end_other_sessions():
    if ButtonForm().validate_on_submit():
        accounts.end_sessions(acting_account(), actor=acting_account())
        db.session.commit()
        signed_in_again()
        flash(_("You are signed out of every other device."), "ok")
    return redirect(url_for("own_account.own_password"), 303)


@bp.route("/password", methods=["GET", "POST"])
def own_password():
    form = OwnPasswordForm()
    status = 200
    if form.validate_on_submit():
        address = throttle.client_address()
        if auth.refused_for_now(current_user.email, address):
            form.current.errors.append(
                _("Too many wrong passwords. Please wait a few minutes and try again.")
            )
            status = 429
        elif auth.authenticate(current_user.email, form.current.data, address) is None:
            form.current.errors.append(_("This is not your current password."))
        else:
            accounts.set_password(acting_account(), form.password.data, actor=acting_account())
            db.session.commit()
            signed_in_again()
            flash(_("Your password is changed. Your other sessions have ended."), "ok")
            return redirect(url_for("own_account.own_password"), 303)
    if form.errors and status == 200:
        status = 422
    return render_template("staff/own_password.html", form=form), status

"""Staff sign-in with a slow hash and a lock after repeated failures."""

import secrets
from datetime import timedelta
from functools import cache, wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from core.extensions import db
from core.forms import Form
from core.i18n import safe_next
from core.models import Role, User, utcnow
from core.nav import home_url

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Please fill in this field.")),
            Email(_l("This is not an e-mail address.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please fill in this field.")), Length(max=200)]
    )


@cache  # made on the first failed sign-in, not at every process's start
def _unusable_hash() -> str:
    """A hash of a random password, made like every account's (models.User.set_password)."""
    return generate_password_hash(secrets.token_urlsafe(), method="scrypt")


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the password is right and the account is not locked; count failures."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    now = utcnow()
    if user is None or not user.active or (user.locked_until and user.locked_until > now):
        # As long as a real check, so the answer's time does not tell which accounts exist.
        check_password_hash(_unusable_hash(), password)
        return None
    if user.check_password(password):
        user.failed_logins = 0
        user.locked_until = None
        return user
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        db.session.commit()
        if user:
            login_user(user)
            target = request.args.get("next")
            return redirect(safe_next(target) if target else home_url())
        flash(_("Wrong e-mail or password, or the account is locked for a while."), "error")
    return render_template("staff/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def require_roles(*roles: Role):
    """Refuse the view to anyone signed in without one of these roles."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator

"""Staff sign-in with a slow hash, and limits on failures that a stranger cannot turn on a user."""

import secrets
from functools import cache, wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from core import throttle
from core.accounts import account_by_email
from core.extensions import db
from core.forms import Form, stripped
from core.i18n import COOKIE as LANGUAGE_COOKIE
from core.i18n import safe_next
from core.lazytext import lazy_gettext as _l
from core.mail import mail_on
from core.models import Role, User, email_key, utcnow
from core.nav import home_url

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    email = EmailField(
        _l("E-mail"),
        filters=[stripped],
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


def _limits(email: str, address: str) -> list[tuple[str, str, tuple[int, int]]]:
    """The failure counts a sign-in is held to: (purpose, who is counted, (limit, seconds)).
    An account is counted by the key it is found by, every spelling of its address as one."""
    config = current_app.config
    account = email_key(email)
    return [
        ("login-pair", f"{account}|{address}", config["LOGIN_PAIR_LIMIT"]),
        ("login-client", address, config["LOGIN_CLIENT_LIMIT"]),
        ("login-account", account, config["LOGIN_ACCOUNT_LIMIT"]),
    ]


def refused_for_now(email: str, address: str) -> bool:
    """Say whether a limit refuses any password for this account from this address for now."""
    now = utcnow()
    limits = _limits(email, address)
    return any(throttle.over_limit(purpose, who, *limit, now) for purpose, who, limit in limits)


def authenticate(email: str, password: str, address: str) -> User | None:
    """Return the user if no limit refuses and the password is right; count failures."""
    now = utcnow()
    limits = _limits(email, address)
    if refused_for_now(email, address):
        # Refused without reading the password, in the time a check takes, as below.
        check_password_hash(_unusable_hash(), password)
        return None
    user = account_by_email(email)
    if user is None or not user.active or not user.has_password:
        # As long as a real check, so the answer's time does not tell which accounts exist,
        # are deactivated or wait for their first password (whose stored value is no hash).
        check_password_hash(_unusable_hash(), password)
    elif user.check_password(password):
        forgive(email, address)  # the user's own typing errors
        return user
    for purpose, who, limit in limits:
        throttle.hit(purpose, who, *limit, now)
    return None


def forgive(email: str, address: str) -> None:
    """Forget the failures of this account from this address: the user has shown it is theirs
    (the right password, or a new one set with an e-mailed link)."""
    purpose, who, (_limit, seconds) = _limits(email, address)[0]
    throttle.forget(purpose, who, seconds, utcnow())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data, throttle.client_address())
        if user:
            user.last_login_at = utcnow()
            _adopt_language(user)
            db.session.commit()
            # A new session for the account: nothing of the one before sign-in is kept, its
            # CSRF token least of all, which whoever planted that cookie could have read.
            session.clear()
            login_user(user)
            target = request.args.get("next")
            return redirect(safe_next(target) if target else home_url())
        db.session.commit()  # the failures counted
        flash(_("Wrong e-mail or password, or the account is locked for a while."), "error")
    return render_template("staff/login.html", form=form, reset_by_mail=mail_on())


def _adopt_language(user: User) -> None:
    """Keep the language this browser was switched to (on the sign-in page, say) as the
    account's choice, when the account has made none yet; a choice made keeps winning. The
    caller commits, with the sign-in's time."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if user.locale is None and chosen in current_app.config["LANGUAGES"]:
        user.locale = chosen


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def acting_account() -> User:
    """The signed-in account itself, not Flask-Login's proxy: what a history records as who
    acted (an account's, a survey point's, an imported file's)."""
    return current_user._get_current_object()


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

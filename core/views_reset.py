"""Staff who forgot their password ask for a link by e-mail and choose a new one with it; a new
account's owner chooses the first one with the link of its invitation (core/invitations.py).

Under /login like sign-in: nobody is signed in here. The asking page answers the same for
every address, and its work (two counts, one look-up, at most one row queued) takes about the
same time whatever the address: the e-mail leaves from cron (`feedback mail` or `users mail`),
never from here.
The link's pages are sent with no Referer to anything they load or lead to, and are not stored
by the browser's cache; the access log cuts the token out (core/redaction.py).
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from core import auth, password_reset, throttle
from core.account_forms import ResetPasswordForm, ResetRequestForm
from core.extensions import db
from core.mail import mail_on
from core.models import LinkPurpose
from core.password_reset import LinkState

bp = Blueprint("password_reset", __name__, url_prefix="/login/reset")


def require_mail():
    """Without mail there is no link to send: the asking page and the reset links do not exist.
    An invitation's link does: with mail off, its creator was shown it to hand over."""
    if not mail_on():
        abort(404)


@bp.after_request
def keep_the_link_to_this_page(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET", "POST"])
def ask():
    require_mail()
    form = ResetRequestForm()
    if form.validate_on_submit():
        if password_reset.over_limit(form.email.data, throttle.client_address()):
            form.email.errors.append(
                _("Too many requests for a link. Please wait a while and try again.")
            )
            return render_template("staff/reset_ask.html", form=form), 429
        password_reset.request_link(form.email.data, str(get_locale()))
        db.session.commit()
        flash(
            _("If an active account uses this address, an e-mail with a link is on its way; "
              "the link works once, for %(minutes)d minutes.",
              minutes=password_reset.minutes_valid()),
            "ok",
        )  # fmt: skip
        return redirect(url_for("auth.login"), 303)
    return render_template("staff/reset_ask.html", form=form), (422 if form.errors else 200)


@bp.route("/<token>", methods=["GET", "POST"])
def choose(token: str):
    state, reset = password_reset.find(token)
    invitation = reset is not None and reset.purpose is LinkPurpose.INVITATION
    if not invitation:
        require_mail()
    if state is not LinkState.GOOD:
        status = 404 if reset is None else 410
        return render_template("staff/reset_dead.html", invitation=invitation), status
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if password_reset.use(reset, form.password.data):
            db.session.commit()
            auth.forgive(reset.user.email, throttle.client_address())
            if invitation:
                flash(_("Your password is set. Sign in with it."), "ok")
            else:
                flash(_("Your password is changed and every session of your account has ended. "
                        "Sign in with the new password."), "ok")  # fmt: skip
            return redirect(url_for("auth.login"), 303)
        db.session.rollback()  # taken at the same instant by another request
        return render_template("staff/reset_dead.html", invitation=invitation), 410
    status = 422 if form.errors else 200
    page = render_template(
        "staff/reset_new.html", form=form, email=reset.user.email, invitation=invitation
    )
    return page, status

"""Language choice: a form's switch button, else a signed-in staff member's account, else the
visible switch (a cookie), else the browser's language, else Vietnamese.

The switch is a link, except on a page holding a form: there it is a button of that form
(SWITCH_FIELD), so that what was typed comes back in the other language (switch_to). Either
way a signed-in staff member's choice is kept on their account too (User.locale), for their
next sign-in and their e-mails.
"""

from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectChoice

from core.errors import render_error
from core.extensions import db
from core.lazytext import lazy_gettext as _l

bp = Blueprint("i18n", __name__)
COOKIE = "lang"
SWITCH_FIELD = "switch_language"
# Each language named in the reader's: what staff choose for a citizen they enter a case for.
LANGUAGE_NAMES = {"vi": _l("Vietnamese"), "en": _l("English")}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    for chosen in (g.get("switched_language"), _account_locale(), request.cookies.get(COOKIE)):
        if chosen in languages:
            return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def _account_locale() -> str | None:
    # A citizen's session holds no account: asking Flask-Login would only mark it "not fresh",
    # a few more bytes in every citizen's cookie for nothing.
    if "_user_id" not in session:
        return None
    return current_user.locale if current_user.is_authenticated else None


def account_language(user) -> str:
    """The language to write to this staff member in: their choice, else the default one."""
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def switch_to() -> str | None:
    """Return the language a form's switch button asked for, now this request's language,
    remembered in the cookie and on the signed-in account (committed); None when the form was
    sent for anything else. A form sent by GET switches by its query, one by POST by its body."""
    sent = request.form if request.method == "POST" else request.args
    code = sent.get(SWITCH_FIELD)
    if code not in current_app.config["LANGUAGES"]:
        return None
    g.switched_language = code
    refresh()  # the locale read so far (if any) was the one before the switch
    g.language_kept = _kept_here()
    if g.language_kept:
        _remember_on_account(code)
    return code


def _kept_here() -> bool:
    """Say whether a choice of language is kept (cookie, account): not a signed-in staff
    member's from another site's link, which a top-level visit follows with the session
    cookie; such a link shows its page in its language once and changes nothing."""
    return not (current_user.is_authenticated and _from_elsewhere())


def _remember_on_account(code: str) -> None:
    """Keep a signed-in staff member's choice on their account, for every device they use."""
    if current_user.is_authenticated and current_user.locale != code:
        current_user.locale = code
        db.session.commit()


def _from_elsewhere() -> bool:
    """Say whether the request came from another site's page, by the browser's Sec-Fetch-Site
    ("none" is an address typed or a bookmark), else its Referer."""
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from not in ("same-origin", "none")
    referrer = request.referrer
    return bool(referrer) and urlsplit(referrer).netloc != request.host


def _remember(response, code: str):
    response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def safe_next(target: str | None) -> str:
    """Return target if it is a path on this site, else the home page."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.get("/lang/<code>")
def switch(code: str):
    # A GET that changes the account, only its language and only from this site's pages
    # (_kept_here), and the cookie beside it, which the link's reader sees at once and sets
    # back with one tap.
    if code not in current_app.config["LANGUAGES"]:
        return render_error(404, _("This language is not offered: choose Tiếng Việt or English."))
    back = redirect(safe_next(request.args.get("next")))
    if not _kept_here():
        return back
    _remember_on_account(code)
    return _remember(back, code)


def in_vietnamese(value) -> Markup:
    """Mark text that is Vietnamese whatever the page's language (a unit's name, a citizen's
    words), so that a screen reader on a page in another language reads it as Vietnamese."""
    if not value or str(get_locale()) == "vi":
        return escape(value)  # on a Vietnamese page the mark would only add bytes
    return Markup('<span lang="vi">%s</span>') % value


def lang_vi() -> Markup:
    """The same mark as an attribute, for an element that holds plain text only (<option>)."""
    return Markup("") if str(get_locale()) == "vi" else Markup(' lang="vi"')


def vietnamese_choice(value: str, label: str) -> SelectChoice:
    """A form's option whose label is Vietnamese whatever the page's language (a unit's name),
    marked as lang_vi marks one: WTForms and the select macro write its render_kw on it."""
    marked = {} if str(get_locale()) == "vi" else {"lang": "vi"}
    return SelectChoice(value, label, render_kw=marked)


def day(value: date | None) -> str:
    """A date as people write it: 25/3/2024 in Vietnamese, 25 Mar 2024 in English."""
    if value is None:
        return ""
    return format_date(value, "d/M/yyyy" if str(get_locale()) == "vi" else "d MMM yyyy")


def month(value: date) -> str:
    """A month as people write it: 2/2024 in Vietnamese, Feb 2024 in English, as `day` does."""
    return format_date(value, "M/yyyy" if str(get_locale()) == "vi" else "MMM yyyy")


def moment(value: datetime) -> str:
    """A stored (UTC) time as people write it, in Vietnam's time and with the year whole, as
    `day` writes a date: 09:58 5/12/2026 in Vietnamese, 5 Dec 2026, 9:58 AM in English."""
    vietnamese = str(get_locale()) == "vi"
    return format_datetime(value, "HH:mm d/M/yyyy" if vietnamese else "d MMM yyyy, h:mm a")


def init_app(app) -> None:
    @app.context_processor
    def language_helpers():
        locale = str(get_locale())
        other = "en" if locale == "vi" else "vi"
        return {"current_locale": locale, "other_locale": other, "switch_field": SWITCH_FIELD}

    @app.after_request
    def vary_on_language(response):
        response.vary.update(("Accept-Language", "Cookie"))  # one header rewrite, not two
        if g.get("switched_language") and g.get("language_kept"):
            _remember(response, g.switched_language)
        return response

    app.jinja_env.filters["datetime"] = moment
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["vi"] = in_vietnamese
    app.jinja_env.globals["lang_vi"] = lang_vi

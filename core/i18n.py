"""Language choice: a visible switch (a cookie), else the browser's language, else Vietnamese.

The switch is a link, except on a page holding a citizen's form: there it is a button of that
form (SWITCH_FIELD), so that what was typed comes back in the other language (switch_to).
"""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request
from flask_babel import format_datetime, format_decimal, get_locale, refresh

bp = Blueprint("i18n", __name__)
COOKIE = "lang"
SWITCH_FIELD = "switch_language"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = g.get("switched_language") or request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def switch_to() -> str | None:
    """Return the language a form's switch button asked for, now this request's language and
    remembered in the cookie; None when the form was sent for anything else."""
    code = request.form.get(SWITCH_FIELD) if request.method == "POST" else None
    if code not in current_app.config["LANGUAGES"]:
        return None
    g.switched_language = code
    refresh()  # the locale read so far (if any) was the one before the switch
    return code


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
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["LANGUAGES"]:
        _remember(response, code)
    return response


def init_app(app) -> None:
    @app.context_processor
    def language_helpers():
        locale = str(get_locale())
        other = "en" if locale == "vi" else "vi"
        return {"current_locale": locale, "other_locale": other, "switch_field": SWITCH_FIELD}

    @app.after_request
    def vary_on_language(response):
        response.vary.update(("Accept-Language", "Cookie"))  # one header rewrite, not two
        if g.get("switched_language"):
            _remember(response, g.switched_language)
        return response

    app.jinja_env.filters["datetime"] = lambda value, fmt="short": format_datetime(value, fmt)
    app.jinja_env.filters["number"] = format_decimal

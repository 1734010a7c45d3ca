"""Language choice: a visible switch (a cookie), else the browser's language, else Vietnamese."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request
from flask_babel import format_datetime, format_decimal, get_locale

bp = Blueprint("i18n", __name__)
COOKIE = "lang"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


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
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def init_app(app) -> None:
    @app.context_processor
    def language_helpers():
        locale = str(get_locale())
        other = "en" if locale == "vi" else "vi"
        return {"current_locale": locale, "other_locale": other}

    @app.after_request
    def vary_on_language(response):
        response.vary.update(("Accept-Language", "Cookie"))  # one header rewrite, not two
        return response

    app.jinja_env.filters["datetime"] = lambda value, fmt="short": format_datetime(value, fmt)
    app.jinja_env.filters["number"] = format_decimal

"""The address that shows a page again by GET, for the language link and for pages that
answer a form sent by POST: Back and Reload there fetch that address rather than send the
form again (static/forget_post.js), and the language link leads there."""

from urllib.parse import urlsplit

from flask import current_app, request

from core.i18n import safe_next


def page_address() -> str:
    """Return the address that shows this page by GET (get_address), else the home page."""
    return get_address() or "/"


def get_address() -> str | None:
    """Return the address that shows this page by GET: its own, when it answers GET; for a
    page answering a POST sent to an address that takes POST only (a form's action beside its
    page), the page the form was on (the Referer, on this site); else None."""
    own = request.full_path.rstrip("?")
    if request.method in ("GET", "HEAD") or _answers_get(request.path):
        return own
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def _answers_get(path: str) -> bool:
    adapter = current_app.url_map.bind(request.host, script_name=request.script_root or None)
    return adapter.test(path, method="GET")


def init_app(app) -> None:
    @app.context_processor
    def address_for_get():
        # Computed when a template asks: most pages answer GET and want request.full_path.
        return {"page_address": page_address, "get_address": get_address}

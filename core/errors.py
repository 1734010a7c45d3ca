"""Error pages in the user's language."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist. Check the address or scan the QR code again."),
    405: lambda: _("This page cannot be used this way."),
    410: lambda: _("This page is no longer in use."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side. Please try again in a moment."),
}


def render_error(status: int, message: str | None = None):
    text = message or MESSAGES.get(status, MESSAGES[500])()
    if request.path.startswith("/api/"):
        # Programs calling the API read JSON, never an HTML page.
        return jsonify({"error": {"status": status, "message": text}}), status
    return render_template("errors/error.html", status=status, message=text), status


def init_app(app) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return render_error(
            400, _("This form has expired or was not sent from this site. Please try again.")
        )

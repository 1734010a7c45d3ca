"""Error pages in the user's language."""

import flask
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

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


class NulCharacter(BadRequest):
    """A NUL character in the path, the query string or a form field: no text holds one, and
    PostgreSQL refuses it in a value stored or compared (a 500 there; SQLite would store it)."""


def _holds_nul(fields) -> bool:
    return any("\x00" in value for _name, value in fields.items(multi=True))


def refuse_nul_in_address() -> None:
    """Refuse a NUL in the path or the query string before any view sees it."""
    if "\x00" in request.path or _holds_nul(request.args):
        raise NulCharacter()


def nul_taken_out(view):
    """Mark a citizen's view whose form takes a NUL out of the text it was typed in and says so
    beside the field (core.forms.Form), rather than refusing it all: the text is kept."""
    view.takes_nul_out = True
    return view


class Request(flask.Request):
    """Refuse a NUL in a form field as the form is read: when the view reads it, under the
    view's own size limit (a PAKN with photos has a larger one). Views marked nul_taken_out
    get the form without it, and the names of the fields it was in (nul_fields)."""

    nul_fields: frozenset[str] = frozenset()

    def _load_form_data(self) -> None:
        super()._load_form_data()
        if not _holds_nul(self.form):
            return
        view = flask.current_app.view_functions.get(self.endpoint)
        if not getattr(view, "takes_nul_out", False):
            raise NulCharacter()
        sent = self.form.items(multi=True)
        self.nul_fields = frozenset(name for name, value in sent if "\x00" in value)
        self.form = self.parameter_storage_class(
            (name, value.replace("\x00", "")) for name, value in self.form.items(multi=True)
        )


def render_error(status: int, message: str | None = None, way_on: tuple | None = None):
    """The error page; way_on, (address, text), is a link to what the message says to do."""
    text = message or MESSAGES.get(status, MESSAGES[500])()
    if request.path.startswith("/api/"):
        # Programs calling the API read JSON, never an HTML page.
        return jsonify({"error": {"status": status, "message": text}}), status
    return render_template("errors/error.html", status=status, message=text, way_on=way_on), status


def init_app(app) -> None:
    for status in MESSAGES:
        app.register_error_handler(status, lambda e, s=status: render_error(s))

    app.request_class = Request
    app.before_request(refuse_nul_in_address)

    @app.errorhandler(NulCharacter)
    def nul_character(_e):
        return render_error(
            400, _("What you sent contains a character that is not text (NUL). Please remove it.")
        )

    @app.errorhandler(CSRFError)
    def csrf_error(_e):
        return render_error(
            400, _("This form has expired or was not sent from this site. Please try again.")
        )

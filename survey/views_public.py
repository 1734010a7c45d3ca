"""The citizen's survey page: /s/<token>."""

import secrets

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from core.errors import render_error
from core.extensions import csrf, db
from survey import services
from survey.forms import survey_form_class

bp = Blueprint("survey", __name__)


def _open_point(token: str):
    """Return the active point for the token, or an error page to show instead."""
    point = services.point_by_token(token)
    if point is None:
        return None, render_error(
            404, _("This survey code is not known. Please scan the QR code at the counter again.")
        )
    if not point.active:
        return None, render_error(
            410, _("This survey point is no longer in use. Please ask the staff at the counter.")
        )
    return point, None


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so that an expired form keeps its answers
def survey(token: str):
    point, error = _open_point(token)
    if error:
        return error
    questionnaire = services.current_questionnaire()
    if questionnaire is None:
        return render_error(503, _("The survey is not ready yet. Please try again later."))
    form = survey_form_class(questionnaire)()
    if not form.is_submitted():
        form.key.data = secrets.token_hex(16)
    elif form.validate():
        _response, _new = services.record_response(
            point, questionnaire, form.answers(), form.key.data
        )
        try:
            db.session.commit()
        except IntegrityError:
            # The same form arrived twice at the same moment: the other request recorded it.
            db.session.rollback()
            if services.response_by_key(form.key.data) is None:
                raise
        return redirect(url_for("survey.thanks", token=token), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "public/survey.html",
        point=point,
        questionnaire=questionnaire.data,
        form=form,
        lang=str(get_locale()),
        form_expired=bool(form.csrf_token.errors),
    ), status


@bp.get("/s/<token>/thanks")
def thanks(token: str):
    point, error = _open_point(token)
    if error:
        return error
    return render_template("public/thanks.html", point=point)

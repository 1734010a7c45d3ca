"""At the counter: the changing presence QR screen, receipt codes, and paper forms."""

import time
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,  # fmt: skip
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from core.auth import acting_account, require_roles
from core.extensions import db
from core.i18n import vietnamese_choice
from core.models import local_today, open_today
from survey import history, integrity, presence, questionnaires, services
from survey.forms import PaperForm, ReceiptForm, SurveyForm, unit_choices
from survey.models import CRITERIA, Channel
from survey.procedures import Procedures
from survey.qr import qr_data_uri
from survey.views_staff import POINT_ROLES, visible_units

bp = Blueprint("survey_counter", __name__, url_prefix="/staff")


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def _active_point_in_scope(token: str):
    point = services.point_by_token(token)
    if point is None:
        abort(404)
    if not current_user.can_see_unit(point.unit):
        abort(403)
    if not point.in_use_on(local_today()):
        abort(410)  # its QR codes say the point is no longer in use
    return point


def _presence_state(point) -> dict:
    """Return the current presence URL, its QR and how long until it changes."""
    window_seconds = current_app.config["PRESENCE_WINDOW_SECONDS"]
    now = time.time()
    window = presence.window_number(now, window_seconds)
    base = services.point_url(point, current_app.config["PUBLIC_BASE_URL"])
    url = f"{base}?c={presence.presence_code(point.secret, point.token, window)}"
    label = _("QR code of the survey for %(unit)s", unit=point.unit.name)
    return {
        "url": url,
        "qr": qr_data_uri(url, label),
        "static_qr": qr_data_uri(base, label),
        "static_url": base,
        "refresh_in": max(5, int((window + 1) * window_seconds - now) + 1),
    }


@bp.get("/points/<token>/display")
@require_roles(*POINT_ROLES)
def display(token: str):
    point = _active_point_in_scope(token)
    return render_template("staff/display.html", point=point, **_presence_state(point))


@bp.get("/points/<token>/display.json")
@require_roles(*POINT_ROLES)
def display_state(token: str):
    """The counter screen's script polls this to change the code without a full reload."""
    response = jsonify(_presence_state(_active_point_in_scope(token)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/receipts", methods=["GET", "POST"])
@require_roles(*POINT_ROLES)
def receipts():
    units = open_today(visible_units())
    questionnaire = questionnaires.current_questionnaire()
    procedures = questionnaire.data.get("procedures", []) if questionnaire else []
    form = ReceiptForm()
    form.unit.choices = unit_choices(units)
    form.procedure.choices = [("", "–")] + [
        vietnamese_choice(p["code"], p["text"]["vi"]) for p in procedures
    ]
    if form.validate_on_submit():
        unit = next(u for u in units if u.code == form.unit.data)
        days = current_app.config["RECEIPT_VALID_DAYS"]
        codes = integrity.issue_receipts(unit, form.count.data, timedelta(days=days),
                                         form.procedure.data or None,
                                         issued_by=acting_account())  # fmt: skip
        db.session.commit()
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        urls = [integrity.receipt_url(c, base) for c in codes]
        printable = [(c, url, qr_data_uri(url, c.code)) for c, url in zip(codes, urls, strict=True)]
        return render_template("staff/receipts_print.html", unit=unit, receipts=printable,
                               base=base)  # fmt: skip
    issues = history.recent_receipt_issues(acting_account())
    names = {p["code"]: p["text"]["vi"] for p in procedures}
    return render_template("staff/receipts.html", form=form, issues=issues, procedures=names)


@bp.route("/paper", methods=["GET", "POST"])
@require_roles(*POINT_ROLES)
def paper():
    """Type in a paper form with the keyboard alone; the citizen page's checks apply."""
    units = open_today(visible_units())
    questionnaire = questionnaires.current_questionnaire()
    if questionnaire is None:
        abort(503)
    form = PaperForm()
    form.procedures = Procedures(questionnaire.data)
    form.unit.choices = unit_choices(units)
    survey_form = None
    if form.validate_on_submit():
        survey_form = SurveyForm(questionnaire, _as_survey_fields(form), csrf=False)
        if survey_form.validate():
            unit = next(u for u in units if u.code == form.unit.data)
            try:
                services.record_response(
                    unit_id=unit.id, point_id=None, questionnaire=questionnaire,
                    answers=survey_form.answers(), submission_key=form.key.data,
                    channel=Channel.PAPER, submitted_at=form.submitted_at(),
                )  # fmt: skip
                db.session.commit()
            except IntegrityError:
                db.session.rollback()  # the same form sent twice at once: one copy is kept
            flash(_("Paper form recorded. Type the next one."), "success")
            # The next form of the pile is most likely of the same unit and day.
            return redirect(
                url_for("survey_counter.paper", unit=unit.code, day=form.day.data.isoformat())
            )
    if not form.is_submitted():
        form.unit.data = request.args.get("unit")
        form.day.data = form.kept_day(request.args.get("day")) or form.day.data
    form.new_key()
    errors = _survey_errors(survey_form, form) if survey_form is not None else []
    return render_template("staff/paper.html", form=form, survey_errors=errors,
                           codes=CRITERIA, questionnaire=questionnaire.data,
                           procedures=form.procedures.listed)  # fmt: skip


def _survey_errors(survey_form, form: PaperForm) -> list[str]:
    """The citizen form's complaints about a typed form, each named as this page names it."""
    # The procedure is checked by the page itself (PaperForm), and sent to it as a code.
    labels = {"HK": form.hk.label.text, "comment": form.comment.label.text}
    lines = []
    for name, errors in survey_form.errors.items():
        prefix = name if name in CRITERIA else labels.get(name)  # the key's needs none
        lines += [f"{prefix}: {e}" if prefix else str(e) for e in errors]
    return lines


def _as_survey_fields(form: PaperForm) -> MultiDict:
    """Spread the typed string of answers over the citizen form's fields."""
    fields = MultiDict(
        {
            "key": form.key.data,
            "HK": form.hk_value(),
            "procedure": form.procedure_code(),
            "comment": form.comment.data or "",
        }
    )
    for code, char in zip(CRITERIA, form.answer_digits(), strict=True):
        fields[code] = "" if char in "-. " else char
    return fields

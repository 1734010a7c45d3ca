"""The citizen's survey: /s/<token> from a counter's QR, /r/<code> from a dossier's receipt."""

import secrets
import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from core.errors import nul_taken_out, render_error
from core.extensions import csrf, db
from core.forms import accented, kept_key, new_key
from core.i18n import switch_to
from core.models import local_today, utcnow
from survey import integrity, presence, questionnaires, services
from survey.forms import SurveyForm, form_token
from survey.models import Channel

bp = Blueprint("survey", __name__)
bp.add_app_template_global(form_token)
DEVICE_COOKIE = "hl_device"


def _open_point(token: str):
    """Return the active point for the token, or an error page to show instead."""
    point = services.point_shown(token)
    if point is None:
        return None, render_error(
            404, _("This survey code is not known. Please scan the QR code at the counter again.")
        )
    # From its unit's closing day, before an import retires it (survey/services.py).
    if not point.in_use_on(local_today()):
        return None, render_error(
            410, _("This survey point is no longer in use. Please ask the staff at the counter.")
        )
    return point, None


def _device() -> str | None:
    return integrity.device_hash(current_app.secret_key, request.cookies.get(DEVICE_COOKIE))


def _with_device_cookie(response):
    """Give the phone a random first-party cookie, renewed when it expires."""
    if not request.cookies.get(DEVICE_COOKIE):
        days = current_app.config["DEVICE_COOKIE_DAYS"]
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(16), max_age=days * 86400,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])  # fmt: skip
    return response


def _survey(unit, point, action: str, channel_for, extra: dict, thanks, claim=None):
    """Show the form or record it; channel_for(form) says how the answer was collected, and
    thanks() makes the page that answers a recorded form."""
    questionnaire = questionnaires.survey_questionnaire()
    if questionnaire is None:
        return render_error(503, _("The survey is not ready yet. Please try again later."))
    # A receipt issued for a procedure says what the citizen came for: asking would be in vain.
    ask = "procedure" not in extra
    if request.method != "POST":
        return _fresh_page(unit, point, action, questionnaire, ask)
    form = SurveyForm(questionnaire)
    if switch_to():
        return _switched_page(unit, point, action, questionnaire, form, ask)
    if form.validate():
        # The thank-you page itself, not a redirect to it: one round trip less on a weak
        # connection; sent again (Reload without scripts), the form's key records nothing
        # new. Made first, so that the answer holds SQLite's one write lock, which the other
        # workers wait for, only for its INSERT and COMMIT.
        page = thanks()
        try:
            response_id, new = services.record_response(
                unit_id=unit.id, point_id=point.id if point else None,
                questionnaire=questionnaire, answers=form.answers() | extra,
                submission_key=form.key.data, channel=channel_for(form),
                device=_device(), config=current_app.config, claim=claim,
            )  # fmt: skip
            if new and claim is not None:
                claim.receipt.response_id = response_id
            db.session.commit()
        except services.ReceiptAlreadyUsed:
            db.session.rollback()
            used = render_template("public/receipt_used.html", unit=unit, receipt=claim.receipt)
            return used, 409
        except IntegrityError:
            # The form's key was recorded already: sent twice, or both copies at one instant.
            db.session.rollback()
            if services.response_by_key(form.key.data) is None:
                raise
        return page
    page = render_template(
        "public/survey.html", unit=unit, point=point, action=action,
        questionnaire=questionnaire.data, lang=str(get_locale()), form=form,
        form_expired=bool(form.csrf_token.errors), key=form.key.data or "",
        presence=form.presence.data, ask_procedure=ask,
    )  # fmt: skip
    return _with_device_cookie(current_app.make_response(page)), 422


def _fresh_page(unit, point, action: str, questionnaire, ask_procedure: bool):
    """Show a blank form: a new key around the questions kept for the version and language."""
    lang = str(get_locale())
    page = render_template(
        "public/survey.html", unit=unit, point=point, action=action,
        questionnaire=questionnaire.data, lang=lang, form=None, key=new_key(),
        presence=request.args.get("c", "")[:40],
        questions_html=_fresh_questions(questionnaire, lang, ask_procedure),
    )  # fmt: skip
    return _with_device_cookie(current_app.make_response(page)), 200


def _switched_page(unit, point, action: str, questionnaire, form, ask_procedure: bool):
    """Show the form again in the language just chosen: every answer kept, nothing checked
    or recorded, a CSRF token valid now (the one sent may have expired)."""
    page = render_template(
        "public/survey.html", unit=unit, point=point, action=action,
        questionnaire=questionnaire.data, lang=str(get_locale()), form=form,
        key=kept_key(form.key.data), presence=(form.presence.data or "")[:40],
        ask_procedure=ask_procedure,
    )  # fmt: skip
    return _with_device_cookie(current_app.make_response(page)), 200


_questions_cache: dict[tuple[str, str, bool], Markup] = {}


def _fresh_questions(questionnaire, lang: str, ask_procedure: bool) -> Markup:
    """Render the unanswered questions once per questionnaire version, language and kind."""
    key = (questionnaire.checksum, lang, ask_procedure)
    if key not in _questions_cache:
        blank = SurveyForm(questionnaire, MultiDict(), csrf=False)
        _questions_cache[key] = Markup(  # noqa: S704 (a rendered template is escaped HTML)
            render_template(
                "public/_questions.html",
                questionnaire=questionnaire.data,
                form=blank,
                lang=lang,
                ask_procedure=ask_procedure,
            )
        )
    return _questions_cache[key]


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so that an expired form keeps its answers
@nul_taken_out
def survey(token: str):
    point, error = _open_point(token)
    if error:
        return error

    def channel_for(form):
        config = current_app.config
        shown = presence.is_present(point.secret, point.token, form.presence.data, time.time(),
                                    config["PRESENCE_WINDOW_SECONDS"],
                                    config["PRESENCE_GRACE_SECONDS"])  # fmt: skip
        return Channel.PRESENCE if shown else Channel.STATIC

    # As stored, when typed by hand in another case or with spaces (survey.tokens).
    action = url_for("survey.survey", token=point.token)
    return _survey(point.unit, point, action, channel_for, {}, lambda: _thanks_page(point))


class _Claim:
    """Claim a receipt when the answer is recorded: exactly one answer wins."""

    def __init__(self, receipt):
        self.receipt = receipt

    def __call__(self) -> bool:
        return integrity.claim_receipt(self.receipt)


@bp.route("/r/<code>", methods=["GET", "POST"])
@csrf.exempt
@nul_taken_out
def receipt(code: str):
    found = integrity.receipt_by_code(code)
    if found is None:
        # A code copied wrong from the slip: the entry form with it, to correct, not a dead end.
        return _unknown_code(code)
    if found.used_at is not None:
        return render_template("public/receipt_used.html", unit=found.unit, receipt=found), 409
    if found.expires_at <= utcnow() or not found.unit.is_open_on(local_today()):
        return render_error(
            410, _("This receipt code has expired. Thank you all the same for your time.")
        )
    extra = {"procedure": found.procedure} if found.procedure else {}
    action = url_for("survey.receipt", code=found.code)
    return _survey(
        found.unit, None, action, lambda form: Channel.RECEIPT, extra,
        lambda: _receipt_thanks_page(found), _Claim(found),
    )  # fmt: skip


@bp.route("/r", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the language switch, which an expired token must not stop
def receipt_entry():
    """Let a citizen type the code printed on their receipt."""
    code = request.values.get("code", "").strip()
    if switch_to():  # the form in the other language, with the code as typed, not looked up
        return render_template("public/receipt_entry.html", typed=code[:40])
    if request.method == "POST":
        csrf.protect()
    if request.method == "POST" and code:
        found = integrity.receipt_by_code(code)
        if found is not None:
            return redirect(url_for("survey.receipt", code=found.code))
        # The form again, with what was typed: a mistyped code is corrected, not typed anew.
        return _unknown_code(code)
    return render_template("public/receipt_entry.html")


def _unknown_code(code: str):
    error = _("This receipt code is not known. Please check the code printed on your receipt.")
    if accented(code):
        error = integrity.RECEIPT_TYPED_WITH_ACCENTS
    return render_template("public/receipt_entry.html", typed=code[:40], error=error), 404


@bp.get("/s/<token>/thanks")
def thanks(token: str):
    point, error = _open_point(token)
    if error:
        return error
    if request.query_string or "_flashes" in session:
        # A kept page has no message waiting in the session and a language link without query.
        return _render_thanks(point)
    return _thanks_page(point)


_thanks_pages: dict[tuple[str, str, str, str, bool], str] = {}
THANKS_PAGES_KEPT = 4096


def _thanks_page(point) -> str:
    """Render an active point's thank-you page once per unit name and language, and whether
    it answers the form's POST (then it says its own address for Back and Reload)."""
    unit = point.unit
    key = (point.token, unit.code, unit.name, str(get_locale()), request.method == "POST")
    page = _thanks_pages.get(key)
    if page is None:
        if len(_thanks_pages) >= THANKS_PAGES_KEPT:
            _thanks_pages.clear()
        page = _thanks_pages[key] = _render_thanks(point)
    return page


def _render_thanks(point) -> str:
    # The page's own address, where the language link and, after the form's POST, Back and
    # Reload lead (templates/base.html): not the form's, which would offer a blank form.
    address = url_for("survey.thanks", token=point.token)
    return render_template("public/thanks.html", unit=point.unit, point=point, lang_next=address)


def _receipt_thanks_page(receipt) -> str:
    address = url_for("survey.receipt_thanks", code=receipt.code)
    return render_template(
        "public/thanks.html", unit=receipt.unit, point=None, receipt=receipt, lang_next=address
    )


@bp.get("/r/<code>/thanks")
def receipt_thanks(code: str):
    found = integrity.receipt_by_code(code)
    if found is None or found.used_at is None:
        return render_error(404)
    return _receipt_thanks_page(found)

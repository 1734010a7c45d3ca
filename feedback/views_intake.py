"""Staff enter the PAKN they received by phone, on paper, by e-mail or from the 1022 hotline."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from core.accounts import units_in_scope
from core.auth import require_roles
from core.extensions import csrf, db
from core.forms import kept_key, new_key
from core.i18n import switch_to, vietnamese_choice
from core.models import open_today
from feedback import codes, services
from feedback.forms import StaffCaseForm
from feedback.models import Case
from feedback.moves import HANDLING_ROLES
from feedback.templating import today

bp = Blueprint("feedback_intake", __name__, url_prefix="/staff")
BACKDATE_DAYS = 60  # a paper letter may be entered some days after it arrived


@bp.before_request
@login_required
@require_roles(*HANDLING_ROLES)
def require_staff():
    """Every page here needs a signed-in account that handles cases."""


@bp.route("/cases/new", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so that an expired form keeps what was typed
def new_case():
    units = open_today(units_in_scope(current_user))
    if not units:
        abort(403)
    form = StaffCaseForm()
    form.unit.choices = [vietnamese_choice(str(u.id), f"{u.code} – {u.name}") for u in units]
    form.case_unit = next((u for u in units if u.id == form.unit.data), None)
    day = today()
    if not form.is_submitted():
        form.key.data = new_key()
        form.received_on.data = day
        form.unit.data = current_user.unit_id or units[0].id
    elif switch_to():
        # The same form in the other language, nothing checked or recorded.
        form.key.data = kept_key(form.key.data)
        return _form_page(form, day, 200)
    elif form.validate():
        existing = services.case_by_key(form.key.data)
        if existing is not None:  # the same form sent twice
            return _entered(existing)
        received_on = form.received_on.data
        if received_on > day or received_on < day - timedelta(days=BACKDATE_DAYS):
            form.received_on.errors.append(
                _("The date must be within the last %(n)s days.", n=BACKDATE_DAYS)
            )
        else:
            unit = next(u for u in units if u.id == form.unit.data)
            case = services.create_case(
                unit,
                kind=form.kind.data,
                topic=form.topic.data,
                content=form.content.data,
                channel=form.channel.data,
                person=form.person(),
                receipt=form.found_receipt,
                actor=current_user,
                received_on=received_on,
                submission_key=form.key.data,
                locale=form.locale.data,
            )
            try:
                db.session.commit()
            except IntegrityError:  # the same form, sent twice at once, was saved first
                db.session.rollback()
                case = services.case_by_key(form.key.data)
                if case is None:
                    raise
            return _entered(case)
    return _form_page(form, day, 422 if form.is_submitted() else 200)


def _form_page(form: StaffCaseForm, day, status: int):
    return render_template(
        "feedback/staff/new.html", form=form, max_day=day, form_expired=bool(form.csrf_token.errors)
    ), status


def _entered(case: Case):
    code = codes.display(case.code)  # in two groups, as the citizen's pages and e-mails write it
    flash(_("The PAKN is entered. Tracking code for the citizen: %(code)s", code=code))
    return redirect(url_for("feedback_staff.case_page", case_id=case.id), 303)

"""The back office's page of what citizens wrote in the survey's comment, for the staff of their
units. Analysts do not see it: free text may hold a name or a phone number (personal data)."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from core.auth import require_roles
from core.forms import without_direction_controls
from core.models import Role
from core.paging import page_number
from survey import comments
from survey.comment_forms import CommentFiltersForm
from survey.views_staff import POINT_ROLES, visible_units
from survey.wording import CHANNEL_LABELS, flag_labels

bp = Blueprint("survey_comments", __name__, url_prefix="/staff")
# The filters a page link carries over to the next page.
FILTER_NAMES = ("unit", "since", "until", "dissatisfied", "household_register", "q")


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


@bp.get("/comments")
@require_roles(*POINT_ROLES)
def comments_page():
    """The comments of the responses of one's units, newest first, filtered by the form."""
    units = visible_units()
    form = CommentFiltersForm(formdata=request.args)
    form.set_units(units)
    valid = form.validate()
    page = None
    if valid:
        filters = comments.CommentFilters(
            unit_ids=_chosen_units(units, form.unit.data),
            since=form.since.data,
            until=form.until.data,
            dissatisfied=form.dissatisfied.data,
            household_register=form.household_register.data,
            search=form.q.data or "",
        )
        page = comments.comment_page(filters, max(page_number(), 1))
    args = {k: request.args[k] for k in FILTER_NAMES if request.args.get(k)}
    return render_template(
        "staff/comments.html",
        form=form,
        page=page,
        args=args,
        procedures=comments.procedure_names(page.rows) if page else {},
        rating_of=comments.rating_of,
        channel_labels=CHANNEL_LABELS,
        flag_labels=flag_labels,
        # Written before the forms took them out, a direction override would turn the page.
        as_written=without_direction_controls,
    ), 200 if valid else _status_of(form)


def _chosen_units(units, code: str) -> list[int] | None:
    """The unit chosen and those under it (a district's comments are its communes'), within
    the units in scope; all of them when none is chosen (None: an administrator's all)."""
    chosen = next((u for u in units if u.code == code), None)
    if chosen is None and current_user.role is Role.ADMIN:
        return None
    return [u.id for u in units if chosen is None or u.is_within(chosen)]


def _status_of(form: CommentFiltersForm) -> int:
    """A unit that is not among one's own is refused (403), any other bad filter is a 400."""
    return 403 if form.unit.errors else 400

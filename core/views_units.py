"""The unit tree in the back office: administrators see every unit, import a units file as
`units import` does and download the tree in that file's format; managers see their unit and
the units under it. Handlers and analysts have no access: the tree is for those who manage
units and their staff, and its history names the staff who changed it."""

from datetime import date

import flask
from babel.numbers import get_group_symbol
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.accounts import active_accounts_by_unit
from core.auth import acting_account, require_roles
from core.csvfile import FileProblems, shown
from core.extensions import csrf, db
from core.forms import UnitsFileForm, read_upload
from core.i18n import day
from core.lazytext import lazy_gettext as _l
from core.models import Role, Unit, local_today
from core.paging import page_number
from core.unit_file import export_units, import_units
from core.unit_history import FIELDS, detail_parts, latest_unit_changes, unit_history
from core.unit_tree import unit_by_code, units_in_tree_order, units_under

bp = Blueprint("units", __name__, url_prefix="/staff/units")
TREE_ROLES = (Role.ADMIN, Role.MANAGER)
HISTORY_SHOWN = 50  # lines of a unit's page; `units history CODE` prints them all
LATEST_SHOWN = 20  # latest changes under the tree
PAGE_SIZE = 1000  # units a page of the tree: a province's whole tree, most often
FIELD_LABELS = dict(
    zip(
        FIELDS,
        (
            _l("name"),
            _l("level"),
            _l("parent"),
            _l("population"),
            _l("closing day"),
            _l("merged into"),
        ),
        strict=True,
    )
)
ACTION_LABELS = {"added": _l("Unit added"), "changed": _l("Unit changed")}


@bp.before_request
@login_required
def require_sign_in():
    """Every page here needs a signed-in staff account."""


def scope_top() -> Unit | None:
    """The unit whose subtree the account sees: None for every unit (an administrator)."""
    if current_user.role is Role.ADMIN:
        return None
    if current_user.unit is None:
        abort(403)
    return current_user.unit


def asked_top() -> tuple[Unit | None, str | None]:
    """The unit ?unit= asks for, within the account's scope, or the scope's top; with the
    code asked for when no unit has it."""
    code = request.args.get("unit", "").strip()[:20]
    if not code:
        return scope_top(), None
    unit = unit_by_code(code)
    if unit is None:
        return None, code
    if not current_user.can_see_unit(unit):
        abort(403)
    return unit, None


@bp.get("")
@require_roles(*TREE_ROLES)
def tree():
    """The units in tree order, names indented by depth, with what each counts."""
    top, unknown = asked_top()
    rows = [] if unknown else units_in_tree_order(top)
    # A page of rows at a time: the country's 11,000 communes would be 2 MB of HTML.
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = page_number()
    if not 1 <= page <= pages:
        abort(404)
    counts = unit_counts(top)
    return render_template(
        "staff/units.html",
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(rows),
        page=page,
        pages=pages,
        top=top,
        unknown=unknown,
        counts=[] if unknown else counts,
        totals=[sum(by_unit.values()) for _label, by_unit in counts],
        latest=[] if unknown else latest_unit_changes(LATEST_SHOWN, within=top),
        whole=whole_number_format(),
        **_history_words(),
    ), 404 if unknown else 200


def unit_counts(within: Unit | None) -> list[tuple[str, dict[int, int]]]:
    """Each column the modules count (a survey's points in use...) and the active staff
    accounts: (label, {unit id: n}) over within and the units under it, a query each."""
    counts = current_app.extensions.get("unit_counts", [])
    return [
        *((label, count(within)) for label, count in counts),
        (_l("Staff accounts"), active_accounts_by_unit(within)),
    ]


def whole_number_format():
    """Format a whole number as Babel's format_decimal does in the page's language, with its
    thousands mark, in a fifth of the time: the tree's page shows 3,000 of them and more."""
    mark = get_group_symbol(get_locale())
    return lambda n: f"{n:,}".replace(",", mark)


@bp.get("/units.csv")
@require_roles(*TREE_ROLES)
def download():
    """The tree shown, as a file `units import` and the import page read back unchanged."""
    top, unknown = asked_top()
    if unknown:
        abort(404)
    data = export_units(top)
    name = f"units-{top.code if top else 'all'}-{local_today():%Y%m%d}.csv"
    return flask.Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/<code>/history")
@require_roles(*TREE_ROLES)
def unit_page(code: str):
    """A unit, its counts and what the imports did to it, newest first."""
    unit = unit_by_code(code[:20])
    if unit is None:
        abort(404)
    if not current_user.can_see_unit(unit):
        abort(403)
    counts = unit_counts(unit)
    parent = unit.parent
    return render_template(
        "staff/unit.html",
        unit=unit,
        parent=parent,
        parent_shown=parent is not None and current_user.can_see_unit(parent),
        under=units_under(unit),
        counts=[(label, by_unit.get(unit.id, 0)) for label, by_unit in counts],
        history=unit_history(unit, HISTORY_SHOWN),
        **_history_words(),
    )


def _history_words() -> dict:
    return {"actions": ACTION_LABELS, "fields": FIELD_LABELS, "detail_parts": shown_parts}


def shown_parts(detail: str) -> list[tuple[str, str]]:
    """A line's detail as detail_parts splits it, with its populations and closing days
    written as the page's language writes numbers and dates (the line stores 16200 and
    2025-07-01, as a units file does)."""
    return [(field, _shown_values(field, text)) for field, text in detail_parts(detail)]


def _shown_values(field: str, text: str) -> str:
    if field == "population":
        write = _population
    elif field == "closed_on":
        write = _closing_day
    else:
        return text
    return " → ".join(write(value) for value in text.split(" → "))


def _population(value: str) -> str:
    return format_decimal(int(value)) if value.isdigit() else value


def _closing_day(value: str) -> str:
    try:
        return day(date.fromisoformat(value))
    except ValueError:  # "-": none
        return value


@bp.route("/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, once the file's larger size limit is set
@require_roles(Role.ADMIN)
def import_file():
    """Import a units file whole, as `units import` does, recording the account as who did."""
    form = read_upload(UnitsFileForm, current_app.config["UNITS_IMPORT_MAX_BYTES"])
    if form is None:
        return _import_page(UnitsFileForm(formdata=None), 413, too_large=True)
    if not form.validate_on_submit():
        return _import_page(form, 422 if form.is_submitted() else 200)
    raw = form.file.data.read()
    try:
        done = import_units(raw, form.file.data.filename or "", actor=acting_account())
    except FileProblems as e:
        db.session.rollback()
        return _import_page(form, 422, problems=e)
    db.session.commit()
    flash(
        _(
            "The file is imported. Units added: %(added)s; changed: %(changed)s; unchanged: "
            "%(unchanged)s.",
            added=format_decimal(done.added),
            changed=format_decimal(done.changed),
            unchanged=format_decimal(done.unchanged),
        ),
        "ok",
    )
    return redirect(url_for("units.import_file"), 303)


def _import_page(form: UnitsFileForm, status: int, problems=None, too_large=False):
    return render_template(
        "staff/units_import.html",
        form=form,
        **shown(problems),
        too_large=too_large,
        max_mb=current_app.config["UNITS_IMPORT_MAX_BYTES"] >> 20,
        latest=latest_unit_changes(LATEST_SHOWN),
        **_history_words(),
    ), status

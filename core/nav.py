"""The back office's menu: what each role may open, among the pages that are installed."""

from flask import current_app, url_for
from flask_login import current_user

from core.lazytext import lazy_gettext as _l
from core.models import Role

ALL_STAFF = (Role.ADMIN, Role.MANAGER, Role.HANDLER)
MENU = [
    ("survey_staff.points", _l("Survey points"), ALL_STAFF),
    ("survey_comments.comments_page", _l("Citizens' comments"), ALL_STAFF),
    ("feedback_staff.cases", _l("Complaints and recommendations"), ALL_STAFF),
    ("analysis_staff.index", _l("Figures"), (Role.ADMIN, Role.MANAGER, Role.ANALYST)),
    ("feedback_admin.calendar", _l("Working days"), (Role.ADMIN,)),
    ("feedback_admin.api_keys", _l("API keys"), (Role.ADMIN,)),
    ("accounts.users", _l("Accounts"), (Role.ADMIN, Role.MANAGER)),
    ("units.tree", _l("Administrative units"), (Role.ADMIN, Role.MANAGER)),
]


def staff_menu() -> list[tuple[str, str]]:
    """Return (label, url) of the pages the signed-in account may open."""
    if not current_user.is_authenticated:
        return []
    return [
        (label, url_for(endpoint))
        for endpoint, label, roles in MENU
        if current_user.role in roles and endpoint in current_app.view_functions
    ]


def home_url() -> str:
    """Return the first page of the menu: where a fresh sign-in lands."""
    menu = staff_menu()
    return menu[0][1] if menu else url_for("auth.login")


def init_app(app) -> None:
    app.context_processor(lambda: {"staff_menu": staff_menu})

"""Fixtures of the password-reset and invitation tests (tests/core/test_password_reset*.py,
tests/core/test_invitations*.py) and of the unit tree's pages (tests/core/test_units_*.py)."""

import pytest

from core import invitations, password_reset
from core.models import Role
from tests.conftest import Clock, add_staff


@pytest.fixture
def reset_clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(password_reset, "utcnow", lambda: clock.now)
    monkeypatch.setattr(invitations, "utcnow", lambda: clock.now)  # where an invitation stands
    return clock


@pytest.fixture
def reset_accounts(tree):
    """An active handler, a deactivated one and an administrator, with the suite's password."""
    return add_staff(tree, {
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "gone": ("gone@x.vn", Role.HANDLER, "26734", False),
        "admin": ("admin@x.vn", Role.ADMIN, None),
    })  # fmt: skip


@pytest.fixture
def unit_staff(tree):
    """An account of each role (the manager of district 760, the handler of commune 26734) and
    a deactivated handler, with the suite's password."""
    return add_staff(tree, {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "analyst": ("analyst@x.vn", Role.ANALYST, None),
        "gone": ("gone@x.vn", Role.HANDLER, "26734", False),
    })  # fmt: skip

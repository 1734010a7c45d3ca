"""Fixtures of the password-reset and invitation tests (tests/core/test_password_reset*.py,
tests/core/test_invitations*.py) and of the unit tree's pages (tests/core/test_units_*.py)."""

import pytest

from core import invitations, password_reset
from core.extensions import db
from core.models import Role, User
from tests.conftest import FAST_HASH, Clock


@pytest.fixture
def reset_clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(password_reset, "utcnow", lambda: clock.now)
    monkeypatch.setattr(invitations, "utcnow", lambda: clock.now)  # where an invitation stands
    return clock


@pytest.fixture
def reset_accounts(tree):
    """An active handler, a deactivated one and an administrator, with the suite's password."""
    made = {
        "handler": User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"]),
        "gone": User(email="gone@x.vn", role=Role.HANDLER, unit=tree["26734"], active=False),
        "admin": User(email="admin@x.vn", role=Role.ADMIN),
    }
    for user in made.values():
        user.password_hash = FAST_HASH
    db.session.add_all(made.values())
    db.session.commit()
    return made


@pytest.fixture
def unit_staff(tree):
    """An account of each role (the manager of district 760, the handler of commune 26734) and
    a deactivated handler, with the suite's password."""
    accounts = [
        User(email="admin@x.vn", role=Role.ADMIN),
        User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"]),
        User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"]),
        User(email="analyst@x.vn", role=Role.ANALYST),
        User(email="gone@x.vn", role=Role.HANDLER, unit=tree["26734"], active=False),
    ]
    for user in accounts:
        user.password_hash = FAST_HASH
    db.session.add_all(accounts)
    db.session.commit()
    return {user.email.split("@")[0]: user for user in accounts}

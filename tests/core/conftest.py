"""Fixtures of the password-reset and invitation tests (tests/core/test_password_reset*.py,
tests/core/test_invitations*.py)."""

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

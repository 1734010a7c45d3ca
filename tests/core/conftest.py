"""Fixtures of the password-reset tests (tests/core/test_password_reset*.py)."""

from datetime import datetime, timedelta

import pytest

from core import password_reset
from core.extensions import db
from core.models import Role, User
from tests.conftest import FAST_HASH


class Clock:
    """The reset's clock (its links and limits): held still, moved by hand."""

    def __init__(self):
        # Mid-window for the hour the limits count: 01:07:30 UTC.
        self.now = datetime(2026, 3, 2, 1, 7, 30)

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def reset_clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(password_reset, "utcnow", lambda: clock.now)
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

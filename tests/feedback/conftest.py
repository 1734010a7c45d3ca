"""PAKN fixtures: staff of every role, a small factory of cases; the SMTP server is the suite's."""

import pytest

from core.extensions import db
from core.models import Role, utcnow
from feedback import services, throttle
from feedback.models import Channel, Kind, Topic
from feedback.workflow import Action
from tests.conftest import add_staff


def handle(case, user, answer="Đã xử lý.", *, outcome="competent", now=None):
    """Classify, assign (to the unit) and answer the case as this staff member, each committed."""
    for action, kw in ((Action.CLASSIFY, {"outcome": outcome}), (Action.ASSIGN, {}),
                       (Action.ANSWER, {"answer": answer})):  # fmt: skip
        services.apply_action(case, action, user, case.version, now=now, **kw)
        db.session.commit()


@pytest.fixture
def staff(tree):
    """Accounts keyed by role: the handler and manager work inside district 760."""
    return add_staff(tree, {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "analyst": ("analyst@x.vn", Role.ANALYST, None),
        "other_handler": ("other@x.vn", Role.HANDLER, "26800"),
    })  # fmt: skip


@pytest.fixture
def make_case(tree):
    def make(unit_code="26734", *, content="Cán bộ hẹn lại nhiều lần.", person=None, **kw):
        case = services.create_case(
            tree[unit_code],
            kind=kw.pop("kind", Kind.REPORT),
            topic=kw.pop("topic", Topic.DELAY),
            content=content,
            channel=kw.pop("channel", Channel.WEB),
            person=person,
            **kw,
        )
        db.session.commit()
        return case

    return make


@pytest.fixture(scope="session")
def bare_app():
    """An app for pure functions whose messages are translated: no database behind it."""
    from core import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})


@pytest.fixture
def i18n(bare_app):
    """A request context of bare_app, in English, for the length of one test."""
    with bare_app.test_request_context(headers={"Accept-Language": "en"}):
        yield bare_app


@pytest.fixture
def req(app):
    """A request context over the app, for services whose messages are translated."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def client(client):
    """The suite's client, reading pages in English so that assertions match the msgids."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def steady_clock(monkeypatch):
    """Hold the rate limits' clock still: their windows are fixed (60 s, 10 min, 1 h), and a
    test whose requests straddled a boundary started counting again (it did, at 07:30:00)."""
    now = utcnow().replace(minute=30, second=30, microsecond=0)  # mid-window for all three
    monkeypatch.setattr(throttle, "utcnow", lambda: now)
    return now

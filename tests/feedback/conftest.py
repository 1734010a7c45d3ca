"""PAKN fixtures: staff of every role, a small factory of cases, a real SMTP server."""

import socket
from contextlib import contextmanager
from email import message_from_bytes, message_from_string
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from core.extensions import db
from core.models import Role, User, utcnow
from feedback import services, throttle
from feedback.models import Channel, Kind, Topic
from feedback.workflow import Action
from tests.conftest import FAST_HASH

SENDER = "Hài Lòng – PAKN <pakn@hailong.test>"


def handle(case, user, answer="Đã xử lý.", *, outcome="competent", now=None):
    """Classify, assign (to the unit) and answer the case as this staff member, each committed."""
    for action, kw in ((Action.CLASSIFY, {"outcome": outcome}), (Action.ASSIGN, {}),
                       (Action.ANSWER, {"answer": answer})):  # fmt: skip
        services.apply_action(case, action, user, case.version, now=now, **kw)
        db.session.commit()


@pytest.fixture
def staff(tree):
    """Accounts keyed by role: the handler and manager work inside district 760."""
    accounts = {
        "admin": User(email="admin@x.vn", role=Role.ADMIN),
        "manager": User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"]),
        "handler": User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"]),
        "analyst": User(email="analyst@x.vn", role=Role.ANALYST),
        "other_handler": User(email="other@x.vn", role=Role.HANDLER, unit=tree["26800"]),
    }
    for user in accounts.values():
        user.password_hash = FAST_HASH
    db.session.add_all(accounts.values())
    db.session.commit()
    return accounts


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


class Mailbox:
    """An SMTP handler that keeps what it accepts and refuses the addresses it is told to."""

    def __init__(self):
        self.messages = []
        self.refuse = set()  # 550: for good
        self.later = set()  # 451: try again later

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        if address in self.later:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.smtp_utf8:  # its headers are UTF-8 (RFC 6532): parsed as text
            message = message_from_string(envelope.content.decode(), policy=default)
        else:
            message = message_from_bytes(envelope.content, policy=default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message, envelope))
        return "250 Message accepted"

    def only(self):
        """The one message received, parsed; fails if there is not exactly one."""
        [(sender, recipients, message, envelope)] = self.messages
        self.messages.clear()
        return sender, recipients, message, envelope


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(app, **options):
    """Mail on, to a real SMTP server on 127.0.0.1 (aiosmtpd's Controller options)."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                      MAIL_SECURITY="none", MAIL_FROM=SENDER)  # fmt: skip
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mailbox(app):
    """Mail on, to a server that does not offer SMTPUTF8 (RFC 6531)."""
    with smtp_server(app, enable_SMTPUTF8=False) as box:  # aiosmtpd's Controller offers it
        yield box


@pytest.fixture
def utf8_mailbox(app):
    """Mail on, to a server that offers SMTPUTF8: addresses with accents before the @."""
    with smtp_server(app, enable_SMTPUTF8=True) as box:
        yield box

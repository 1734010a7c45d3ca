"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL with --db=postgres)."""

import os
import re
import socket
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import message_from_bytes, message_from_string
from email.policy import default
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_datetime
from flask import session
from flask.testing import FlaskClient
from flask_babel import get_translations
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, event, text
from werkzeug.security import generate_password_hash

from analysis.warm import _cache as frame_cache
from core import create_app
from core.config import ENV_SETTINGS
from core.extensions import db
from core.models import Role, Unit, User
from core.unit_tree import rebuild_paths
from survey.questionnaires import load_questionnaire
from survey.services import add_point

PASSWORD = "correct horse battery"
SENDER = "Hài Lòng – PAKN <pakn@hailong.test>"
# The suite's password with a fast hash: scrypt for every account of every test would take
# seconds; the slow one is tested in tests/core/test_users_and_sign_in.py.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="database to run the suite on; postgres needs TEST_DATABASE_URL",
    )


@pytest.fixture(scope="session", autouse=True)
def settings_from_the_environment_left_out():
    """Run every test with the settings the environment can give (core/config.py) unset, as on
    a fresh machine: a MAIL_SERVER or PROXY_COUNT in the tester's shell would otherwise send
    mail or trust proxies in every test. Tests that read the environment set it themselves."""
    with pytest.MonkeyPatch.context() as patch:
        for name in (*ENV_SETTINGS, "SESSION_COOKIE_SECURE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory):
    """Return an empty, migrated database for the session."""
    if request.config.getoption("--db") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("--db=postgres needs TEST_DATABASE_URL", returncode=2)
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        from core.extensions import upgrade_database

        upgrade_database()
        db.engine.dispose()
    return url


@contextmanager
def app_on(database_url):
    """An app on the database, in its context, that leaves every table empty."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "PUBLIC_BASE_URL": "http://survey.test",
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        frame_cache.clear()  # ids restart in an emptied table: never reuse another test's frame
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app(database_url):
    with app_on(database_url) as app:
        yield app


class RequestClient(FlaskClient):
    """Run each request in its own app context, as a server does, not in the test's."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = RequestClient
    return app.test_client()


@pytest.fixture
def in_english(client):
    """The test's client reads pages in English, so that assertions match the msgids."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def questionnaire(app):
    q, _new = load_questionnaire()
    db.session.commit()
    return q


@pytest.fixture
def tree(app):
    """A province with two districts and three communes."""
    return make_tree()


def make_tree() -> dict[str, Unit]:
    """A province with two districts and three communes, committed; keyed by code."""
    province = Unit(code="79", name="Thành phố Hồ Chí Minh", level="Tỉnh")
    d1 = Unit(code="760", name="Quận 1", level="Quận", parent=province)
    d2 = Unit(code="769", name="Thành phố Thủ Đức", level="Thành phố", parent=province)
    c1 = Unit(code="26734", name="Phường Bến Nghé", level="Phường", parent=d1)
    c2 = Unit(code="26737", name="Phường Đa Kao", level="Phường", parent=d1)
    c3 = Unit(code="26800", name="Phường Thảo Điền", level="Phường", parent=d2)
    add_units(province, d1, d2, c1, c2, c3)
    return {u.code: u for u in (province, d1, d2, c1, c2, c3)}


def add_units(*units: Unit) -> None:
    """Add these units to the tree and commit them, with their paths worked out."""
    db.session.add_all(units)
    db.session.flush()
    rebuild_paths()
    db.session.commit()


@pytest.fixture
def point(tree, questionnaire):
    p = add_point(tree["26734"], "Quầy 1", actor=None)
    db.session.commit()
    return p


@pytest.fixture
def vi(app):
    """Say a message as the Vietnamese catalogue does, to find it on a page in Vietnamese (each
    import's problems, which the command line says in English)."""
    with app.test_request_context(headers={"Accept-Language": "vi"}):
        catalogue = get_translations()._catalog

    def say(msgid: str, **params) -> str:
        assert catalogue[msgid] != msgid
        return catalogue[msgid] % params

    return say


@pytest.fixture
def make_user(app):
    """Add and commit an account. With the suite's password it gets the suite's fast hash; any
    other password, or slow=True, gets the real one (scrypt), as the command line would set."""

    def make(email, role, unit=None, password=PASSWORD, slow=False):
        user = User(email=email, role=Role(role), unit=unit)
        if password == PASSWORD and not slow:
            user.password_hash = FAST_HASH
        else:
            user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


class FormParser(HTMLParser):
    """Collect the fields of the forms on a page, as a browser would submit them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None
        self._first_option = False
        self._textarea = False
        self._owned_buttons: list[dict] = []  # buttons outside a form, with form="its id"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "button" and a.get("name") and a.get("form"):
            self._owned_buttons.append(a)
        elif tag == "form":
            self.forms.append(
                {"action": a.get("action"), "id": a.get("id"), "fields": {}, "radios": {},
                 "boxes": {}, "buttons": []}
            )  # fmt: skip
        elif not self.forms:
            return
        elif tag == "input":
            name, kind = a.get("name"), a.get("type", "text")
            if not name:
                return
            if kind == "radio":
                self.forms[-1]["radios"].setdefault(name, []).append(a.get("value"))
                if "checked" in a:
                    self.forms[-1]["fields"][name] = a.get("value")
            elif kind == "checkbox":
                self.forms[-1]["boxes"][name] = a.get("value", "on")  # what ticking it sends
                if "checked" in a:  # a browser sends an unticked box not at all
                    self.forms[-1]["fields"][name] = a.get("value", "on")
            else:
                self.forms[-1]["fields"][name] = a.get("value", "")
        elif tag in ("select", "textarea"):
            self._select = a.get("name")
            self._first_option = tag == "select"
            self.forms[-1]["fields"].setdefault(self._select, "")
            self._textarea = tag == "textarea"
        elif tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append(a)
        elif tag == "option" and self._select:
            # A browser sends the option marked selected, or else the first.
            if self._first_option or "selected" in a:
                self.forms[-1]["fields"][self._select] = a.get("value", "")
            self._first_option = False

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self._select, self._textarea = None, False

    def handle_data(self, data):
        # A textarea's text is its value, as a browser sends it (html.parser unescapes it).
        if self._textarea and self._select and self.forms:
            self.forms[-1]["fields"][self._select] += data


def page_forms(html: str) -> list[dict]:
    """The page's forms: action, id, the fields as a browser sends them, the radios' values,
    each checkbox's value (sent only when ticked) and the named buttons that submit each (those
    with form="its id" included)."""
    parser = FormParser()
    parser.feed(html)
    for button in parser._owned_buttons:
        for form in parser.forms:
            if form["id"] == button["form"]:
                form["buttons"].append(button)
    return parser.forms


class LanguageParser(HTMLParser):
    """Collect each piece of text with the language it is read in: the lang of its nearest
    element that has one, as a browser works it out."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}

    def __init__(self):
        super().__init__()
        self.texts: list[tuple[str, str | None]] = []
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            inherited = self._open[-1][1] if self._open else None
            self._open.append((tag, dict(attrs).get("lang", inherited)))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        if data.strip():
            self.texts.append((data.strip(), self._open[-1][1] if self._open else None))


def languages_of(html: str, text: str) -> set[str | None]:
    """The languages a browser reads `text` in, wherever it is the whole of a piece of text."""
    parser = LanguageParser()
    parser.feed(html)
    return {lang for piece, lang in parser.texts if piece == text}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email, password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
    )


def new_client(app, language="en", address=None):
    """A client of its own (each request in its own context) that asks for the language, signed
    out, from this remote address if given (the sign-in limits count by address)."""
    app.test_client_class = RequestClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(app, email, password=PASSWORD, language="en"):
    """A client of its own that asks for the language and has signed in through the sign-in
    page as this account."""
    client = new_client(app, language)
    assert login(client, email, password).status_code == 302
    return client


def client_of(app, actor, language="en"):
    """A client signed in as the actor's account (actor@x.vn), or signed out (actor None)."""
    if actor:
        return signed_in(app, f"{actor}@x.vn", language=language)
    return new_client(app, language)


def add_staff(tree, accounts: dict[str, tuple]) -> dict[str, User]:
    """Add these accounts with the suite's password (a fast hash) and commit them, in order.

    Each is keyed as the caller wants it and given as (e-mail, role, unit code or None), or
    (e-mail, role, unit code or None, False) for a deactivated account."""
    made = {}
    for key, (email, role, code, *active) in accounts.items():
        made[key] = User(email=email, role=role, unit=tree[code] if code else None,
                         active=active[0] if active else True, password_hash=FAST_HASH)  # fmt: skip
    db.session.add_all(made.values())
    db.session.commit()
    return made


def shown_time(at, language: str) -> str:
    """How a page writes a stored (UTC) time: in Vietnam's time, with the year whole."""
    pattern = "HH:mm d/M/yyyy" if language == "vi" else "d MMM yyyy, h:mm a"
    return format_datetime(at, pattern, tzinfo="Asia/Ho_Chi_Minh", locale=language)


def csrf_for(client) -> str:
    """A CSRF token valid for this client's session, as a page would embed it."""
    # A fresh app context: generate_csrf keeps its token in g, which the test's own would share.
    with client.application.app_context(), client.application.test_request_context():
        value = generate_csrf()
        raw = session["csrf_token"]
    with client.session_transaction() as stored:
        stored["csrf_token"] = raw
    return value


class Clock:
    """A clock held still and moved by hand, for the sign-in and password-reset limits.

    It starts mid-window for 15 minutes, an hour and a day (01:07:30 UTC), so that a test's
    requests fall in one window of each limit until it moves the clock."""

    def __init__(self):
        self.now = datetime(2026, 3, 2, 1, 7, 30)

    def advance(self, **delta):
        self.now += timedelta(**delta)


class Mailbox:
    """An SMTP handler that keeps what it accepts and refuses the addresses it is told to."""

    def __init__(self):
        self.messages = []
        self.refuse = set()  # 550: for good
        self.later = set()  # 451: try again later
        self.hang_up = set()  # the connection dropped, once for each address

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.hang_up:
            self.hang_up.discard(address)
            server.transport.close()
            return "421 4.4.2 Connection dropped"
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


THANKS_TITLES = ("<title>Cảm ơn</title>", "<title>Thank you</title>")


def thanked(response) -> bool:
    """Whether the survey answered a form with its thank-you page: the answers are recorded
    (or were, by the same form sent before). Not the form again, which a language switch
    also answers with 200."""
    html = response.get_data(as_text=True)
    return response.status_code == 200 and any(title in html for title in THANKS_TITLES)


def queries_of(client, url: str) -> int:
    """How many statements a page asks the database, after a first request to warm up."""
    assert client.get(url).status_code == 200
    count = [0]

    def counted(*_args):
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count[0]

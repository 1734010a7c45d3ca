"""Every GET route of the app, walked with real and hostile values by citizens and staff.

The routes come from app.url_map, so a new one is walked as soon as it is added. Each route's
path variables are filled with real values from a seeded database, then one at a time with
hostile ones; each query-string parameter its view can read is sent alone and all of them
together with the same hostile values. Every answer must be no server error, no markup
reflected unescaped, no redirect off the site, and a page in the language asked for; the walk
of a route must leave the database as it found it (but for the tables listed in READ_RECORDS).
"""

import inspect
import re
import sys
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO
from itertools import chain
from urllib.parse import quote, urlencode, urlsplit

import pytest
from PIL import Image
from sqlalchemy import delete, func, select

from core.apikeys import Scope, create_key
from core.extensions import db
from core.i18n import SWITCH_FIELD
from core.models import PasswordReset, Role, Throttle, User, local_today, utcnow
from core.password_reset import token_hash
from feedback import services as cases
from feedback.images import Photo
from feedback.models import Channel, DeclaredDay, Kind, Topic
from feedback.workflow import Action
from survey.integrity import issue_receipts
from survey.models import Exclusion, Response
from survey.questionnaires import load_questionnaire
from survey.services import add_point
from tests.conftest import (
    FAST_HASH,
    RequestClient,
    app_on,
    login,
    make_tree,
)

PACKAGES = ("core", "survey", "feedback", "analysis")
HOSTILE = {
    "empty": "",
    "zero": "0",
    "minus one": "-1",
    "huge integer": "99999999999999999999",
    "3,000 characters": "x" * 2999 + "ờ",
    "NUL": "\x00",
    "markup": "'\"<x>",
    "dot dot": "../..",
    "combining marks": "Nguye\u0302\u0303n Thi\u0323 Ho\u0300a",
    "right-to-left override": "\u202eabc",
    "off-site": "//evil.example/x",
}
MARKUP = "<x>"
RESET_TOKEN = "r" * 43  # the shape of secrets.token_urlsafe(32)

# Who walks: signed out in each language, and each role of DESIGN.md (the manager and handler
# work inside district 760), each asking for a language of its own.
VISITORS = {
    "citizen": (None, "vi"),
    "citizen (en)": (None, "en"),
    "handler": ("handler@x.vn", "vi"),
    "manager": ("manager@x.vn", "en"),
    "analyst": ("analyst@x.vn", "en"),
    "admin": ("admin@x.vn", "vi"),
}

# Tables that a GET may write to, and why: the walk checks every other table is unchanged.
READ_RECORDS = {
    # Tracking codes and Open311 tokens are looked up under a rate limit: each unknown code a
    # client tries is counted, so that nobody can guess a citizen's code by trying them all.
    "throttle": "unknown tracking codes are counted against the client",
    # The analysis pages seal the responses not yet sealed into column blocks before reading
    # (analysis/blocks.py): a cache of rows already there, never a change of what they say.
    "response_block": "the analysis pages seal new responses into column blocks",
    "response_version": "the analysis pages seal new responses into column blocks",
}
# Columns a GET may change: the language a staff member's switch chose is kept on the account.
READ_COLUMNS = {"user": {"locale"}}
# Routes whose real URL does not answer the administrator 200, and why.
NOT_A_PAGE = {
    "analysis_api.unknown": 404,  # the API's answer to a path it does not have
    "auth.login": 302,  # a signed-in account is sent on to its pages
    "feedback.root": 302,  # the home page leads to /pakn/
    "i18n.switch": 302,  # the language switch leads back to the page
}
# The query string of a route's real URL, where it needs one.
REAL_QUERY = {
    "analysis_api.indexes": "preset=year",
    "feedback.new_case": "unit=26734",  # the citizen's form is for a unit (or a counter)
}
# Pages in Vietnamese whatever the language asked for, and why.
ALWAYS_VIETNAMESE = {
    "survey_counter.display": "the counter screen is read by the citizens at the counter",
}


# How views read the query string (or a form): request.args.get("x"), args["x"],
# args.getlist("x"), and the small readers over them (the analysis filters' read and check,
# Open311's and the queue's dates).
READS = re.compile(
    r"""\b(?:args|values|form|read|check)\.(?:get|getlist|text|date|choice|day|flag|many|one)
        \(\s*"([a-z][a-z_]*)"
    |\b(?:_when|_date_arg)\(\s*"([a-z][a-z_]*)"
    |\bargs\[\s*"([a-z][a-z_]*)"\s*\]""",
    re.VERBOSE,
)
CALLED = re.compile(r"\b([A-Za-z_]\w*)\(")


def names_read(function, depth: int = 3, seen: set | None = None) -> set[str]:
    """The query names a view (or a class) reads, and the functions and classes of the app it
    calls, to depth."""
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    if function in seen or not (getattr(function, "__module__", "") or "").startswith(PACKAGES):
        return set()
    seen.add(function)
    source = inspect.getsource(function)
    names = {"".join(found) for found in READS.findall(source)}
    if "SWITCH_FIELD" in source:  # core.i18n.switch_to: a form's language switch
        names.add(SWITCH_FIELD)
    if depth:
        scope = vars(sys.modules[function.__module__])
        for called in set(CALLED.findall(source)):
            target = scope.get(called)
            if inspect.isfunction(target) or inspect.isclass(target):
                names |= names_read(target, depth - 1, seen)
    return names


class GetForms(HTMLParser):
    """The names a page's GET forms send: inputs, selects, textareas and named buttons."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self._get = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._get = (a.get("method") or "get").lower() == "get"
        elif self._get and tag in ("input", "select", "textarea", "button") and a.get("name"):
            self.names.add(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._get = False


def get_form_names(html: str) -> set[str]:
    parser = GetForms()
    parser.feed(html)
    return parser.names


@pytest.fixture(scope="module")
def walk(database_url):
    """One app and one seeded database for the whole walk, which must leave it as it found it
    (each test checks): (app, real values of path variables, signed-in clients)."""
    with app_on(database_url) as app:
        world = seed(app, make_tree(), load_questionnaire()[0])
        yield app, world, clients(app)


@pytest.fixture
def walked(walk):
    """The walk, with every rate limit's count emptied: unknown codes a walk tries are counted
    against the client, and the previous rule's must not refuse this one's."""
    db.session.execute(delete(Throttle))
    db.session.commit()
    return walk


def seed(app, tree, questionnaire) -> dict:
    """Accounts of every role, points (one retired), answers, receipts (one used), cases (one
    published, one with a photo), an API key, a declared day and a password-reset link; return
    the real values of path variables, by endpoint and name or by name alone."""
    # Mail on (to nowhere: a GET sends nothing), for the password-reset pages to be there.
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_SECURITY="none", MAIL_FROM="pakn@x.vn")
    users = {
        "admin": User(email="admin@x.vn", role=Role.ADMIN),
        "manager": User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"]),
        "handler": User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"]),
        "analyst": User(email="analyst@x.vn", role=Role.ANALYST),
    }
    for user in users.values():
        user.password_hash = FAST_HASH
    db.session.add_all(users.values())
    point = add_point(tree["26734"], "Quầy 1", actor=None)
    retired = add_point(tree["26800"], "Quầy cũ", actor=None)
    retired.active = False
    db.session.flush()
    answers = [
        Response(questionnaire_id=questionnaire.id, unit_id=point.unit_id, point_id=point.id,
                 channel="static", a1=score, b1=score, hk=False, comment=f"Chờ {score} phút")
        for score in (1, 3, 5)
    ]  # fmt: skip
    db.session.add_all(answers)
    db.session.flush()
    db.session.add(
        Exclusion(response_id=answers[0].id, reason="Thử", excluded_by_id=users["admin"].id)
    )
    receipt, used = issue_receipts(tree["26734"], 2, timedelta(days=7), issued_by=None)
    used.used_at, used.response_id = utcnow(), answers[2].id
    out = BytesIO()
    Image.new("RGB", (10, 10)).save(out, "JPEG")
    case = cases.create_case(
        tree["26734"], kind=Kind.REPORT, topic=Topic.DELAY, content="Cán bộ hẹn lại nhiều lần.",
        channel=Channel.WEB, person={"name": "Nguyễn Văn A", "phone": "0900000000"},
        photos=[Photo(out.getvalue(), 10, 10)],
    )  # fmt: skip
    published = cases.create_case(
        tree["26734"], kind=Kind.RECOMMENDATION, topic=Topic.DELAY, channel=Channel.WEB,
        content="Nên có thêm ghế chờ ở quầy một cửa.",
    )  # fmt: skip
    db.session.commit()
    for action, kw in (
        (Action.CLASSIFY, {"outcome": "competent"}),
        (Action.ASSIGN, {}),
        (Action.ANSWER, {"answer": "Đã thêm ghế."}),
        (Action.PUBLISH, {"summary": "Thêm ghế chờ.", "published_answer": "Đã thêm ghế."}),
    ):
        cases.apply_action(published, action, users["admin"], published.version, **kw)
        db.session.commit()
    key, _secret = create_key("hotline-1022", Scope.OPEN311)
    # In this year, which the calendar page shows (with the form to delete it).
    day = DeclaredDay(day=date(local_today().year, 1, 24), working=False, note="nghỉ bù")
    reset = PasswordReset(user=users["handler"], token_hash=token_hash(RESET_TOKEN),
                          mark=users["handler"].session_mark(), locale="vi",
                          expires_at=datetime(2100, 1, 1))  # fmt: skip
    db.session.add_all([day, reset])
    db.session.commit()
    # Real values of path variables: by endpoint and name, else by name alone.
    return {
        ("i18n.switch", "code"): None,  # the visitor's own language: see real_values
        ("survey.receipt", "code"): receipt.code,
        ("survey.receipt_thanks", "code"): used.code,
        ("feedback.track_case", "code"): published.code,  # answered: its page has the rating
        ("open311.service_definition", "code"): str(Topic.DELAY),
        ("open311.token", "token"): published.code,
        ("password_reset.choose", "token"): RESET_TOKEN,
        ("survey_staff.point_poster", "fmt"): "svg",
        ("analysis_staff.download", "fmt"): "csv",
        ("analysis_staff.forest_file", "fmt"): "svg",
        ("analysis_staff.ranking_file", "fmt"): "svg",
        ("analysis_staff.trend_file", "fmt"): "svg",
        "code": "26734",
        "token": point.token,
        "fmt": "json",
        "request_id": str(published.id),
        "case_id": str(case.id),
        "position": "1",
        "user_id": str(users["handler"].id),
        "key_id": str(key.id),
        "day_id": str(day.id),
        "response_id": str(answers[1].id),
        "filename": "style.css",
        "_rest": "nothing-here",
    }


def real_value(world, endpoint, name, language):
    if (endpoint, name) in world:
        return world[(endpoint, name)] or language
    return world[name]


def snapshot() -> dict[str, list]:
    """Every row of every table, but for what a GET may write (READ_RECORDS, READ_COLUMNS)."""
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name in READ_RECORDS:
            rows[table.name] = None
            continue
        columns = [c for c in table.columns if c.name not in READ_COLUMNS.get(table.name, ())]
        rows[table.name] = sorted(map(tuple, db.session.execute(select(*columns))), key=repr)
    db.session.rollback()
    return rows


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def clients(app) -> dict:
    app.test_client_class = RequestClient
    made = {}
    for number, (who, (email, language)) in enumerate(VISITORS.items(), start=1):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"  # rate limits of its own
        if email:
            assert login(client, email).status_code == 302
        made[who] = (client, language)
    return made


def path_of(rule, values: dict[str, str]) -> str:
    """The rule's path with each variable replaced by its value, percent-encoded ('/' kept)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(values[m.group(1)]), rule.rule)


def get_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: r.endpoint
    )


VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
# Werkzeug's own error page, in English whatever was asked: the app must answer with its own.
WERKZEUG_PAGE = re.compile(r"^<!doctype html>\n<html lang=en>\n<title>\d{3} ")
HTML_LANG = re.compile(r"<html[^>]*\blang=\"([a-z-]+)\"")


def check(response, language: str, sent: str, what: str, endpoint: str = "") -> None:
    """Assert what every answer must be, whatever was sent."""
    status, kind = response.status_code, response.mimetype or ""
    if status < 400 and endpoint in ALWAYS_VIETNAMESE:
        language = "vi"
    assert status < 500, f"{what}: {status}"
    texts = ("text/", "application/json", "application/xml", "image/svg+xml")
    body = response.get_data(as_text=True) if kind.startswith(texts) else ""
    assert not WERKZEUG_PAGE.search(body), f"{what}: Werkzeug's own {status} page"
    if kind == "text/html" and not 300 <= status < 400:  # a redirect's body is not read
        assert HTML_LANG.search(body), f"{what}: {status} page without <html lang>"
        assert HTML_LANG.search(body).group(1) == language, f"{what}: {status} not in {language}"
        if language == "vi" and status >= 400:
            assert VIETNAMESE.search(body), f"{what}: {status} page without Vietnamese text"
    if MARKUP in sent and kind in ("text/html", "text/xml", "application/xml", "image/svg+xml"):
        assert MARKUP not in body, f"{what}: {MARKUP} reflected unescaped in {kind}"
    if location := response.headers.get("Location"):
        parts = urlsplit(location)
        assert parts.netloc in ("", "localhost", "survey.test"), f"{what}: off to {location}"
        assert not location.startswith(("//", "/\\")), f"{what}: off to {location}"


def real_url(rule, world, language) -> str:
    real = {n: real_value(world, rule.endpoint, n, language) for n in rule.arguments}
    query = REAL_QUERY.get(rule.endpoint)
    return path_of(rule, real) + (f"?{query}" if query else "")


def hostile_paths(rule, world, language):
    """(label, URL, value sent): each path variable in turn hostile, the others real."""
    real = {n: real_value(world, rule.endpoint, n, language) for n in rule.arguments}
    for name in sorted(rule.arguments):
        for label, value in HOSTILE.items():
            yield f"<{name}> {label}", path_of(rule, real | {name: value}), value


def hostile_queries(rule, world, language, names, alone: bool):
    """(label, URL, value sent): each name the view reads alone (if alone) and all of them
    together, with each hostile value."""
    base = real_url(rule, world, language)
    joint = "&" if "?" in base else "?"
    for label, value in HOSTILE.items():
        if alone:
            for name in sorted(names):
                yield f"?{name}= {label}", f"{base}{joint}{urlencode({name: value})}", value
        together = urlencode(dict.fromkeys(sorted(names), value))
        yield f"all names {label}", f"{base}{joint}{together}", value


def query_names(app, rule, admin, world) -> set[str]:
    """What the view reads (names_read) and what the GET forms of its page send."""
    names = names_read(app.view_functions[rule.endpoint])
    page = admin.get(real_url(rule, world, "vi"))
    if page.mimetype == "text/html":
        names |= get_form_names(page.get_data(as_text=True))
    return names


def pytest_generate_tests(metafunc):
    """Parametrize each test with the rules of app.url_map it walks (RULES_OF)."""
    if "rule" in metafunc.fixturenames:
        from core import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
        rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))
        read = {r.rule for r in rules if "GET" in r.methods}
        wanted = RULES_OF[metafunc.function.__name__](rules, read)
        metafunc.parametrize("rule", [r.endpoint + " " + r.rule for r in wanted])


RULES_OF = {
    "test_get_route_walked_with_hostile_values": lambda rules, read: [
        r for r in rules if "GET" in r.methods
    ],
    # The routes a GET finds only with another method.
    "test_post_only_route_answers_get_with_405": lambda rules, read: [
        r for r in rules if r.rule not in read
    ],
    "test_post_route_refuses_bad_forms": lambda rules, read: [
        r for r in rules if "POST" in r.methods
    ],  # tests/test_hostile_forms.py
}


def find_rule(app, label):
    endpoint, path = label.split(" ", 1)
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == path)


def test_get_route_walked_with_hostile_values(walked, rule):
    """Every visitor: the real URL (and HEAD), each path variable hostile, every name together
    hostile; each name alone hostile by the first visitor the real URL lets in, in the order
    of VISITORS (a citizen for a public page, the narrowest scope for a staff page)."""
    app, world, visitors = walked
    rule = find_rule(app, rule)
    names = query_names(app, rule, visitors["admin"][0], world)
    before, counts = snapshot(), row_counts()
    alone_by = None
    for who, (client, language) in visitors.items():
        url = real_url(rule, world, language)
        response = client.get(url)
        check(response, language, "", f"{who} real {url}", rule.endpoint)
        if who == "admin":
            assert client.head(url).status_code == response.status_code, f"HEAD {url}"
            assert response.status_code == NOT_A_PAGE.get(rule.endpoint, 200), (
                f"the real URL {url} answers the administrator {response.status_code}"
            )
        walk = hostile_paths(rule, world, language)
        if response.status_code < 300:  # a visitor refused is refused whatever the query
            alone = alone_by is None
            alone_by = who if alone else alone_by
            walk = chain(walk, hostile_queries(rule, world, language, names, alone))
        for label, url, sent in walk:
            response = client.get(url)
            check(response, language, sent, f"{who} {label} {url[:120]}", rule.endpoint)
    after = row_counts()
    changed = {t: (counts[t], after[t]) for t in counts if counts[t] != after[t]}
    assert set(changed) <= set(READ_RECORDS), f"rows added or removed by GET: {changed}"
    assert snapshot() == before, "a row changed"


def test_post_only_route_answers_get_with_405(walked, rule):
    app, world, visitors = walked
    rule = find_rule(app, rule)
    for who, (client, language) in visitors.items():
        real = {n: real_value(world, rule.endpoint, n, language) for n in rule.arguments}
        response = client.get(path_of(rule, real))
        check(response, language, "", f"{who} GET {rule.rule}")
        if who.startswith("citizen"):  # or first asked to sign in, as for the staff pages
            assert response.status_code in (302, 401, 405), who
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), who
        else:
            assert response.status_code == 405, who

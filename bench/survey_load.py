"""Load test of the citizen's survey form, side by side with a minimal Flask app.

Prepares a fresh instance in a temporary folder (SQLite, `flask --app wsgi setup`), serves the
shipped `wsgi:app` with gunicorn on a free 127.0.0.1 port, then bench/minimal_app.py (same
gunicorn settings, a copy of the same database, one INSERT per POST), and drives each with N
concurrent clients for --warmup + --seconds. Two figures, each ours beside the minimal app's:

1. **Submissions/s** (the issue's figure): the rate at which each server records answers.
   Before our app's measured window the clients GET --forms real forms from the running server
   (each a new phone: no cookie sent, so each has its own key, token and hl_device cookie) and
   keep them; that preparation is not measured. In the window each client POSTs its kept forms
   one after the other, each once. Our submission is the POST and the page
   that confirms it: the thank-you page in the POST's answer (200), or, from a checkout that
   answers with a 303, that 303 and the GET of /s/<token>/thanks it points to. The minimal app's
   submission is its POST alone (204): it serves no form. A client that runs out of kept forms
   GETs a new one before each POST, inside the window (the figure only gets worse), and the
   output says how many it fetched there.
2. **Citizens/s** (not the issue's target; --no-citizens skips it): whole citizens, as a phone
   goes through the survey: GET the form, POST it, and the thank-you page (the POST's answer, or
   a GET after its 303). The minimal app's citizen makes as many requests to its fixed pages:
   GET form + POST, + GET thank-you when ours needed one.

Each of the four runs is a fresh gunicorn (the citizens' runs reuse each app's database). It
prints the rate and latency percentiles side by side, checks after each run that every
successful submission was stored exactly once, and stops everything it started.

    .venv/bin/python bench/survey_load.py               # 4 clients, 30 s each, sync workers
    .venv/bin/python bench/survey_load.py --clients 8 --threads 4 --seconds 10 --profile
    .venv/bin/python bench/survey_load.py --database-url postgresql://postgres@127.0.0.1/bench

With --database-url the instance's database is that PostgreSQL database instead (emptied
first, so its name must start with "bench"; a server that cannot be reached stops the
benchmark), and the minimal app writes into its `response` table with psycopg. The CPU of the
server's processes is read in /proc: its backends serving the database, and apart the rest of
the server (checkpointer, WAL writer...), which other databases' work shares.

The client runs on the same machine: its CPU use is printed, since on 2 cores it competes with
the 2 workers it measures; so is the CPU that other processes took meanwhile, and each server's
CPU per submission, which does not depend on them.
"""

import argparse
import functools
import http.client
import os
import random
import re
import sqlite3
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import benchlib
import benchpg
from benchlib import HOST, percentile

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
KEY = re.compile(rb'name="key" value="([0-9a-f]*)"')
QUESTION = re.compile(rb'name="([A-E][0-9])" value="1"')
PROCEDURE = re.compile(rb'<option value="([a-z-]+)"')
CONFIRMED = b'role="status"'  # the thank-you page's message
CRITERIA = [
    f"{e}{i}" for e, n in zip("ABCDE", (4, 4, 5, 3, 3), strict=True) for i in range(1, n + 1)
]
COMMENTS = [
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Phải chờ khá lâu, mong bố trí thêm quầy.",
    "Thủ tục nhanh gọn, cảm ơn.",
    "Phòng chờ nóng, thiếu ghế ngồi.",
]
VI = {"Accept-Language": "vi"}
POSTED = {"Content-Type": "application/x-www-form-urlencoded"}
DEFAULT_FORMS = 40_000


def answers(rng: random.Random, questions, procedures, key: str, csrf: str | None) -> bytes:
    """A plausible citizen: mostly satisfied, some 'no opinion', a few comments."""
    mood = rng.random()
    fields = []
    if csrf is not None:
        fields.append(("csrf_token", csrf))
    fields.append(("key", key))
    fields.append(("HK", "yes" if rng.random() < 0.05 else "no"))
    for q in questions:
        if q[0] == "E" and rng.random() < 0.5:
            fields.append((q, "0"))
        elif rng.random() < mood + 0.3:
            fields.append((q, str(rng.choice((4, 5, 5)))))
        else:
            fields.append((q, str(rng.choice((1, 2, 3)))))
    fields.append(
        ("procedure", rng.choice(procedures) if procedures and rng.random() < 0.7 else "")
    )
    fields.append(("comment", rng.choice(COMMENTS) if rng.random() < 0.2 else ""))
    return urlencode(fields).encode()


class Http:
    """One keep-alive connection (reopened when the server closes it, as sync workers do)."""

    def __init__(self, port: int, timeout: float):
        self.port, self.timeout, self.conn = port, timeout, None
        self.connects = 0
        self.requests = 0  # answered

    def call(self, method: str, path: str, body: bytes | None = None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.connects += 1
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self.requests += 1
        if resp.will_close:
            self.close()
        return resp, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Refused(Exception):
    """The server answered, but not as a working form or submission does; the text says how."""


@dataclass(frozen=True, slots=True)
class Point:
    """What every form of one survey point shares, read from its first page: kept once per
    token, not per form, so that 40,000 kept forms stay a few megabytes."""

    path: str
    questions: tuple[str, ...]
    procedures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Form:
    """A form as one phone got it: what its POST must send back."""

    point: Point
    cookie: str  # the Cookie header: hl_device (and an older checkout's session cookie)
    csrf: str
    key: str


def fetch_form(client: Http, token: str, points: dict[str, Point]) -> Form:
    """GET a new form as a new phone does (no cookie sent) and keep what its POST needs.
    points: the points seen so far, by token (shared by threads: a race only parses twice)."""
    path = f"/s/{token}"
    resp, page = client.call("GET", path, headers=VI)
    if resp.status != 200:
        raise Refused(f"GET form {resp.status}")
    csrf, key = CSRF.search(page), KEY.search(page)
    cookie = "; ".join(c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or ())
    if not csrf or not key or not cookie:
        raise Refused("form without csrf_token, key or cookie")
    point = points.get(token)
    if point is None:
        questions = tuple(q.decode() for q in QUESTION.findall(page))
        procedures = tuple(p.decode() for p in PROCEDURE.findall(page))
        point = points.setdefault(token, Point(path, questions, procedures))
    return Form(point, cookie, csrf.group(1).decode(), key.group(1).decode())


def submit(client: Http, form: Form, rng: random.Random) -> bool:
    """POST the form's answers with its cookies until the page that confirms them: the POST's
    own answer (200 with the thank-you message), or, where the app answers with a 303 to
    /s/<token>/thanks, that page's GET. True when it took that third request; Refused else."""
    body = answers(rng, form.point.questions, form.point.procedures, form.key, form.csrf)
    headers = {**POSTED, **VI, "Cookie": form.cookie}
    resp, page = client.call("POST", form.point.path, body, headers)
    if resp.status == 200 and CONFIRMED in page:
        return False
    thanks = f"{form.point.path}/thanks"
    if resp.status != 303 or not resp.getheader("Location", "").endswith(thanks):
        raise Refused(f"POST {resp.status}")
    resp, _ = client.call("GET", thanks, headers={**VI, "Cookie": form.cookie})
    if resp.status != 200:
        raise Refused(f"GET thanks {resp.status}")
    return True


@dataclass
class Tally:
    """What one client saw; merged after the run."""

    submit_ms: list = field(default_factory=list)  # POST + thank-you page (ours), POST (minimal)
    page_ms: list = field(default_factory=list)  # the form's GET, when each success has one
    done_at: list = field(default_factory=list)  # monotonic completion time of each success
    fetched_at: list = field(default_factory=list)  # forms fetched after the kept ran out
    ok_keys: list = field(default_factory=list)
    failed_keys: list = field(default_factory=list)  # POST sent, no proper answer
    errors: dict = field(default_factory=dict)
    redirects: int = 0  # successes confirmed by a GET after a 303
    requests: int = 0
    connects: int = 0

    def error(self, what: str):
        self.errors[what] = self.errors.get(what, 0) + 1

    def merge(self, other: "Tally"):
        for name in ("submit_ms", "page_ms", "done_at", "fetched_at", "ok_keys", "failed_keys"):
            getattr(self, name).extend(getattr(other, name))
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        self.redirects += other.redirects
        self.requests += other.requests
        self.connects += other.connects


@dataclass
class Prepared:
    """The forms fetched before the window, one list per client, used in order, each once."""

    forms: list[list[Form]]
    seconds: float
    errors: dict


def prepare_forms(port: int, tokens: list[str], args, points: dict[str, Point]) -> Prepared:
    """GET args.forms new forms from the running server on the clients' threads, before the
    measured run: a form is what a phone holds when it presses Send. Each GET sends no cookie,
    as a new phone's; a client stops after 100 refusals (the run then reports them)."""
    shares = [args.forms // args.clients + (i < args.forms % args.clients)
              for i in range(args.clients)]  # fmt: skip
    forms: list[list[Form]] = [[] for _ in shares]
    tallies = [Tally() for _ in shares]

    def fetch(i: int) -> None:
        rng = random.Random(args.seed * 1000 + 500 + i)
        client = Http(port, args.timeout)
        while len(forms[i]) < shares[i] and sum(tallies[i].errors.values()) < 100:
            try:
                forms[i].append(fetch_form(client, rng.choice(tokens), points))
            except (Refused, OSError, http.client.HTTPException) as e:
                tallies[i].error(str(e) if isinstance(e, Refused) else type(e).__name__)
        client.close()

    start = time.monotonic()
    threads = [threading.Thread(target=fetch, args=(i,), daemon=True) for i in range(len(shares))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors: dict = {}
    for tally in tallies:
        for k, v in tally.errors.items():
            errors[f"preparation: {k}"] = errors.get(f"preparation: {k}", 0) + v
    return Prepared(forms, time.monotonic() - start, errors)


def ours_client(port, i, tally: Tally, deadline, *, args, tokens, points, kept=None):
    """Ours until the deadline. kept (a Prepared): POST this client's kept forms in order, and
    when none is left GET a new one before each POST (counted in fetched_at). No kept: whole
    citizens, each a GET of a new form (timed apart), then its POST."""
    rng = random.Random(args.seed * 1000 + i)
    client = Http(port, args.timeout)
    forms = iter(kept.forms[i] if kept is not None else ())
    while time.monotonic() < deadline:
        if not args.reuse:
            client.close()  # the next form is another phone's: a new connection
        form, key = next(forms, None), None
        try:
            if form is None:
                t0 = time.perf_counter()
                form = fetch_form(client, rng.choice(tokens), points)
                page_ms = (time.perf_counter() - t0) * 1000
                if kept is not None:
                    tally.fetched_at.append(time.monotonic())
            key = form.key
            t2 = time.perf_counter()
            redirected = submit(client, form, rng)
            t3 = time.perf_counter()
        except (Refused, OSError, http.client.HTTPException) as e:
            tally.error(str(e) if isinstance(e, Refused) else type(e).__name__)
            if key:  # POSTed, perhaps stored: the stored check accepts it either way
                tally.failed_keys.append(key)
            continue
        if kept is None:
            tally.page_ms.append(page_ms)
        tally.redirects += redirected
        tally.submit_ms.append((t3 - t2) * 1000)
        tally.done_at.append(time.monotonic())
        tally.ok_keys.append(key)
    tally.connects, tally.requests = client.connects, client.requests
    client.close()


def minimal_client(port, i, tally: Tally, deadline, *, args, tokens, pages=False, thanks=False):
    """Minimal app: the same answers, POST only; pages: GET its fixed form page first (timed
    apart), thanks: GET its fixed thank-you page after the POST (within the submission)."""
    rng = random.Random(args.seed * 1000 + i)
    client = Http(port, args.timeout)
    procedures = ["ho-tich", "chung-thuc", "cu-tru", "dat-dai", "khac"]
    while time.monotonic() < deadline:
        if not args.reuse:
            client.close()
        path = f"/s/{rng.choice(tokens)}"
        key = os.urandom(16).hex()
        body = answers(rng, CRITERIA, procedures, key, None)
        try:
            if pages:
                t0 = time.perf_counter()
                client.call("GET", path)
                page_ms = (time.perf_counter() - t0) * 1000
            t2 = time.perf_counter()
            resp, _ = client.call("POST", path, body, POSTED)
            problem = None if resp.status == 204 else f"POST {resp.status}"
            if thanks and problem is None:
                resp, _ = client.call("GET", f"{path}/thanks")
                problem = None if resp.status == 200 else f"GET thanks {resp.status}"
            t3 = time.perf_counter()
        except (OSError, http.client.HTTPException) as e:
            tally.error(type(e).__name__)
            tally.failed_keys.append(key)
            continue
        if problem:
            tally.error(problem)
            tally.failed_keys.append(key)
            continue
        if pages:
            tally.page_ms.append(page_ms)
        tally.redirects += thanks
        tally.submit_ms.append((t3 - t2) * 1000)
        tally.done_at.append(time.monotonic())
        tally.ok_keys.append(key)
    tally.connects, tally.requests = client.connects, client.requests
    client.close()


def drive(work, args, server: benchlib.Server, pg=None) -> dict:
    """Run work(i, tally, deadline) on --clients threads: --warmup seconds unmeasured, then
    --seconds measured; pg: the connection to the PostgreSQL database, whose server's CPU is
    measured too."""
    start = time.monotonic()
    warm_end = start + args.warmup
    deadline = warm_end + args.seconds
    tallies = [Tally() for _ in range(args.clients)]
    threads = [
        threading.Thread(target=work, args=(i, tallies[i], deadline), daemon=True)
        for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    time.sleep(max(0.0, warm_end - time.monotonic()))
    cpu_client0, cpu_server0 = time.process_time(), server.cpu_seconds()
    machine0 = benchlib.system_cpu()
    db0 = benchpg.server_cpu(pg) if pg is not None else None
    time.sleep(max(0.0, deadline - time.monotonic()))
    cpu_client1, cpu_server1 = time.process_time(), server.cpu_seconds()
    machine1 = benchlib.system_cpu()
    db1 = benchpg.server_cpu(pg) if db0 is not None else None
    for t in threads:  # each finishes its request in flight, within --timeout per call
        t.join(timeout=3 * args.timeout + 5)
    stuck = sum(t.is_alive() for t in threads)
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    # Only what completed inside the measured window counts for speed and latency.
    inside = [i for i, at in enumerate(total.done_at) if warm_end <= at <= deadline]
    submit_ms = sorted(total.submit_ms[i] for i in inside)
    page = sorted(total.page_ms[i] for i in inside) if total.page_ms else []
    window = deadline - warm_end
    server_cpu = None if cpu_server0 is None or cpu_server1 is None else cpu_server1 - cpu_server0
    machine = None if machine0 is None or machine1 is None else (machine1[0] - machine0[0]) / window
    client_cpu = (cpu_client1 - cpu_client0) / window
    server_cpu = None if server_cpu is None else server_cpu / window
    db_cpu = db_bg_cpu = None
    if db0 is not None and db1 is not None:
        db_cpu = benchpg.cpu_used(db0["backends"], db1["backends"]) / window
        db_bg_cpu = benchpg.cpu_used(db0["background"], db1["background"]) / window
    others = None
    if machine is not None and server_cpu is not None:
        others = max(0.0, machine - server_cpu - client_cpu - (db_cpu or 0) - (db_bg_cpu or 0))
    n = max(1, len(submit_ms))
    return {
        "tally": total,
        "stuck": stuck,
        "n": len(submit_ms),
        "rate": len(submit_ms) / window,
        "req_rate": total.requests / (time.monotonic() - start),
        "p50": percentile(submit_ms, 50),
        "p99": percentile(submit_ms, 99),
        "max": submit_ms[-1] if submit_ms else float("nan"),
        "page_p50": percentile(page, 50),
        "page_p99": percentile(page, 99),
        "fetched": sum(warm_end <= at <= deadline for at in total.fetched_at),
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
        "other_cpu": others,
        "server_cpu_ms": None if server_cpu is None else server_cpu * window * 1000 / n,
        "db_cpu": db_cpu,
        "db_bg_cpu": db_bg_cpu,
        "db_cpu_ms": None if db_cpu is None else db_cpu * window * 1000 / n,
        "db_bg_cpu_ms": None if db_bg_cpu is None else db_bg_cpu * window * 1000 / n,
    }


def query(db, sql: str) -> list[tuple]:
    """Rows of sql in the SQLite file db (a Path) or on the psycopg connection db."""
    if not isinstance(db, Path):
        return db.execute(sql).fetchall()
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


BASELINE = "SELECT count(*), coalesce(max(id), 0) FROM response"


def verify(db, tally: Tally, baseline: tuple[int, int]) -> tuple[bool, str]:
    """Every successful submission stored exactly once, nothing else added; baseline is the
    count of rows and the last id before the run (the demo's answers have keys of their own).
    On PostgreSQL an id taken by a transaction that committed after the baseline could be
    below it; none is, since the baseline is read while nothing writes."""
    count, last_id = baseline
    total = query(db, "SELECT count(*) FROM response")[0][0]
    keys = [r[0] for r in query(
        db,
        "SELECT submission_key FROM response "  # noqa: S608 - an int
        f"WHERE submission_key IS NOT NULL AND id > {int(last_id)}",
    )]  # fmt: skip
    stored = set(keys)
    ok, failed = set(tally.ok_keys), set(tally.failed_keys) - set(tally.ok_keys)
    dups = len(keys) - len(stored)
    lost = len(ok - stored)
    unknown = len(stored - ok - failed)
    failed_stored = len(failed & stored)
    added = total - count
    good = dups == 0 and lost == 0 and unknown == 0 and added == len(keys)
    good = good and added == len(ok) + failed_stored
    text = (
        f"rows added {added}, successful submissions {len(ok)}: "
        f"{'equal' if added == len(ok) else 'DIFFERENT'}; lost {lost}, duplicates {dups}, "
        f"unknown {unknown}"
    )
    if failed:
        text += f"; failed submissions {len(failed)} of which stored anyway {failed_stored}"
    return good, text


# Inclusive time of a few entry points, to say where a request's CPU goes.
PROFILE_SPOTS = [
    ("Jinja templates (render_template)", "flask/templating.py", "render_template"),
    ("WTForms: build the form", "wtforms/form.py", "__call__"),
    ("WTForms: validate (incl. CSRF check)", "wtforms/form.py", "validate"),
    ("SQLAlchemy: queries", "sqlalchemy/orm/session.py", "_execute_internal"),
    ("SQLAlchemy: lazy loads (point.unit)", "sqlalchemy/orm/strategies.py", "_load_for_state"),
    ("SQLAlchemy: commit", "sqlalchemy/orm/session.py", "commit"),
    ("signed session cookie: read", "flask/sessions.py", "open_session"),
    ("signed session cookie: write", "flask/sessions.py", "save_session"),
    ("Babel: finding the translations", "flask_babel/__init__.py", "get_translations"),
    ("security/i18n after_request hooks", "flask/app.py", "process_response"),
]


def profile_requests(
    instance: Path, tokens: list[str], citizens: int, top: int, database_url: str | None = None
) -> str:
    """CPU per request, measured in-process with Flask's test client, then a cProfile summary."""
    import cProfile
    import io
    import pstats

    os.environ.update(benchlib.app_env(instance, database_url=database_url))
    if str(benchlib.ROOT) not in sys.path:
        sys.path.insert(0, str(benchlib.ROOT))
    from core import create_app

    app = create_app()
    rng = random.Random(7)
    cpu = {"GET form": 0.0, "POST answers": 0.0, "GET thanks": 0.0}
    thanks_gets = [0]

    def one(i: int) -> None:
        """A citizen: the form, its POST, and the thank-you GET where the POST answers with a
        303 (none where it answers with the page itself)."""
        client = app.test_client()
        path = f"/s/{tokens[i % len(tokens)]}"
        t0 = time.process_time()
        page = client.get(path, headers=VI).data
        t1 = time.process_time()
        questions = [q.decode() for q in QUESTION.findall(page)]
        procedures = [p.decode() for p in PROCEDURE.findall(page)]
        key, csrf = KEY.search(page).group(1).decode(), CSRF.search(page).group(1).decode()
        body = answers(rng, questions, procedures, key, csrf)
        t2 = time.process_time()
        posted = client.post(path, data=body, headers={**VI, **POSTED})
        t3 = time.process_time()
        thanks = None
        if posted.status_code == 303:
            thanks = client.get(f"{path}/thanks", headers=VI).status_code
            thanks_gets[0] += 1
        t4 = time.process_time()
        confirmed = posted.status_code == 200 and CONFIRMED in posted.data
        if not (confirmed or (posted.status_code == 303 and thanks == 200)):
            raise SystemExit(
                f"in-process citizen failed: POST {posted.status_code}, thanks {thanks}"
            )
        cpu["GET form"] += t1 - t0
        cpu["POST answers"] += t3 - t2
        cpu["GET thanks"] += t4 - t3

    for i in range(30):
        one(i)
    cpu = dict.fromkeys(cpu, 0.0)
    thanks_gets[0] = 0
    for i in range(citizens):
        one(i)
    out = io.StringIO()
    total = sum(cpu.values())
    print(f"\nin-process, Flask test client, {citizens} citizens, CPU per request:", file=out)
    for name, seconds in cpu.items():
        made = name != "GET thanks" or thanks_gets[0]
        print(f"  {name:28} {fmt(seconds * 1000 / citizens if made else None, '6.2f'):>6} ms",
              file=out)  # fmt: skip
    if thanks_gets[0] < citizens:
        print(f"  (the POST answered {citizens - thanks_gets[0]} of {citizens} with the "
              "thank-you page itself: no GET thanks for those)", file=out)  # fmt: skip
    print(f"  {'whole citizen':28} {total * 1000 / citizens:6.2f} ms", file=out)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(citizens):
        one(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    profiled = max(ct for (_f, _l, _n), (_cc, _nc, _tt, ct, _c) in stats.stats.items())
    print("where it goes (inclusive time, % of all; the spots overlap):", file=out)
    for label, path, func in PROFILE_SPOTS:
        spent = max(
            (
                ct
                for (f, _l, n), (_cc, _nc, _tt, ct, _c) in stats.stats.items()
                if n == func and f.endswith(path)
            ),
            default=0.0,
        )
        print(f"  {label:40} {100 * spent / profiled:5.1f} %", file=out)
    print(f"top {top} by own time:", file=out)
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def scan_log(log: Path) -> dict[str, int]:
    text = log.read_text(errors="replace")
    return {
        what: text.count(what)
        for what in ("Traceback", "database is locked", "WORKER TIMEOUT", "[ERROR]")
        if what in text
    }


def fmt(value, spec=".1f") -> str:
    return "–" if value is None or value != value else format(value, spec)


@dataclass
class App:
    """One of the two servers: what gunicorn serves, from where, over which database."""

    name: str
    wsgi: str
    db: object  # the SQLite file (a Path) or the psycopg connection
    cwd: Path
    env: dict
    extra: tuple
    ready: str  # a path that answers 200 once a worker serves


def run_once(app: App, mode: str, client, args, pg, tmp: Path, prepare=None) -> dict:
    """Serve app with a fresh gunicorn, drive it with client(port, i, tally, deadline) (with
    kept= the forms that prepare(port) fetched first, when given), stop it, and check what it
    stored: the figures, with "check" and "log"."""
    baseline = query(app.db, BASELINE)[0]
    if pg is not None:
        pg.execute("CHECKPOINT")  # each run starts with no dirty pages of the last
    port = benchlib.free_port()
    env = dict(app.env, PUBLIC_BASE_URL=f"http://{HOST}:{port}")
    cmd = benchlib.gunicorn_cmd(app.wsgi, port, args.workers, args.threads, app.extra)
    log = tmp / f"gunicorn-{app.name}-{mode}.log"
    server = benchlib.Server(cmd, app.cwd, env, log)
    prepared = None
    try:
        server.wait_ready(port, app.ready)
        print(f"{app.name}, {mode}: serving on {HOST}:{port}", flush=True)
        if prepare is not None:
            prepared = prepare(port)
            count = sum(map(len, prepared.forms))
            print(f"  {count} forms fetched in {prepared.seconds:.1f} s", flush=True)
            client = functools.partial(client, kept=prepared)
        print(f"  driving for {args.warmup + args.seconds:g} s ...", flush=True)
        result = drive(functools.partial(client, port), args, server, pg)
    finally:
        code = server.stop()
    tally = result["tally"]
    if prepared is not None:
        tally.errors.update(prepared.errors)
        result["prepared"] = sum(map(len, prepared.forms))
        result["prep_s"] = prepared.seconds
    else:
        result["prepared"] = result["prep_s"] = result["fetched"] = None
    result["connects"] = tally.connects
    result["log"] = scan_log(log)
    if code not in (0, None):
        result["log"]["gunicorn exit code " + str(code)] = 1
    result["check"] = verify(app.db, tally, baseline)
    return result


def cpu_rows(unit: str, pg) -> list[tuple[str, str, str]]:
    """The table's rows on the machine's CPU, per unit counted ('submission', 'citizen')."""
    rows = [
        ("HTTP requests/s", "req_rate", ".1f"),
        ("server CPU (cores)", "server_cpu", ".2f"),
        ("client CPU (cores)", "client_cpu", ".2f"),
        ("other processes CPU (cores)", "other_cpu", ".2f"),
    ]
    if pg is not None:
        rows += [
            ("PostgreSQL backends (cores)", "db_cpu", ".2f"),
            ("PostgreSQL rest (cores)", "db_bg_cpu", ".2f"),
        ]
    rows.append((f"server CPU ms/{unit}", "server_cpu_ms", ".2f"))
    if pg is not None:
        rows += [
            (f"PostgreSQL backends ms/{unit}", "db_cpu_ms", ".2f"),
            (f"PostgreSQL rest ms/{unit}", "db_bg_cpu_ms", ".2f"),
        ]
    return rows


SUBMISSION_ROWS = [
    ("submissions/s", "rate", ".1f"),
    ("submission p50 (ms)", "p50", ".1f"),
    ("submission p99 (ms)", "p99", ".1f"),
    ("submission max (ms)", "max", ".1f"),
]
SUBMISSION_COUNTS = [
    ("submissions measured", "n", "d"),
    ("TCP connections opened", "connects", "d"),
    ("forms prepared", "prepared", "d"),
    ("preparation (s)", "prep_s", ".1f"),
    ("forms fetched in the window", "fetched", "d"),
]
CITIZEN_ROWS = [
    ("citizens/s", "rate", ".1f"),
    ("POST + thank-you p50 (ms)", "p50", ".1f"),
    ("POST + thank-you p99 (ms)", "p99", ".1f"),
    ("POST + thank-you max (ms)", "max", ".1f"),
    ("form GET p50 (ms)", "page_p50", ".1f"),
    ("form GET p99 (ms)", "page_p99", ".1f"),
]
CITIZEN_COUNTS = [
    ("citizens measured", "n", "d"),
    ("TCP connections opened", "connects", "d"),
]


def print_table(title: str, results: dict[str, dict], rows) -> None:
    print(f"\n{title:34}" + "".join(f"{n:>14}" for n in results))
    for label, key, spec in rows:
        print(f"{label:34}" + "".join(f"{fmt(r[key], spec):>14}" for r in results.values()))


def note(text: str) -> None:
    """A footnote under a table, in parentheses, wrapped."""
    print(textwrap.fill(f"({text})", 96, initial_indent="  ", subsequent_indent="   "))


def report_runs(mode: str, results: dict[str, dict]) -> bool:
    """Print each run's client errors, server log and stored check; True if all is well."""
    good = True
    for name, r in results.items():
        errors = ", ".join(f"{k}: {v}" for k, v in r["tally"].errors.items()) or "none"
        log = ", ".join(f"{k}: {v}" for k, v in r["log"].items()) or "clean"
        ok, text = r["check"]
        print(f"{name}, {mode}: client errors {errors}; server log {log}")
        print(f"{name}, {mode}: stored check {'OK' if ok else 'FAILED'}: {text}")
        if r["stuck"]:
            print(f"{name}, {mode}: {r['stuck']} client threads did not stop")
        good = good and ok and not r["tally"].errors and not r["stuck"]
    return good


def ours_confirmation(tally: Tally) -> str:
    """How our POSTs were confirmed: by the page in their answer, or by a GET after a 303."""
    pages = len(tally.ok_keys) - tally.redirects
    return f"{pages} by the page in the POST's answer (200), {tally.redirects} by a 303"


def print_submissions(results: dict[str, dict], pg) -> None:
    """The issue's figure: submissions recorded per second, and its targets."""
    print_table("submissions", results, SUBMISSION_ROWS + cpu_rows("submission", pg)
                + SUBMISSION_COUNTS)  # fmt: skip
    if "ours" in results:
        note(
            "ours: a submission is the POST of a kept form and the page that confirms it: the "
            "thank-you page in the POST's answer, or a 303 and the GET of /s/<token>/thanks, "
            "both inside its time. The forms are fetched before the run; a client that runs "
            "out GETs one before each POST, inside the window but not in the submission's "
            f"time. Confirmed, warm-up included: {ours_confirmation(results['ours']['tally'])}."
        )
    if "minimal" in results:
        note("minimal: a submission is the POST alone, answered 204; it serves no form")
    if "ours" in results and "minimal" in results:
        ours, minimal = results["ours"], results["minimal"]
        ratio = ours["rate"] / minimal["rate"] if minimal["rate"] else float("nan")
        print(
            f"ratio ours/minimal submissions/s: {ratio:.2f} (target >= 0.50: "
            f"{'met' if ratio >= 0.5 else 'NOT met'}); our p99 {ours['p99']:.1f} ms "
            f"(target < 100 ms: {'met' if ours['p99'] < 100 else 'NOT met'})"
        )
        cpu_ours, cpu_minimal = ours["server_cpu_ms"], minimal["server_cpu_ms"]
        if cpu_ours and cpu_minimal:
            print(
                f"server CPU per submission: ours {cpu_ours:.2f} ms, minimal {cpu_minimal:.2f} ms: "
                f"the ratio the servers' CPU allows, whatever else runs on the machine, is "
                f"{cpu_minimal / cpu_ours:.2f}"
            )


def print_citizens(results: dict[str, dict], pg, minimal_thanks: bool) -> None:
    """Whole citizens per second, beside the minimal app serving as many requests."""
    flow = "GET form + POST" + (" + GET thank-you" if minimal_thanks else "")
    print_table("citizens (not the issue's target)", results,
                CITIZEN_ROWS + cpu_rows("citizen", pg) + CITIZEN_COUNTS)  # fmt: skip
    if "ours" in results:
        note(
            "ours: a citizen GETs a new form (the form GET rows), POSTs it and gets the "
            "thank-you page (the POST + thank-you rows): the POST's answer, or a GET after its "
            f"303. Confirmed, warm-up included: {ours_confirmation(results['ours']['tally'])}."
        )
    if "minimal" in results:
        thanks = ", GET its fixed thank-you page" if minimal_thanks else ""
        same = "as many requests as ours" if "ours" in results else "ours did not run"
        note(f"minimal: GET its fixed form page, POST (204){thanks}: {same}")
    if "ours" in results and "minimal" in results:
        ours, minimal = results["ours"], results["minimal"]
        ratio = ours["rate"] / minimal["rate"] if minimal["rate"] else float("nan")
        print(f"ratio ours/minimal citizens/s ({flow}; not the issue's target): {ratio:.2f}; "
              f"our POST + thank-you p99 {ours['p99']:.1f} ms")  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=30, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured time before it")
    parser.add_argument(
        "--clients", type=int, default=4,
        help="concurrent clients (threads, one keep-alive connection each)",
    )  # fmt: skip
    parser.add_argument(
        "--forms", type=int, default=DEFAULT_FORMS, metavar="N",
        help="forms to fetch before our submissions' run, in all, split over the clients: more "
        "than 2 workers record in 33 s on 2 cores (about 13,000 at 400 a second); a client "
        "that runs out GETs a new form before each POST, inside the window",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=0,
        help="0: gunicorn's sync worker; N>0: the gthread worker with N threads per worker",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=10, help="client timeout per request")
    parser.add_argument(
        "--reuse", action="store_true",
        help="keep each client's connection from one form or citizen to the next (default: a "
        "new connection for each, kept alive for its requests where the worker allows)",
    )  # fmt: skip
    parser.add_argument("--only", choices=("both", "ours", "minimal"), default="both")
    parser.add_argument(
        "--no-citizens", action="store_true",
        help="skip the whole citizens' runs (GET form, POST, thank-you) after the submissions'",
    )  # fmt: skip
    parser.add_argument(
        "--minimal-pages", action="store_true",
        help="kept for old commands: the citizens' runs (on unless --no-citizens) give the "
        "minimal app's citizen its fixed form and thank-you pages",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=int, nargs="?", const=300, default=0, metavar="N",
        help="after the load, run N citizens in-process (Flask test client): CPU per request "
        "and a cProfile summary of where it goes",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--app-dir", help="project checkout to serve (default: the one holding this script)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--database-url", metavar="postgresql://USER@127.0.0.1/bench...",
        help="PostgreSQL on this machine instead of SQLite, for both apps; the database is "
        "emptied first, so its name must start with 'bench'",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error("--clients and --workers must be >= 1, --seconds > 0, --warmup >= 0")
    if args.forms < 0:
        parser.error("--forms must be >= 0")
    if args.minimal_pages and args.no_citizens:
        parser.error("--minimal-pages is the citizens' runs: not with --no-citizens")
    pg_url = benchpg.bench_url(args.database_url) if args.database_url else None
    pg = benchpg.connect(pg_url) if pg_url else None  # before anything else: or exit

    root = benchlib.use_app_dir(args.app_dir)
    tmp = Path(tempfile.mkdtemp(prefix="hailong-load-"))
    instance = tmp / "instance"
    worker = f"gthread, {args.threads} threads" if args.threads else "sync"
    print(
        f"{date.today()}  {os.cpu_count()} CPUs  Python {sys.version.split()[0]}  "
        f"gunicorn {args.workers} workers ({worker})  {args.clients} clients  "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per run"
    )
    print(f"app: {root}  instance: {instance}")
    if pg is not None:
        print(f"database: {pg_url.render_as_string(hide_password=True)}  {benchpg.facts(pg)}")
    submissions, citizens = {}, {}
    minimal_thanks = True  # as many requests as ours: three, unless ours answers with the page
    profile_text = ""
    try:
        if pg is not None:
            benchpg.empty(pg)
        app_db_url = benchpg.app_url(pg_url) if pg_url else None
        env = benchlib.setup_instance(instance, database_url=app_db_url)
        tokens = benchlib.point_tokens(env)
        profile_instance = tmp / "profile-instance"
        profile_instance.mkdir()
        (profile_instance / "secret_key").write_text((instance / "secret_key").read_text())
        if pg is None:
            db = instance / "hailong.db"
            minimal_db = tmp / "minimal.db"
            benchlib.copy_db(db, minimal_db)
            benchlib.copy_db(db, profile_instance / "hailong.db")
            menv = dict(env, MINIMAL_DB=str(minimal_db))
        else:  # the same table for both apps (minimal_app.py says why)
            db = minimal_db = pg
            menv = dict(env, MINIMAL_DATABASE_URL=benchpg.conninfo(pg_url))
            pg.execute("VACUUM ANALYZE")  # as autovacuum would have done after the demo's load
        ours = App("ours", "wsgi:app", db, benchlib.ROOT, env, (), f"/s/{tokens[0]}")
        minimal = App("minimal", "minimal_app:app", minimal_db, tmp, menv,
                      ("--pythonpath", str(benchlib.BENCH)), "/health")  # fmt: skip
        points: dict[str, Point] = {}
        ours_work = functools.partial(ours_client, args=args, tokens=tokens, points=points)
        minimal_work = functools.partial(minimal_client, args=args, tokens=tokens)
        if args.only != "minimal":
            prepare = functools.partial(prepare_forms, tokens=tokens, args=args, points=points)
            submissions["ours"] = run_once(ours, "submissions", ours_work, args, pg, tmp, prepare)
        if args.only != "ours":
            submissions["minimal"] = run_once(minimal, "submissions", minimal_work, args, pg, tmp)
        if not args.no_citizens and args.only != "minimal":
            citizens["ours"] = run_once(ours, "citizens", ours_work, args, pg, tmp)
            minimal_thanks = citizens["ours"]["tally"].redirects > 0
        if not args.no_citizens and args.only != "ours":
            work = functools.partial(minimal_work, pages=True, thanks=minimal_thanks)
            citizens["minimal"] = run_once(minimal, "citizens", work, args, pg, tmp)
        if args.profile:
            profile_text = profile_requests(
                profile_instance, tokens, args.profile, 25, database_url=app_db_url
            )
    finally:
        if pg is not None:
            pg.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            for path in sorted(tmp.rglob("*"), key=lambda p: -len(p.parts)):
                path.rmdir() if path.is_dir() else path.unlink()
            tmp.rmdir()

    print_submissions(submissions, pg)
    good = report_runs("submissions", submissions)
    if citizens:
        print_citizens(citizens, pg, minimal_thanks)
        good = report_runs("citizens", citizens) and good
    print(profile_text, end="")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

"""Load test of the citizen's survey form, side by side with a minimal Flask app.

Prepares a fresh instance in a temporary folder (SQLite, `flask --app wsgi setup`), serves the
shipped `wsgi:app` with gunicorn on a free 127.0.0.1 port and drives the real form with N
concurrent simulated citizens for --seconds: GET /s/<token> (parse csrf_token, key, the questions),
POST the answers with the session cookie, follow the 303 to /s/<token>/thanks. Then it serves
bench/minimal_app.py (same gunicorn settings, a copy of the same database, one INSERT per POST)
and drives it with the same clients for the same time, POST only. It prints submissions/s and
latency percentiles side by side, checks that every successful submission was stored exactly
once, and stops everything it started.

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
CRITERIA = [
    f"{e}{i}" for e, n in zip("ABCDE", (4, 4, 5, 3, 3), strict=True) for i in range(1, n + 1)
]
COMMENTS = [
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Phải chờ khá lâu, mong bố trí thêm quầy.",
    "Thủ tục nhanh gọn, cảm ơn.",
    "Phòng chờ nóng, thiếu ghế ngồi.",
]


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
        if resp.will_close:
            self.close()
        return resp, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Tally:
    """What one client saw; merged after the run."""

    submit_ms: list = field(default_factory=list)  # POST + thank-you GET (ours) or POST (minimal)
    page_ms: list = field(default_factory=list)  # the form's GET (ours; minimal with pages)
    done_at: list = field(default_factory=list)  # monotonic completion time of each success
    ok_keys: list = field(default_factory=list)
    failed_keys: list = field(default_factory=list)  # POST sent, no proper answer
    errors: dict = field(default_factory=dict)
    requests: int = 0
    connects: int = 0

    def error(self, what: str):
        self.errors[what] = self.errors.get(what, 0) + 1

    def merge(self, other: "Tally"):
        for name in ("submit_ms", "page_ms", "done_at", "ok_keys", "failed_keys"):
            getattr(self, name).extend(getattr(other, name))
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        self.requests += other.requests
        self.connects += other.connects


def citizen(port, tokens, deadline, timeout, seed, tally: Tally, reuse: bool):
    """Ours: GET the form, POST it, follow the redirect; repeat until the deadline."""
    rng = random.Random(seed)
    client = Http(port, timeout)
    while time.monotonic() < deadline:
        if not reuse:
            client.close()  # the next citizen is another phone: a new connection
        path = f"/s/{rng.choice(tokens)}"
        key = None
        try:
            t0 = time.perf_counter()
            resp, page = client.call("GET", path, headers={"Accept-Language": "vi"})
            t1 = time.perf_counter()
            tally.requests += 1
            if resp.status != 200:
                tally.error(f"GET form {resp.status}")
                continue
            csrf, key_m = CSRF.search(page), KEY.search(page)
            cookie = "; ".join(c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or ())
            if not csrf or not key_m or not cookie:
                tally.error("form without csrf_token, key or session cookie")
                continue
            key = key_m.group(1).decode()
            questions = [q.decode() for q in QUESTION.findall(page)]
            procedures = [p.decode() for p in PROCEDURE.findall(page)]
            body = answers(rng, questions, procedures, key, csrf.group(1).decode())
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Accept-Language": "vi",
            }
            t2 = time.perf_counter()
            resp, _ = client.call("POST", path, body, headers)
            tally.requests += 1
            location = resp.getheader("Location", "")
            if resp.status != 303 or not location.endswith(f"{path}/thanks"):
                tally.error(f"POST {resp.status}")
                tally.failed_keys.append(key)
                continue
            resp, _ = client.call("GET", f"{path}/thanks", headers=headers)
            t3 = time.perf_counter()
            tally.requests += 1
            if resp.status != 200:
                tally.error(f"GET thanks {resp.status}")
                tally.failed_keys.append(key)
                continue
        except (OSError, http.client.HTTPException) as e:
            tally.error(type(e).__name__)
            if key:
                tally.failed_keys.append(key)
            continue
        tally.page_ms.append((t1 - t0) * 1000)
        tally.submit_ms.append((t3 - t2) * 1000)
        tally.done_at.append(time.monotonic())
        tally.ok_keys.append(key)
    tally.connects = client.connects
    client.close()


def minimal_client(port, tokens, deadline, timeout, seed, tally: Tally, reuse: bool, pages=False):
    """Minimal app: the same answers, POST only (with pages: GET form, POST, GET thank-you)."""
    rng = random.Random(seed)
    client = Http(port, timeout)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    procedures = ["ho-tich", "chung-thuc", "cu-tru", "dat-dai", "khac"]
    while time.monotonic() < deadline:
        if not reuse:
            client.close()
        path = f"/s/{rng.choice(tokens)}"
        key = os.urandom(16).hex()
        body = answers(rng, CRITERIA, procedures, key, None)
        try:
            if pages:
                t0 = time.perf_counter()
                resp, _ = client.call("GET", path)
                page_ms = (time.perf_counter() - t0) * 1000
                tally.requests += 1
            t2 = time.perf_counter()
            resp, _ = client.call("POST", path, body, headers)
            tally.requests += 1
            problem = None if resp.status == 204 else f"POST {resp.status}"
            if pages and problem is None:
                resp, _ = client.call("GET", f"{path}/thanks")
                tally.requests += 1
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
        tally.submit_ms.append((t3 - t2) * 1000)
        tally.done_at.append(time.monotonic())
        tally.ok_keys.append(key)
    tally.connects = client.connects
    client.close()


def drive(target, port, tokens, args, server: benchlib.Server, pg=None) -> dict:
    """Run the clients: --warmup seconds unmeasured, then --seconds measured; pg: the
    connection to the PostgreSQL database, whose server's CPU is measured too."""
    start = time.monotonic()
    warm_end = start + args.warmup
    deadline = warm_end + args.seconds
    tallies = [Tally() for _ in range(args.clients)]
    threads = [
        threading.Thread(
            target=target,
            args=(
                port,
                tokens,
                deadline,
                args.timeout,
                args.seed * 1000 + i,
                tallies[i],
                args.reuse,
            ),
            daemon=True,
        )
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
    submit = sorted(total.submit_ms[i] for i in inside)
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
    n = max(1, len(submit))
    return {
        "tally": total,
        "stuck": stuck,
        "n": len(submit),
        "rate": len(submit) / window,
        "req_rate": total.requests / (time.monotonic() - start),
        "p50": percentile(submit, 50),
        "p99": percentile(submit, 99),
        "max": submit[-1] if submit else float("nan"),
        "page_p50": percentile(page, 50),
        "page_p99": percentile(page, 99),
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

    def one(i: int) -> None:
        client = app.test_client()
        path = f"/s/{tokens[i % len(tokens)]}"
        lang = {"Accept-Language": "vi"}
        t0 = time.process_time()
        page = client.get(path, headers=lang).data
        t1 = time.process_time()
        questions = [q.decode() for q in QUESTION.findall(page)]
        procedures = [p.decode() for p in PROCEDURE.findall(page)]
        key, csrf = KEY.search(page).group(1).decode(), CSRF.search(page).group(1).decode()
        body = answers(rng, questions, procedures, key, csrf)
        t2 = time.process_time()
        status = client.post(
            path, data=body, headers={**lang, "Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        t3 = time.process_time()
        thanks = client.get(f"{path}/thanks", headers=lang).status_code
        t4 = time.process_time()
        if status != 303 or thanks != 200:
            raise SystemExit(f"in-process citizen failed: POST {status}, thanks {thanks}")
        cpu["GET form"] += t1 - t0
        cpu["POST answers"] += t3 - t2
        cpu["GET thanks"] += t4 - t3

    for i in range(30):
        one(i)
    cpu = dict.fromkeys(cpu, 0.0)
    for i in range(citizens):
        one(i)
    out = io.StringIO()
    total = sum(cpu.values())
    print(f"\nin-process, Flask test client, {citizens} citizens, CPU per request:", file=out)
    for name, seconds in cpu.items():
        print(f"  {name:28} {seconds * 1000 / citizens:6.2f} ms", file=out)
    print(f"  {'whole submission':28} {total * 1000 / citizens:6.2f} ms", file=out)
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=30, help="measured time per app")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured time before it")
    parser.add_argument(
        "--clients", type=int, default=4,
        help="concurrent simulated citizens (threads, one keep-alive connection each)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=0,
        help="0: gunicorn's sync worker; N>0: the gthread worker with N threads per worker",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=10, help="client timeout per request")
    parser.add_argument(
        "--reuse", action="store_true",
        help="keep each client's connection from one citizen to the next (default: a new "
        "connection per citizen, kept alive for that citizen's requests where the worker allows)",
    )  # fmt: skip
    parser.add_argument("--only", choices=("both", "ours", "minimal"), default="both")
    parser.add_argument(
        "--minimal-pages", action="store_true",
        help="the minimal app's citizen also GETs a fixed form page and a fixed thank-you page, "
        "three requests like ours (the issue's baseline is the POST alone)",
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
    pg_url = benchpg.bench_url(args.database_url) if args.database_url else None
    pg = benchpg.connect(pg_url) if pg_url else None  # before anything else: or exit

    root = benchlib.use_app_dir(args.app_dir)
    tmp = Path(tempfile.mkdtemp(prefix="hailong-load-"))
    instance = tmp / "instance"
    worker = f"gthread, {args.threads} threads" if args.threads else "sync"
    print(
        f"{date.today()}  {os.cpu_count()} CPUs  Python {sys.version.split()[0]}  "
        f"gunicorn {args.workers} workers ({worker})  {args.clients} clients  "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured per app"
    )
    print(f"app: {root}  instance: {instance}")
    if pg is not None:
        print(f"database: {pg_url.render_as_string(hide_password=True)}  {benchpg.facts(pg)}")
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
        profile_text = ""
        results, checks, logs = {}, {}, {}
        runs = []
        if args.only in ("both", "ours"):
            runs.append(("ours", citizen, db, "wsgi:app", benchlib.ROOT, env, ()))
        if args.only in ("both", "minimal"):
            extra = ("--pythonpath", str(benchlib.BENCH))
            client = functools.partial(minimal_client, pages=args.minimal_pages)
            runs.append(("minimal", client, minimal_db, "minimal_app:app", tmp, menv, extra))
        for name, target, dbfile, app, cwd, run_env, extra in runs:
            baseline = query(dbfile, BASELINE)[0]
            if pg is not None:
                pg.execute("CHECKPOINT")  # each run starts with no dirty pages of the last
            port = benchlib.free_port()
            run_env = dict(run_env, PUBLIC_BASE_URL=f"http://{HOST}:{port}")
            cmd = benchlib.gunicorn_cmd(app, port, args.workers, args.threads, extra)
            log = tmp / f"gunicorn-{name}.log"
            server = benchlib.Server(cmd, cwd, run_env, log)
            try:
                server.wait_ready(port, f"/s/{tokens[0]}" if name == "ours" else "/health")
                print(f"{name}: serving on {HOST}:{port}, driving for "
                      f"{args.warmup + args.seconds:g} s ...", flush=True)  # fmt: skip
                results[name] = drive(target, port, tokens, args, server, pg)
            finally:
                code = server.stop()
            logs[name] = scan_log(log)
            checks[name] = verify(dbfile, results[name]["tally"], baseline)
            if code not in (0, None):
                logs[name]["gunicorn exit code " + str(code)] = 1
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

    names = list(results)
    rows = [
        ("submissions/s", "rate", ".1f"),
        ("submission p50 (ms)", "p50", ".1f"),
        ("submission p99 (ms)", "p99", ".1f"),
        ("submission max (ms)", "max", ".1f"),
        ("form GET p50 (ms)", "page_p50", ".1f"),
        ("form GET p99 (ms)", "page_p99", ".1f"),
        ("HTTP requests/s", "req_rate", ".1f"),
        ("server CPU (cores)", "server_cpu", ".2f"),
        ("client CPU (cores)", "client_cpu", ".2f"),
        ("other processes CPU (cores)", "other_cpu", ".2f"),
        ("server CPU ms/submission", "server_cpu_ms", ".2f"),
    ]
    if pg is not None:
        rows[-1:-1] = [
            ("PostgreSQL backends (cores)", "db_cpu", ".2f"),
            ("PostgreSQL rest (cores)", "db_bg_cpu", ".2f"),
        ]
        rows += [
            ("PostgreSQL backends ms/subm.", "db_cpu_ms", ".2f"),
            ("PostgreSQL rest ms/subm.", "db_bg_cpu_ms", ".2f"),
        ]
    print()
    print(f"{'':28}" + "".join(f"{n:>14}" for n in names))
    for label, key, spec in rows:
        print(f"{label:28}" + "".join(f"{fmt(results[n][key], spec):>14}" for n in names))
    print(f"{'submissions measured':28}" + "".join(f"{results[n]['n']:>14}" for n in names))
    print(f"{'TCP connections opened':28}" + "".join(
        f"{results[n]['tally'].connects:>14}" for n in names))  # fmt: skip
    if args.minimal_pages:
        print("  (submission = POST + thank-you GET for both; each citizen also GETs the form")
        print("   first, and that time is not in it; the minimal app's pages are fixed strings)")
    else:
        print("  (submission = POST + thank-you GET for ours, the POST alone for minimal;")
        print("   each of our citizens also GETs the form first, and that time is not in it)")
    failed = False
    for n in names:
        r = results[n]
        errors = ", ".join(f"{k}: {v}" for k, v in r["tally"].errors.items()) or "none"
        log = ", ".join(f"{k}: {v}" for k, v in logs[n].items()) or "clean"
        good, text = checks[n]
        print(f"{n}: client errors {errors}; server log {log}")
        print(f"{n}: stored check {'OK' if good else 'FAILED'}: {text}")
        failed |= not good or bool(r["tally"].errors) or bool(r["stuck"])
        if r["stuck"]:
            print(f"{n}: {r['stuck']} client threads did not stop")
    if "ours" in results and "minimal" in results:
        ours, minimal = results["ours"], results["minimal"]
        ratio = ours["rate"] / minimal["rate"]
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
    print(profile_text, end="")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

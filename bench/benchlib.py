"""Shared helpers for the benchmarks: a fresh instance, gunicorn, CPU accounting, percentiles,
in-process page timings.

Nothing here talks to anything but 127.0.0.1, and every wait has a deadline.
"""

import compileall
import os
import re
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"


def use_app_dir(path: str | None) -> Path:
    """Benchmark another checkout of the project (e.g. an exported commit) instead of this one.

    Its modules are compiled first, as an installed app's are (pip compiles what it installs,
    and Python caches what it imports, unless PYTHONDONTWRITEBYTECODE is set, as on the machines
    these figures come from, where every fresh process compiled the app again: 50-70 ms).
    """
    global ROOT
    if path:
        ROOT = Path(path).resolve()
    if not (ROOT / "wsgi.py").is_file():
        raise SystemExit(f"{ROOT} has no wsgi.py: not a checkout of the project")
    for package in ("core", "survey", "feedback", "analysis"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "wsgi.py", quiet=1)
    return ROOT


def timed_process(args: list[str], cwd: Path, env: dict, timeout: float) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh `python ARGS`; exit with its output if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"python {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def app_env(
    instance: Path, base_url: str = "http://127.0.0.1:5000", database_url: str | None = None
) -> dict[str, str]:
    """The environment of the shipped app, pointed at a private instance directory and its
    SQLite file, or at the bench database given (benchpg.bench_url checks it)."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # never the developer's database
    if database_url:
        env["DATABASE_URL"] = database_url
    env.pop("SECRET_KEY", None)  # the instance makes its own
    env["HAILONG_INSTANCE"] = str(instance)
    env["PUBLIC_BASE_URL"] = base_url
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def flask_cmd(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run `flask --app wsgi ARGS` in the project with the interpreter running this script."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def setup_instance(instance: Path, database_url: str | None = None) -> dict[str, str]:
    """Create the instance: migrate, load the questionnaire and the demo province."""
    instance.mkdir(parents=True, exist_ok=True)
    env = app_env(instance, database_url=database_url)
    flask_cmd(env, "setup")
    return env


def point_tokens(env: dict[str, str]) -> list[str]:
    """Tokens of the active survey points, from `flask points list`."""
    out = flask_cmd(env, "points", "list")
    rows = [line.split("\t") for line in out.splitlines()]
    # token, URL, unit code, unit name, label, state, day retired (README)
    tokens = [row[0] for row in rows if len(row) > 5 and row[5] == "active"]
    if not tokens:
        raise SystemExit("`flask points list` printed no active survey point")
    return tokens


def copy_db(src: Path, dst: Path) -> None:
    """Copy a SQLite database consistently (the backup API, not a file copy of a WAL database)."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def gunicorn_cmd(app: str, port: int, workers: int, threads: int, extra=()) -> list[str]:
    cmd = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--bind", f"{HOST}:{port}",
        "--graceful-timeout", "5",
        "--timeout", "30",
        "--backlog", "256",
    ]  # fmt: skip
    if threads > 0:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    if _has_control_socket():
        cmd.append("--no-control-socket")  # gunicorn >= 25.1 would listen in ~/.gunicorn/
    return [*cmd, *extra, app]


def _has_control_socket() -> bool:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return False
    return any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)


class Server:
    """A gunicorn master started in its own process group; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.log = log
        self._logfile = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self._logfile, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, port: int, path: str, deadline_s: float = 30) -> None:
        """Poll GET path until it answers 200 from every worker's point of view (or give up)."""
        import http.client

        end = time.monotonic() + deadline_s
        ok = 0
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited early:\n{self.log.read_text(errors='replace')}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                ok = ok + 1 if status == 200 else 0
                if ok >= 6:  # a few answers in a row: both workers are up
                    return
            except OSError:
                ok = 0
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"gunicorn did not answer on port {port} within {deadline_s:.0f} s")

    def cpu_seconds(self) -> float | None:
        """User+system CPU of the master and its workers so far (Linux /proc), or None."""
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._logfile.close()
        return self.proc.returncode


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user+system) used by pid and its living descendants; None off Linux."""
    if not Path("/proc/self/stat").exists():
        return None
    tree = _children()
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += cpu_of(p) or 0.0
        todo += tree.get(p, [])
    return total


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user+system) used by one process so far; None if it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def system_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the machine since boot (/proc/stat); None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq = fields
    tick = os.sysconf("SC_CLK_TCK")
    busy = user + nice + system + irq + softirq
    return busy / tick, (busy + idle + iowait) / tick


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0-100); NaN when empty."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil
    return sorted_values[int(rank) - 1]


# In-process page timings (Flask's test client: server time, no network).

PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway instance)


def fresh_app(url: str | None, instance: Path):
    """The app over a migrated database: SQLite in the instance folder, or the PostgreSQL
    database at url, emptied first (its public schema dropped)."""
    os.environ["HAILONG_INSTANCE"] = str(instance)
    os.environ.pop("DATABASE_URL", None)
    if url:
        from benchpg import app_url, bench_url  # it imports this module
        from sqlalchemy import create_engine, text

        url = app_url(bench_url(url))  # emptied: only a local database named bench*
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        os.environ["DATABASE_URL"] = url
    from core import create_app
    from core.extensions import upgrade_database

    app = create_app({"SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://bench.local"})
    with app.app_context():
        upgrade_database()
    return app


def sign_in(client, email: str) -> None:
    """Sign in through the sign-in page's form, with the benchmarks' password."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": token})  # fmt: skip
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {email}")


def time_page(client, url: str, rounds: int):
    """Get the page once to warm up, then rounds times: the times (ms), the last answer and the
    queries each asked. Anything but a 200 stops the benchmark: a figure of an error page means
    nothing."""
    from sqlalchemy import event

    from core.extensions import db

    client.get(url)
    with client.application.app_context():
        engine = db.engine
    times, queries = [], [0]

    def counted(*_args):
        queries[0] += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return times, response, queries[0] // rounds


def time_accounts_pages(app, pages: dict, rounds: int, column: tuple[str, int], listed) -> None:
    """Sign in as each account and time its pages: a line a page with what listed(html) reads
    of it (under column: heading and width), p50 and p95; then all pages' p50 and maximum."""
    heading, width = column
    all_times = []
    print(f"{'account':<23} {'page':<52} {heading:>{width}} {'p50 ms':>8} {'p95 ms':>8}")
    for email, urls in pages.items():
        client = app.test_client()
        sign_in(client, email)
        for url in urls:
            times, response, _queries = time_page(client, url, rounds)
            all_times += times
            p95 = percentile(sorted(times), 95)
            print(f"{email:<23} {url:<52} {listed(response.get_data(as_text=True)):>{width}} "
                  f"{statistics.median(times):8.1f} {p95:8.1f}")  # fmt: skip
    print(f"\nall pages: p50 {statistics.median(all_times):.1f} ms "
          f"(target < 200 ms), max {max(all_times):.1f} ms")  # fmt: skip

"""Speed of the satisfaction indexes: export, API, and the pandas + statsmodels alternative.

Builds an instance in a temporary folder (SQLite; `flask db upgrade`, `flask units import` of a
tree of 1 province, 20 districts and 1,000 communes with populations, then `flask setup`, which
loads the questionnaire and, the database having units, no demo), then for each size N of
--sizes (ascending; the same instance grows, each size adding the responses it lacks):

1. writes plausible responses for one year (unit-level satisfaction that varies, criteria
   correlated through the respondent, blanks, "no opinion" on E2/E3, HK yes about 2 %, the four
   channels) as CSV files of --chunk rows and loads them through the import path as
   `responses import` does: survey.response_insert.import_responses() in an app context, one commit
   per file, then the signal on which analysis seals the new responses;
2. times `flask --app wsgi analysis export --from Y-01-01 --to Y-12-31 --format csv --out F`
   from a fresh process (median of --repeat), beside the start-up floor
   (`flask --app wsgi analysis export --help`, which imports the app), and in another fresh
   process the phases: app import, stored_frame, load_tree, compute, the rows, render, write,
   then the analyst pages there (Flask's test client, signed in as an analyst; each page
   warm, median of 3: the units table, forest plots, a trend, a ranking, CSV and XLSX);
3. starts gunicorn (--workers, sync) on a free 127.0.0.1 port, creates an analysis API key,
   warms every worker, then times --api-requests GETs of /api/v1/indexes with different filters
   (year, quarters, months, channels, a district's subtree, a level, ...): p50 / p95 / max and
   the server's CPU per request; then compare/ranks/shrink once each, and the first requests
   after one new response arrives (`responses import` of one row, outside the period): the
   per-process cache of every response is reloaded then;
4. reads the same responses from the database with pandas (pd.read_sql over the response table,
   filtered by the province's units and the year) and computes the same table with statsmodels
   in this process, imports not counted, and again as an analyst's script in a fresh process
   (imports, reading, computing and writing the CSV, like our command), in --pairs rounds of
   (our export command, pandas in-process, our export command, the pandas script): each speed-up
   is taken within its round, seconds apart, so that the machine's drift over minutes falls on
   both sides alike, and the median over the rounds is reported
   (proportion_confint(method="wilson") for criteria, HK and roll-ups; composites with their
   linearised variance per unit by groupby; the roll-ups by groupby per level), timed, and
   compared with our figures (max abs difference; n and flags must match);
5. prints a table: size, export wall, API p50, pandas + statsmodels, speed-up, load average;
   whether the targets are met (warm API < 300 ms, fresh-process export < 3 s, >= 10x faster
   than pandas + statsmodels) and how the times grow with N.

--profile N adds cProfile listings (top N functions) of the fresh export and of warm API
requests (in-process, Flask's test client) at --profile-size. Only 127.0.0.1 is contacted;
every subprocess and request has a timeout, and sizes not started after --max-minutes are
skipped.

    .venv/bin/python bench/analysis_speed.py                     # 100k and 1M
    .venv/bin/python bench/analysis_speed.py --sizes 100000,1000000,5000000 --profile 25
    .venv/bin/python bench/analysis_speed.py --sizes 20000 --repeat 1 --api-requests 5
"""

import argparse
import csv
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import date
from pathlib import Path

import benchlib

# As the app does (analysis/__init__.py), before numpy loads: one BLAS thread per process.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

CRITERIA = (
    "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5",
    "D1", "D2", "D3", "E1", "E2", "E3",
)  # fmt: skip
ELEMENTS = ("A", "B", "C", "D", "E")
MEASURES = (
    "overall",
    *(f"element:{e}" for e in ELEMENTS),
    *(f"criterion:{c}" for c in CRITERIA),
    "household_register_asked",
)
CHANNELS = ("static", "presence", "receipt", "paper")
CHANNEL_SHARE = (0.35, 0.25, 0.15, 0.25)
PROVINCE = "T01"
DISTRICTS, COMMUNES_PER_DISTRICT = 20, 50
TARGET_API_S, TARGET_EXPORT_S, TARGET_SPEEDUP = 0.300, 3.0, 10.0
Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------------
# Data: the unit tree and the responses


def unit_tree(seed: int) -> tuple[str, list[str], np.ndarray, list[str]]:
    """Return (units CSV, commune codes, commune populations, district codes)."""
    rng = np.random.default_rng(seed)
    lines = ["code,name,level,parent_code,population"]
    communes, districts, pops = [], [], []
    district_lines = []
    for d in range(1, DISTRICTS + 1):
        dcode = f"H{d:02d}"
        districts.append(dcode)
        total = 0
        for c in range(1, COMMUNES_PER_DISTRICT + 1):
            code = f"X{d:02d}{c:02d}"
            pop = int(np.clip(rng.lognormal(np.log(9000), 0.6), 1500, 80000))
            level = rng.choice(["Xã", "Phường", "Thị trấn"], p=[0.7, 0.25, 0.05])
            name = f"{level} {d:02d}-{c:02d}"
            lines.append(f"{code},{name},{level},{dcode},{pop}")
            communes.append(code)
            pops.append(pop)
            total += pop
        district_lines.append(f"{dcode},Huyện {d:02d},Huyện,{PROVINCE},{total}")
    head = f"{PROVINCE},Tỉnh Thử Nghiệm,Tỉnh,,{sum(pops)}"
    text = "\n".join([lines[0], head, *district_lines, *lines[1:]]) + "\n"
    return text, communes, np.array(pops, float), districts


class ResponseMaker:
    """Plausible responses for one year, drawn in chunks from fixed unit-level parameters."""

    def __init__(self, communes: list[str], population: np.ndarray, year: int, seed: int):
        rng = np.random.default_rng(seed)
        self.year, self.seed = year, seed
        self.codes = np.array(communes, "S5").view(np.uint8).reshape(len(communes), 5)
        # Busier communes answer more: population^0.8 times an activity factor (x0.3-x3).
        share = population**0.8 * rng.lognormal(0, 0.5, len(communes))
        self.share = share / share.sum()
        self.unit_level = rng.normal(1.0, 0.5, len(communes))  # latent satisfaction per commune
        self.criterion_level = rng.normal(0, 0.25, len(CRITERIA))
        days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday
        weight = np.select([weekday < 5, weekday == 5], [1.0, 0.3], 0.08)
        self.days, self.day_p = days, weight / weight.sum()
        chan = np.array([c.ljust(8, "~") for c in CHANNELS], "S8")
        self.channels = chan.view(np.uint8).reshape(len(CHANNELS), 8)
        self.hk = np.array(["yes", "no~"], "S3").view(np.uint8).reshape(2, 3)

    def csv_bytes(self, rows: int, chunk_index: int) -> bytes:
        """One CSV file of `rows` responses; blanks are '~' in a fixed-width matrix, then cut."""
        rng = np.random.default_rng([self.seed, chunk_index])
        k = len(CRITERIA)
        unit = rng.choice(len(self.share), rows, p=self.share)
        person = rng.normal(0, 0.9, rows)
        z = (self.unit_level[unit] + person)[:, None] + self.criterion_level
        z += rng.normal(0, 0.6, (rows, k))
        score = 1 + (z > -1.5).astype(np.int8) + (z > -0.8) + (z > 0.0) + (z > 1.2)
        cell = (ord("0") + score).astype(np.uint8)
        cell[rng.random((rows, k)) < 0.015] = ord("~")  # a blank here and there
        skip_c = rng.random(rows) < 0.01  # a few skip the whole of element C
        cell[skip_c, 8:13] = ord("~")
        for j in (17, 18):  # E2, E3: often "no opinion" (0), sometimes blank
            r = rng.random(rows)
            cell[r < 0.35, j] = ord("0")
            cell[(r >= 0.35) & (r < 0.40), j] = ord("~")
        day = self.days[rng.choice(len(self.days), rows, p=self.day_p)]
        office = rng.random(rows) < 0.8  # office hours 07:30-17:00, else 06:00-22:00
        seconds = np.where(
            office, rng.integers(27000, 61200, rows), rng.integers(21600, 79200, rows)
        )
        moment = day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
        stamp = np.datetime_as_string(moment, unit="s").astype("S19").view(np.uint8)
        stamp = stamp.reshape(rows, 19).copy()
        stamp[:, 10] = ord(" ")
        channel = rng.choice(len(CHANNELS), rows, p=CHANNEL_SHARE)
        hk = (rng.random(rows) >= 0.02).astype(np.intp)  # 0 = yes (2 %), 1 = no

        width = 5 + 1 + 19 + 1 + 8 + 2 * k + 1 + 3 + 1
        m = np.full((rows, width), ord(","), np.uint8)
        m[:, 0:5] = self.codes[unit]
        m[:, 6:25] = stamp
        m[:, 26:34] = self.channels[channel]
        m[:, 35 : 35 + 2 * k : 2] = cell
        m[:, 35 + 2 * k : 38 + 2 * k] = self.hk[hk]
        m[:, -1] = ord("\n")
        header = ",".join(["unit_code", "submitted_at", "channel", *CRITERIA, "HK"]) + "\n"
        return header.encode() + m.tobytes().replace(b"~", b"")


# --------------------------------------------------------------------------------------------
# Subprocess workers (run as `analysis_speed.py _import|_breakdown JSON` inside the app's env)


def _app(root: str):
    if root not in sys.path:
        sys.path.insert(0, root)
    from core import create_app

    return create_app()


def worker_import(spec: dict) -> None:
    """Load CSV files as `responses import` does: one commit per file, then the signal."""
    app = _app(spec["root"])
    from core.extensions import db
    from survey.importer import responses_imported
    from survey.response_insert import import_responses

    total, t0, c0 = 0, time.perf_counter(), time.process_time()
    with app.app_context():
        for name in spec["files"]:
            count = import_responses(Path(name).read_bytes())
            db.session.commit()
            responses_imported.send(app, count=count)  # analysis seals the new responses
            total += count
        db.session.remove()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"imported": total, "wall": wall, "cpu": cpu}))


def _profiled(label: str, top: int, fn):
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return fn()
    finally:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        print(f"\n--- cProfile: {label}; top {top} by own time ---", file=sys.stderr)
        stats.sort_stats("tottime").print_stats(top)
        print(f"--- {label}; top {top} by cumulative time ---", file=sys.stderr)
        stats.sort_stats("cumulative").print_stats(top)


def worker_breakdown(spec: dict) -> None:
    """A fresh process: the export's phases timed apart; our figures saved for the comparison."""
    t0 = time.perf_counter()
    app = _app(spec["root"])
    t_app = time.perf_counter() - t0
    from analysis import export
    from analysis.frame import day_number, load_frame, stored_frame
    from analysis.indexes import compute, load_tree
    from analysis.params import parse_request
    from analysis.tables import build_columns, build_rows, fresh_columns

    year = spec["year"]
    times = {"import + create_app": t_app}

    def timed(name, fn):
        t = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - t
        return result

    with app.app_context():
        request = timed(
            "parse_request",
            lambda: parse_request({"from": [f"{year}-01-01"], "to": [f"{year}-12-31"]}),
        )
        q = request.query
        days = day_number(q.first), day_number(q.last)
        timed("load_frame (all through SQL, for comparison)", lambda: load_frame(*days))
        frame = timed("stored_frame (sealed blocks + newer rows)", lambda: stored_frame(*days))
        tree = timed("load_tree", load_tree)
        table = timed("compute", lambda: compute(frame, q, tree))
        # The tidy columns alone: build_columns with the tree and the table it would compute
        # handed in.
        from unittest import mock

        with (
            mock.patch("analysis.tables.load_tree", return_value=tree),
            mock.patch("analysis.tables.compute", return_value=table),
        ):
            names, values = timed("columns (build_columns, table given)",
                                  lambda: build_columns(request, frame))  # fmt: skip
        data = timed(
            "meta + render csv", lambda: export.render("csv", export.meta(request), names, values)
        )
        out = Path(spec["out"])
        timed("write", lambda: out.with_suffix(".phases.csv").write_bytes(data))
        np.savez(
            out, codes=np.array(tree.codes), n=table.n, estimate=table.estimate,
            variance=table.variance, n_eff=table.n_eff, ci_low=table.ci_low,
            ci_high=table.ci_high, flag=table.flag.astype(str), responses=len(frame),
        )  # fmt: skip
        # What a warm API request does for the whole year, without HTTP: the frame cached.
        from analysis.warm import cached_frame

        timed("cached_frame(), cold: every response", cached_frame)
        timed("cached_frame(), warm (the change check)", cached_frame)
        timed("warm build_rows, whole year", lambda: build_rows(request))
        cols, rows = build_rows(request)
        timed("JSON encoding of those rows (app.json.dumps)",
              lambda: app.json.dumps({"meta": export.meta(request), "columns": cols,
                                      "rows": rows}))  # fmt: skip
        times.update(analyst_pages(app, year, spec["district"], spec["commune"]))
        top = spec.get("profile", 0)
        if top:

            def export_path():
                names, values = fresh_columns(request)
                out.with_suffix(".prof.csv").write_bytes(
                    export.render("csv", export.meta(request), names, values)
                )

            _profiled("fresh export path (fresh_columns + render + write)", top, export_path)
            client = app.test_client()
            headers = {"Authorization": f"Bearer {spec['key']}"}
            paths = spec["api_paths"]
            first = client.get(paths[0], headers=headers)  # warm: cached_frame() loads here
            assert first.status_code == 200, first.data[:300]
            lap = []

            def api_requests():
                for path in paths:
                    t = time.perf_counter()
                    r = client.get(path, headers=headers)
                    lap.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.data[:300]

            _profiled(f"{len(paths)} warm API requests, Flask test client", top, api_requests)
            times["(profiled) warm API, test client, median"] = statistics.median(lap)
    print(json.dumps(times))


def analyst_pages(app, year: int, district: str, commune: str) -> dict:
    """Time the analyst pages in-process (Flask's test client, signed in): warm, median of 3."""
    import re

    from sqlalchemy import select

    from core.extensions import db
    from core.models import Role, User

    email, password = "bench-analyst@example.org", "bench analyst password"
    if db.session.scalar(select(User).where(User.email == email)) is None:
        user = User(email=email, role=Role.ANALYST)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    form = client.get("/login").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', form).group(1).decode()
    signed_in = client.post("/login", data={"email": email, "password": password,
                                            "csrf_token": token})  # fmt: skip
    assert signed_in.status_code == 302, signed_in.data[:300]
    year_ = f"from={year}-01-01&to={year}-12-31"
    pages = {
        "units table, whole year": f"/staff/analysis/?{year_}",
        "forest plot of the communes": f"/staff/analysis/forest?{year_}&level=X%C3%A3",
        "forest plot of a district": f"/staff/analysis/forest.svg?{year_}&unit={district}",
        "trend of a commune by month": f"/staff/analysis/units/{commune}/trend?{year_}",
        "ranking in a district": f"/staff/analysis/ranking?{year_}&unit={district}",
        "CSV download": f"/staff/analysis/export.csv?{year_}",
        "XLSX download": f"/staff/analysis/export.xlsx?{year_}",
    }
    times = {}
    for label, path in pages.items():
        laps = []
        for _ in range(4):  # the first one warms (it may compute the kept months)
            t = time.perf_counter()
            response = client.get(path)
            laps.append(time.perf_counter() - t)
            assert response.status_code == 200, (path, response.status_code)
        times[f"page: {label}"] = statistics.median(laps[1:])
    return times


def worker_pandas(spec: dict) -> None:
    """The pandas path as an analyst runs it as a script: imports, read, compute, write CSV."""
    theirs, n_rows, _t_read = pandas_table(Path(spec["db"]), spec["year"])
    theirs.to_csv(spec["out"])
    print(json.dumps({"rows": n_rows, "figures": len(theirs)}))


WORKERS = {"_import": worker_import, "_breakdown": worker_breakdown, "_pandas": worker_pandas}


def run_worker(mode: str, spec: dict, env: dict, timeout: float) -> tuple[dict, str]:
    """Run a worker in a fresh interpreter; return (its JSON result, its stderr)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), mode, json.dumps(spec)],
        cwd=benchlib.ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"worker {mode} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


# --------------------------------------------------------------------------------------------
# Our side: the command, the API


def flask_timed(env: dict, args: list[str], timeout: float) -> tuple[float, float]:
    """Wall and CPU seconds of `python -m flask --app wsgi ARGS` (fresh process)."""
    return benchlib.timed_process(["-m", "flask", "--app", "wsgi", *args], benchlib.ROOT, env,
                                  timeout)  # fmt: skip


def api_paths(year: int, districts: list[str], communes: list[str]) -> list[str]:
    """Twenty different filters an analyst might click through."""
    y = year
    q = [(f"{y}-01-01", f"{y}-03-31"), (f"{y}-04-01", f"{y}-06-30"),
         (f"{y}-07-01", f"{y}-09-30"), (f"{y}-10-01", f"{y}-12-31")]  # fmt: skip
    year_ = [("from", f"{y}-01-01"), ("to", f"{y}-12-31")]
    params = [
        year_,
        *([("from", a), ("to", b)] for a, b in q),
        [("from", f"{y}-01-01"), ("to", f"{y}-01-31")],
        [("from", f"{y}-04-01"), ("to", f"{y}-04-30")],
        [("from", f"{y}-07-01"), ("to", f"{y}-07-31")],
        [("preset", "month"), ("anchor", f"{y}-10-15")],
        [*year_, ("channel", "paper")],
        [("from", q[1][0]), ("to", q[1][1]), ("channel", "static"), ("channel", "presence")],
        [*year_, ("unit", districts[2])],
        [("from", q[2][0]), ("to", q[2][1]), ("unit", districts[10])],
        [("from", f"{y}-05-01"), ("to", f"{y}-05-31"), ("unit", communes[256])],
        [*year_, ("level", "Xã")],
        [("from", q[2][0]), ("to", q[2][1]), ("level", "Phường")],
        [*year_, ("level", "Huyện"), ("measure", "overall")],
        [("preset", "quarter"), ("anchor", f"{y}-08-15")],
        [*year_, ("weighting", "population")],
        [("from", q[3][0]), ("to", q[3][1]), ("channel", "receipt"), ("unit", districts[6])],
    ]
    return ["/api/v1/indexes?" + urllib.parse.urlencode(p) for p in params]


def heavier_paths(year: int) -> list[tuple[str, str]]:
    y = year
    return [
        ("compare=previous, Q2", f"from={y}-04-01&to={y}-06-30&compare=previous"),
        ("ranks, whole year", f"from={y}-01-01&to={y}-12-31&ranks=true"),
        ("shrink, whole year", f"from={y}-01-01&to={y}-12-31&shrink=true"),
        # The same cells by row and by column, one after the other.
        ("whole year, rows", f"from={y}-01-01&to={y}-12-31"),
        ("whole year, layout=columns", f"from={y}-01-01&to={y}-12-31&layout=columns"),
        ("whole year, rows", f"from={y}-01-01&to={y}-12-31"),
        ("whole year, layout=columns", f"from={y}-01-01&to={y}-12-31&layout=columns"),
    ]


def get(port: int, path: str, key: str, timeout: float = 120) -> tuple[int, int, float]:
    """GET path; return (status, body bytes, seconds)."""
    t = time.perf_counter()
    conn = http.client.HTTPConnection(benchlib.HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, len(body), time.perf_counter() - t


def measure_api(env, port, workers, key, paths, extra, log, add_response) -> dict:
    cmd = benchlib.gunicorn_cmd("wsgi:app", port, workers, 0, extra=["--timeout", "900"])
    server = benchlib.Server(cmd, benchlib.ROOT, env, log)
    result: dict = {}
    try:
        server.wait_ready(port, "/login", deadline_s=60)
        # Warm every worker: as many requests at once as there are workers, a few rounds.
        warm = []
        for _ in range(3):
            laps: list = []

            def one(laps=laps):
                laps.append(get(port, paths[0], key, 900))

            threads = [threading.Thread(target=one) for _ in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if any(status != 200 for status, _n, _s in laps):
                raise SystemExit(f"API warm-up failed: {laps}; see {log}")
            warm.append(max(s for _st, _n, s in laps))
        result["warm_up"] = warm
        laps, sizes = [], []
        cpu0 = server.cpu_seconds()
        for path in paths:
            status, size, seconds = get(port, path, key)
            if status != 200:
                raise SystemExit(f"API {path} answered {status}")
            laps.append(seconds)
            sizes.append(size)
        cpu1 = server.cpu_seconds()
        result["laps"] = laps
        result["cpu_per_request"] = (cpu1 - cpu0) / len(paths) if cpu0 is not None else None
        result["bytes"] = sizes
        result["extra"] = []
        for label, query in extra:
            status, size, seconds = get(port, "/api/v1/indexes?" + query, key, 600)
            result["extra"].append((label, status, size, seconds))
        # A citizen answers (outside the period asked for): the next requests reload the cache.
        add_response()
        for i in range(workers):
            status, size, seconds = get(port, paths[1], key, 900)
            label = f"after one new response, request {i + 1} ({workers} workers)"
            result["extra"].append((label, status, size, seconds))
    finally:
        server.stop()
    text = log.read_text(errors="replace")
    result["log_problems"] = [ln for ln in text.splitlines()
                              if "Traceback" in ln or "WORKER TIMEOUT" in ln]  # fmt: skip
    return result


# --------------------------------------------------------------------------------------------
# The obvious alternative: pandas + statsmodels


def pandas_table(db_path: Path, year: int):
    """Every measure of every unit of the province for the year, the pandas + statsmodels way.

    Returns a DataFrame indexed by (code, measure) with n, estimate, ci_low, ci_high, n_eff, flag.
    """
    import pandas as pd
    from scipy import special
    from scipy import stats as sps
    from statsmodels.stats.proportion import proportion_confint

    def wilson(x, n):
        with np.errstate(divide="ignore", invalid="ignore"):
            low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
        low, high = np.asarray(low, float), np.asarray(high, float)
        bad = ~(np.asarray(n, float) > 0)
        return np.where(bad, np.nan, low), np.where(bad, np.nan, high)

    t_start = time.perf_counter()
    con = sqlite3.connect(db_path)
    try:
        prefix = con.execute("SELECT path FROM unit WHERE code = ?", (PROVINCE,)).fetchone()[0]
        units = pd.read_sql(
            "SELECT id, code, level, parent_id, path FROM unit WHERE path LIKE ? ORDER BY path",
            con, params=(prefix + "%",),
        )  # fmt: skip
        cols = [c.lower() for c in CRITERIA]
        # Vietnam is UTC+7 all year; submitted_at is stored as naive UTC text.
        df = pd.read_sql(
            f"SELECT unit_id, {', '.join(cols)}, hk FROM response "  # noqa: S608
            "WHERE submitted_at >= ? AND submitted_at < ? "
            "AND unit_id IN (SELECT id FROM unit WHERE path LIKE ?) "
            "AND id NOT IN (SELECT response_id FROM exclusion WHERE undone_at IS NULL)",
            con,
            params=(f"{year - 1}-12-31 17:00:00.000000", f"{year}-12-31 17:00:00.000000",
                    prefix + "%"),
        )  # fmt: skip
    finally:
        con.close()
    t_read = time.perf_counter() - t_start
    ids = pd.Index(units["id"])
    unit = df["unit_id"]
    answers = df[cols].set_axis(list(CRITERIA), axis=1)
    answered, satisfied = answers.ge(1), answers.ge(4)  # NaN (blank) and 0 answer neither
    n_k = answered.groupby(unit).sum().reindex(ids, fill_value=0)
    x_k = satisfied.groupby(unit).sum().reindex(ids, fill_value=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x_k / n_k
    out = {}
    for c in CRITERIA:
        low, high = wilson(x_k[c].to_numpy(), n_k[c].to_numpy())
        pc = p[c].to_numpy()
        out[f"criterion:{c}"] = pd.DataFrame(
            {"n": n_k[c].to_numpy(float), "estimate": pc, "variance": pc * (1 - pc) / n_k[c],
             "ci_low": low, "ci_high": high}, index=ids,
        )  # fmt: skip
    hk_x = df["hk"].groupby(unit).sum().reindex(ids, fill_value=0).to_numpy(float)
    hk_n = unit.groupby(unit).size().reindex(ids, fill_value=0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hk_p = hk_x / hk_n
    low, high = wilson(hk_x, hk_n)
    out["household_register_asked"] = pd.DataFrame(
        {"n": hk_n, "estimate": hk_p, "variance": hk_p * (1 - hk_p) / hk_n,
         "ci_low": low, "ci_high": high}, index=ids,
    )  # fmt: skip

    # Composites: linearised variance over respondents, u_i = sum_k a_k r_ik (y_ik - p_k).
    present = n_k > 0
    element_w = {}
    for e in ELEMENTS:
        members = [c for c in CRITERIA if c[0] == e]
        k_e = present[members].sum(axis=1)
        w = present[members].astype(float).div(k_e.where(k_e > 0), axis=0).fillna(0.0)
        element_w[e] = w.reindex(columns=list(CRITERIA), fill_value=0.0)
    n_elements = sum((element_w[e].sum(axis=1) > 0).astype(int) for e in ELEMENTS)
    overall_w = sum(element_w.values()).div(n_elements.where(n_elements > 0), axis=0).fillna(0)
    row_pos = ids.get_indexer(unit)
    centred = (satisfied.to_numpy(float) - p.fillna(0).to_numpy()[row_pos]) * answered.to_numpy()
    composites = [("overall", overall_w, list(CRITERIA))] + [
        (f"element:{e}", element_w[e], [c for c in CRITERIA if c[0] == e]) for e in ELEMENTS
    ]
    for name, w, members in composites:
        used = w > 0
        a = (w / n_k).where(used & (n_k > 0), 0.0)
        estimate = (w * p.fillna(0)).sum(axis=1)
        estimate = estimate.where(~np.isclose(estimate, estimate.round(), rtol=0, atol=1e-12),
                                  estimate.round())  # fmt: skip
        u = pd.Series((centred * a.to_numpy()[row_pos]).sum(axis=1))
        sum_u2 = (u * u).groupby(unit).sum().reindex(ids, fill_value=0.0)
        n = answered[members].any(axis=1).groupby(unit).sum().reindex(ids, fill_value=0)
        n = n.astype(float)
        estimate = estimate.where(used.any(axis=1) & (n >= 1))
        variance = (n / (n - 1) * sum_u2).where((n > 1) & estimate.notna())
        n_min = n_k.where(used).min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = sps.t.ppf(0.975, n - 1)
            half = t * np.sqrt(variance) / (estimate * (1 - estimate))
            low = special.expit(special.logit(estimate) - half)
            high = special.expit(special.logit(estimate) + half)
        flat = (variance < 1e-14) | (estimate == 0) | (estimate == 1)
        w_low, w_high = wilson(estimate * n_min, n_min)
        low, high = np.where(flat, w_low, low), np.where(flat, w_high, high)
        ok = np.isfinite(variance)
        out[name] = pd.DataFrame(
            {"n": n, "estimate": estimate, "variance": variance,
             "ci_low": np.where(ok, low, np.nan), "ci_high": np.where(ok, high, np.nan)},
            index=ids,
        )  # fmt: skip

    fig = pd.concat(out, names=["measure", "id"]).reset_index()
    fig["n_eff"] = np.nan
    fig = fig.set_index(["id", "measure"])
    # Roll up: each parent = its own responses and its children as independent strata,
    # weighted by respondents, from the deepest level up.
    depth = units["path"].str.count("/") - 2
    parent_of = units.set_index("id")["parent_id"]
    for d in range(int(depth.max()), 0, -1):
        kids = units.loc[depth == d, "id"]
        parents = pd.Index(parent_of.loc[kids].unique())
        own = fig.loc[parents].reset_index()
        own["group"] = own["id"]
        children = fig.loc[kids].reset_index()
        children["group"] = parent_of.loc[children["id"]].to_numpy()
        strata = pd.concat([own, children], ignore_index=True)
        w = strata["n"].fillna(0.0)
        ok = np.isfinite(strata["estimate"]) & np.isfinite(strata["variance"]) & (w > 0)
        w = w.where(ok, 0.0)
        strata = strata.assign(
            w=w, wp=w * strata["estimate"].where(ok, 0.0),
            wwv=w * w * strata["variance"].where(ok, 0.0), n_ok=strata["n"].where(ok, 0.0),
            n_all=strata["n"].fillna(0.0),
        )  # fmt: skip
        g = strata.groupby(["group", "measure"])[["w", "wp", "wwv", "n_ok", "n_all"]].sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = g["wp"] / g["w"]
            variance = g["wwv"] / g["w"] ** 2
            n_eff = estimate * (1 - estimate) / variance
        n_eff = n_eff.where(np.isfinite(n_eff) & (n_eff > 0), g["n_ok"])
        low, high = wilson(estimate * n_eff, n_eff)
        g.index.names = ["id", "measure"]
        fig.loc[g.index, "estimate"] = estimate.to_numpy()
        fig.loc[g.index, "variance"] = variance.to_numpy()
        fig.loc[g.index, "n_eff"] = n_eff.to_numpy()
        fig.loc[g.index, "ci_low"] = low
        fig.loc[g.index, "ci_high"] = high
        fig.loc[g.index, "n"] = g["n_all"].to_numpy()  # own answers + the children's

    size = fig["n_eff"].fillna(fig["n"])
    wide = fig["ci_high"] - fig["ci_low"] >= 0.30 - 1e-9
    fig["flag"] = np.select([fig["n"] < 10, size < 30, wide],
                            ["suppressed", "few_answers", "imprecise"], "")  # fmt: skip
    codes = units.set_index("id")["code"]
    fig = fig.reset_index()
    fig["code"] = codes.loc[fig["id"]].to_numpy()
    return fig.set_index(["code", "measure"]).sort_index(), len(df), t_read


def compare_with_ours(theirs, ours_npz: Path, export_csv: Path) -> dict:
    """Max abs differences between pandas' figures and ours (full precision, and the export)."""
    ours = np.load(ours_npz)
    codes = list(ours["codes"])
    result = {"figures": 0, "n_mismatch": 0, "flag_mismatch": 0, "shown_mismatch": 0}
    worst = dict.fromkeys(("estimate", "ci_low", "ci_high", "n_eff"), 0.0)
    keys = [(c, m) for c in codes for m in MEASURES]
    theirs = theirs.reindex(keys)
    shape = (len(codes), len(MEASURES))
    for name in worst:
        a = ours[name].reshape(shape)
        b = theirs[name].to_numpy(float).reshape(shape)
        both = np.isfinite(a) & np.isfinite(b)
        result[f"{name}_nan_mismatch"] = int(np.count_nonzero(np.isfinite(a) != np.isfinite(b)))
        diff = np.abs(a[both] - b[both])
        if name == "n_eff":  # an effective sample size: relative difference
            diff = diff / np.maximum(np.abs(a[both]), 1.0)
        worst[name] = float(np.max(diff, initial=0.0))
    result["n_mismatch"] = int(
        np.count_nonzero(
            np.nan_to_num(ours["n"]) != theirs["n"].fillna(0).to_numpy().reshape(shape)
        )
    )
    result["flag_mismatch"] = int(
        np.count_nonzero(ours["flag"] != theirs["flag"].to_numpy().reshape(shape))
    )
    result["figures"] = len(keys)
    result["max_abs_full_precision"] = worst
    # The export as a user gets it (6 decimals): every row.
    rows = 0
    worst_csv = 0.0
    with open(export_csv, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            key = (row["unit_code"], row["measure"])
            rows += 1
            t = theirs.loc[key]
            if int(row["n"]) != int(np.nan_to_num(t["n"])):
                result["n_mismatch"] += 1
            for col in ("estimate", "ci_low", "ci_high"):
                if row[col] != "":
                    worst_csv = max(worst_csv, abs(float(row[col]) - float(t[col])))
                elif t["flag"] != "suppressed" and np.isfinite(t[col]):
                    result["shown_mismatch"] += 1
    result["export_rows"] = rows
    result["max_abs_vs_export_csv"] = worst_csv
    return result


# --------------------------------------------------------------------------------------------
# The run


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f}/{b:.2f}/{c:.2f}"


def build_instance(tmp: Path, seed: int) -> tuple[Path, dict, list, np.ndarray, list]:
    inst = tmp / "instance"
    inst.mkdir(parents=True)
    env = benchlib.app_env(inst)
    benchlib.flask_cmd(env, "db", "upgrade")
    text, communes, pops, districts = unit_tree(seed)
    units_csv = tmp / "units.csv"
    units_csv.write_text(text, encoding="utf-8")
    print(benchlib.flask_cmd(env, "units", "import", str(units_csv)).strip())
    benchlib.flask_cmd(env, "setup")  # questionnaire; the database has units, so no demo
    return inst, env, communes, pops, districts


def grow(inst, env, maker: ResponseMaker, have: int, want: int, chunk: int, tmp: Path,
         chunk_index: int, timeout: float) -> tuple[int, dict]:  # fmt: skip
    """Add want - have responses through the import path; return the next chunk index."""
    files, t = [], time.perf_counter()
    left = want - have
    while left > 0:
        rows = min(chunk, left)
        path = tmp / f"responses-{chunk_index:04d}.csv"
        path.write_bytes(maker.csv_bytes(rows, chunk_index))
        files.append(str(path))
        chunk_index += 1
        left -= rows
    gen = time.perf_counter() - t
    size = sum(Path(f).stat().st_size for f in files)
    result, _err = run_worker("_import", {"root": str(benchlib.ROOT), "files": files}, env,
                              timeout)  # fmt: skip
    for f in files:
        Path(f).unlink()
    result.update(generated=gen, csv_bytes=size, files=len(files))
    if result["imported"] != want - have:
        raise SystemExit(f"imported {result['imported']}, expected {want - have}")
    return chunk_index, result


def add_one(env: dict, tmp: Path, unit: str, year: int) -> None:
    """One more response through `responses import`, dated in December of the year before."""
    path = tmp / "one.csv"
    header = ",".join(["unit_code", "submitted_at", "channel", *CRITERIA, "HK"])
    answers = ",".join(["4"] * len(CRITERIA))
    path.write_text(f"{header}\n{unit},{year - 1}-12-15 09:30:00,paper,{answers},no\n")
    # The same bytes at every size: --again, or the second would be refused as imported before.
    benchlib.flask_cmd(env, "responses", "import", str(path), "--again")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in WORKERS:
        WORKERS[argv[0]](json.loads(argv[1]))
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See bench/README.md for the figures and what they mean.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="responses, comma-separated (e.g. 100000,1000000,5000000)",
    )
    parser.add_argument("--year", type=int, default=date.today().year - 1,
                        help="the year the responses fall in")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="export runs per size (median)")
    parser.add_argument(
        "--api-requests",
        type=int,
        default=20,
        help="timed API requests per size (cycling over 20 filters)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--chunk", type=int, default=250_000, help="rows per imported CSV file")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="rounds of our export beside pandas in-process and as a script (median ratio)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=25,
        default=0,
        metavar="N",
        help="print cProfile's top N functions of the export and warm API",
    )
    parser.add_argument(
        "--profile-size",
        type=int,
        default=1_000_000,
        help="the size at which --profile runs (the nearest size if absent)",
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=90,
        help="skip the sizes left once this much time has passed",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--app-dir", help="project checkout to measure (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas")
    if not sizes or sizes[0] < 1000:
        parser.error("--sizes must be at least 1000 each")
    if args.repeat < 1 or args.api_requests < 1 or args.workers < 1 or args.chunk < 1000:
        parser.error("--repeat, --api-requests, --workers must be >= 1; --chunk >= 1000")
    profile_at = min(sizes, key=lambda s: abs(s - args.profile_size)) if args.profile else None

    root = benchlib.use_app_dir(args.app_dir)
    started = time.monotonic()
    deadline = started + args.max_minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="hailong-analysis-"))
    print(
        f"{date.today()}  {os.cpu_count()} CPUs  Python {sys.version.split()[0]}  "
        f"sizes {', '.join(f'{s:,}' for s in sizes)}  year {args.year}  app: {root}  "
        f"load {load()}"
    )
    results = []
    failed = False
    try:
        inst, env, communes, pops, districts = build_instance(tmp, args.seed)
        maker = ResponseMaker(communes, pops, args.year, args.seed)
        db_path = inst / "hailong.db"
        key = benchlib.flask_cmd(env, "apikeys", "create", "bench", "--scope", "analysis")
        key = key.strip().splitlines()[-1]
        paths = api_paths(args.year, districts, communes)
        paths = [paths[i % len(paths)] for i in range(args.api_requests)]
        have, chunk_index = 0, 0
        for size in sizes:
            if time.monotonic() > deadline:
                print(f"\n--max-minutes reached: {size:,} and larger skipped")
                break
            print(f"\n=== {size:,} responses ===")
            chunk_index, imp = grow(inst, env, maker, have, size, args.chunk, tmp, chunk_index,
                                    timeout=max(600, size / 2000))  # fmt: skip
            have = size
            print(
                f"import: {imp['imported']:,} added ({imp['files']} files, "
                f"{imp['csv_bytes'] / 1e6:.0f} MB, generated in {imp['generated']:.1f} s) in "
                f"{imp['wall']:.1f} s = {imp['imported'] / imp['wall']:,.0f}/s "
                f"(CPU {imp['cpu']:.1f} s); database {db_path.stat().st_size / 1e6:.0f} MB"
            )
            r = {"size": size}
            y = args.year
            # 2. The export from a fresh process.
            out = tmp / f"export-{size}.csv"
            export_args = ["analysis", "export", "--from", f"{y}-01-01", "--to", f"{y}-12-31",
                           "--format", "csv", "--out", str(out)]  # fmt: skip
            r["load_export"] = load()
            # The import sealed the new responses: the first export should cost what the others do.
            sealing, _cpu = flask_timed(env, export_args, 600)
            runs = [flask_timed(env, export_args, 600) for _ in range(args.repeat)]
            floor = [flask_timed(env, ["analysis", "export", "--help"], 120)
                     for _ in range(args.repeat)]  # fmt: skip
            r["export"] = statistics.median(w for w, _c in runs)
            r["export_cpu"] = statistics.median(c for _w, c in runs)
            r["floor"] = statistics.median(w for w, _c in floor)
            print(f"first export after the import: {sealing:.2f} s")
            print(
                f"export (fresh process, median of {args.repeat}): {r['export']:.2f} s wall, "
                f"{r['export_cpu']:.2f} s CPU  [runs {', '.join(f'{w:.2f}' for w, _ in runs)}]; "
                f"start-up floor (`analysis export --help`) {r['floor']:.2f} s; load "
                f"{r['load_export']}"
            )
            spec = {"root": str(root), "year": y, "out": str(tmp / f"ours-{size}.npz"),
                    "profile": args.profile if size == profile_at else 0,
                    "key": key, "api_paths": paths, "district": districts[2],
                    "commune": communes[256]}  # fmt: skip
            phases, err = run_worker("_breakdown", spec, env, timeout=max(600, size / 1000))
            r["phases"] = phases
            print("  phases in a fresh process:")
            for name, seconds in phases.items():
                print(f"    {name:50} {seconds * 1000:9.1f} ms")
            if err.strip():
                print(err.rstrip())
            # 3. The API from a warm server.
            r["load_api"] = load()
            api = measure_api(env, benchlib.free_port(), args.workers, key, paths,
                              heavier_paths(y), tmp / f"gunicorn-{size}.log",
                              lambda y=y: add_one(env, tmp, communes[0], y))  # fmt: skip
            laps = sorted(api["laps"])
            r["api_p50"] = benchlib.percentile(laps, 50)
            r["api_p95"] = benchlib.percentile(laps, 95)
            r["api_max"] = laps[-1]
            r["api_year"] = api["laps"][0]
            r["api_cpu"] = api["cpu_per_request"] or float("nan")
            print(
                f"API, {args.workers} sync workers, warm-up "
                f"{', '.join(f'{s:.2f}' for s in api['warm_up'])} s; {len(laps)} requests: "
                f"p50 {r['api_p50'] * 1000:.0f} ms, p95 {r['api_p95'] * 1000:.0f} ms, max "
                f"{r['api_max'] * 1000:.0f} ms; server CPU {r['api_cpu'] * 1000:.0f} ms per "
                f"request; load {r['load_api']}"
            )
            for path, seconds, size_b in zip(paths, api["laps"], api["bytes"], strict=True):
                query = urllib.parse.unquote(path.split("?", 1)[1])
                print(f"    {seconds * 1000:7.0f} ms {size_b / 1e3:8.0f} kB  {query}")
            for label, status, size_b, seconds in api["extra"]:
                print(f"    {seconds * 1000:7.0f} ms {size_b / 1e3:8.0f} kB  {label} ({status})")
            if api["log_problems"]:
                failed = True
                print("  server log:", *api["log_problems"][:5], sep="\n    ")
            # 4. pandas + statsmodels.
            r["load_pandas"] = load()
            t = time.perf_counter()
            import pandas  # noqa: F401
            import statsmodels.stats.proportion  # noqa: F401

            imports = time.perf_counter() - t
            # In rounds, each run of pandas right after one of our export command: in this
            # process (imports not counted), then as a script in a fresh process, like our
            # command (imports and CSV counted).
            script_spec = {"db": str(db_path), "year": y, "out": str(tmp / "pandas.csv")}
            rounds = []
            for _ in range(args.pairs):
                ours_1, _cpu = flask_timed(env, export_args, 600)
                t = time.perf_counter()
                theirs, n_rows, t_read = pandas_table(db_path, y)
                in_process = time.perf_counter() - t
                ours_2, _cpu = flask_timed(env, export_args, 600)
                t = time.perf_counter()
                run_worker("_pandas", script_spec, env, timeout=max(600, size / 1000))
                script = time.perf_counter() - t
                rounds.append((ours_1, in_process, ours_2, script, t_read))
            r["pandas"] = statistics.median(p for _o, p, _o2, _s, _r in rounds)
            r["pandas_script"] = statistics.median(s for _o, _p, _o2, s, _r in rounds)
            r["speedup"] = statistics.median(p / o for o, p, _o2, _s, _r in rounds)
            r["speedup_script"] = statistics.median(s / o2 for _o, _p, o2, s, _r in rounds)
            # The read and the rest of one round (the middle one by time): halves of one run.
            _o, middle, _o2, _s, t_read = sorted(rounds, key=lambda x: x[1])[len(rounds) // 2]
            r["speedup_api"] = r["pandas"] / r["api_year"]
            ph = r["phases"]
            r["ours_inproc"] = sum(
                ph[k] for k in ("stored_frame (sealed blocks + newer rows)", "load_tree", "compute",
                                "columns (build_columns, table given)", "meta + render csv")
            )  # fmt: skip
            print(
                f"pandas + statsmodels: {r['pandas']:.2f} s for {n_rows:,} responses "
                f"(the middle round {middle:.2f} s: read_sql {t_read:.2f} s + compute "
                f"{middle - t_read:.2f} s; imports "
                f"{imports:.1f} s not counted); load {r['load_pandas']}; {r['speedup']:.1f}x "
                f"our export command (median of {args.pairs} rounds); "
                f"{r['pandas'] / r['ours_inproc']:.1f}x our in-process "
                f"path ({r['ours_inproc']:.2f} s: stored_frame + compute + rows + csv); "
                f"{r['speedup_api']:.1f}x our warm API (whole year)"
            )
            print(
                f"pandas + statsmodels as a script (fresh process, imports and CSV counted, like "
                f"our command): {r['pandas_script']:.2f} s, "
                f"{r['speedup_script']:.1f}x our export command"
            )
            for i, (ours_1, in_process, ours_2, script, _read) in enumerate(rounds, 1):
                print(
                    f"  round {i}: our export {ours_1:.2f} s, pandas in-process {in_process:.2f} s "
                    f"({in_process / ours_1:.1f}x); our export {ours_2:.2f} s, pandas script "
                    f"{script:.2f} s ({script / ours_2:.1f}x)"
                )
            check = compare_with_ours(theirs, Path(spec["out"]), out)
            r["check"] = check
            full = check["max_abs_full_precision"]
            bad = (check["n_mismatch"] or check["flag_mismatch"] or check["shown_mismatch"]
                   or max(full.values()) > 1e-9 or check["max_abs_vs_export_csv"] > 1e-6
                   or any(v for k, v in check.items() if k.endswith("nan_mismatch")))  # fmt: skip
            failed |= bool(bad)
            print(
                f"  agreement over {check['figures']:,} figures: max abs diff estimate "
                f"{full['estimate']:.1e}, ci_low {full['ci_low']:.1e}, ci_high "
                f"{full['ci_high']:.1e}, n_eff (relative) {full['n_eff']:.1e}; n mismatches "
                f"{check['n_mismatch']}, flag mismatches {check['flag_mismatch']}; against "
                f"the export's {check['export_rows']:,} rows (6 decimals): "
                f"{check['max_abs_vs_export_csv']:.1e}  -> {'DIFFER' if bad else 'agree'}"
            )
            results.append(r)
        summary(results)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"total {(time.monotonic() - started) / 60:.1f} min")
    return 1 if failed else 0


def summary(results: list[dict]) -> None:
    if not results:
        return
    print(
        "\n| responses | export, fresh process | (start-up floor) | API p50 / p95 / max "
        "| API CPU/request | pandas + statsmodels: in-process / script | speed-up: export / "
        "export vs script / in-process | load 1/5/15 min |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        print(
            f"| {r['size']:,} | {r['export']:.2f} s | {r['floor']:.2f} s | "
            f"{r['api_p50'] * 1000:.0f} / {r['api_p95'] * 1000:.0f} / {r['api_max'] * 1000:.0f}"
            f" ms | {r['api_cpu'] * 1000:.0f} ms | {r['pandas']:.2f} s / {r['pandas_script']:.2f} s"
            f" | {r['speedup']:.1f}x / {r['speedup_script']:.1f}x / "
            f"{r['pandas'] / r['ours_inproc']:.1f}x | {r['load_export']} |"
        )
    print("\nTargets:")
    for r in results:
        api_ok = r["api_p95"] < TARGET_API_S
        exp_ok = r["export"] < TARGET_EXPORT_S
        fast_ok = r["speedup"] >= TARGET_SPEEDUP
        print(
            f"  {r['size']:>9,}: warm API < 300 ms (p95 {r['api_p95'] * 1000:.0f} ms): "
            f"{'met' if api_ok else 'NOT met'}; export < 3 s ({r['export']:.2f} s): "
            f"{'met' if exp_ok else 'NOT met'}; >= 10x pandas in-process ({r['speedup']:.1f}x): "
            f"{'met' if fast_ok else 'NOT met'}; as a script, {r['speedup_script']:.1f}x"
        )
    if len(results) > 1:
        print("\nGrowth (time ratio / size ratio):")
        for a, b in zip(results, results[1:], strict=False):
            k = b["size"] / a["size"]
            net_a, net_b = a["export"] - a["floor"], b["export"] - b["floor"]
            print(
                f"  {a['size']:,} -> {b['size']:,} (x{k:g}): "
                f"export x{b['export'] / a['export']:.1f}"
                f" (above start-up x{net_b / max(net_a, 1e-3):.1f}), API p50 "
                f"x{b['api_p50'] / a['api_p50']:.1f}, pandas x{b['pandas'] / a['pandas']:.1f}"
            )


if __name__ == "__main__":
    sys.exit(main())

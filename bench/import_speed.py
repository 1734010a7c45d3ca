"""Speed of `flask --app wsgi responses import` on SQLite.

Builds a fresh instance in a temporary folder (`flask --app wsgi setup`: the demo province),
writes a CSV of --rows plausible paper responses spread over its units, then times:

1. the command as a user runs it: `flask --app wsgi responses import FILE.csv` (wall time,
   including Python start-up and the app's imports);
2. in-process, survey.response_insert.import_responses() alone inside an app context on a copy
   of the same database, then the commit;
3. with --breakdown (on by default): the phases of that call measured apart, CSV reading,
   row checking and the INSERTs, to show where the time goes;
4. with --profile: the call under cProfile, the top functions printed.

    .venv/bin/python bench/import_speed.py                  # 200,000 rows
    .venv/bin/python bench/import_speed.py --rows 50000 --profile
"""

import argparse
import cProfile
import csv
import os
import pstats
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import benchlib

CRITERIA = [
    f"{e}{i}" for e, n in zip("ABCDE", (4, 4, 5, 3, 3), strict=True) for i in range(1, n + 1)
]
HEADER = ["unit_code", "submitted_at", "channel", *CRITERIA, "HK", "procedure", "comment"]
PROCEDURES = ["ho-tich", "chung-thuc", "cu-tru", "dat-dai", "xay-dung", "kinh-doanh", "khac"]
COMMENTS = [
    "Cán bộ nhiệt tình",
    "Chờ hơi lâu, mong cải thiện",
    "Thủ tục nhanh, cảm ơn",
    'Phòng chờ chật, thiếu ghế "ngồi"',
    "Hướng dẫn chưa rõ, phải đi lại hai lần",
]
TARGET = 20_000  # responses per second, from the issue


def write_csv(path: Path, units: list[str], rows: int, seed: int) -> None:
    """Plausible paper forms: two years, mostly satisfied, some blanks, 'no opinion', comments."""
    rng = random.Random(seed)
    start = datetime.now() - timedelta(days=730)
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for _ in range(rows):
            when = start + timedelta(minutes=rng.randrange(729 * 24 * 60))
            # Most exports say ISO; forms typed by hand often say dd/mm/yyyy HH:MM.
            if rng.random() < 0.8:
                stamp = when.strftime("%Y-%m-%d %H:%M")
            else:
                stamp = when.strftime("%d/%m/%Y %H:%M")
            mood = rng.random()
            values = []
            for code in CRITERIA:
                r = rng.random()
                if code[0] == "E" and code != "E1" and r < 0.5:
                    values.append(rng.choice(("", "0")))
                elif r < 0.02:
                    values.append("")
                elif rng.random() < mood + 0.3:
                    values.append(rng.choice("455"))
                else:
                    values.append(rng.choice("123"))
            out.writerow(
                [
                    rng.choice(units),
                    stamp,
                    "paper" if rng.random() < 0.9 else "receipt",
                    *values,
                    "yes" if rng.random() < 0.03 else "no",
                    rng.choice(PROCEDURES) if rng.random() < 0.7 else "",
                    rng.choice(COMMENTS) if rng.random() < 0.05 else "",
                ]
            )


def units_of(db: Path) -> list[str]:
    """Codes of the units without children (communes), where responses are collected."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT code FROM unit WHERE id NOT IN "
            "(SELECT parent_id FROM unit WHERE parent_id IS NOT NULL) ORDER BY code"
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def count_rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM response").fetchone()[0]
    finally:
        conn.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def clone_instance(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    benchlib.copy_db(src / "hailong.db", dst / "hailong.db")
    (dst / "secret_key").write_text((src / "secret_key").read_text())
    return dst


def _importable() -> None:
    """Make the measured checkout importable in this process, ahead of any installed copy."""
    if str(benchlib.ROOT) not in sys.path:
        sys.path.insert(0, str(benchlib.ROOT))


def app_for(instance: Path):
    """The shipped app, on this instance (imported in this process)."""
    os.environ.update(benchlib.app_env(instance))
    _importable()
    from core import create_app

    return create_app()


def in_process(instance: Path, csv_path: Path, profile: int, profile_out: Path | None):
    """Time import_responses() and the commit; optionally under cProfile."""
    _importable()
    from core.extensions import db
    from survey.response_insert import import_responses

    app = app_for(instance)
    with app.app_context():
        raw = csv_path.read_bytes()
        profiler = cProfile.Profile() if profile else None
        c0, t0 = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        count = import_responses(raw)
        t1 = time.perf_counter()
        db.session.commit()
        t2, c2 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.disable()
        db.session.remove()
    if profiler:
        if profile_out:
            profiler.dump_stats(profile_out)
        stats = pstats.Stats(profiler, stream=sys.stdout)
        print(f"\n--- cProfile of import_responses + commit, top {profile} by own time ---")
        stats.sort_stats("tottime").print_stats(profile)
        print(f"--- top {profile} by cumulative time ---")
        stats.sort_stats("cumulative").print_stats(profile)
    return count, t1 - t0, t2 - t1, c2 - c0


def breakdown(instance: Path, csv_path: Path) -> list[tuple[str, float]]:
    """The phases of import_responses timed apart, with the importer's own helpers."""
    _importable()
    from sqlalchemy import select

    from core.csvfile import read_rows
    from core.extensions import db
    from core.models import Unit, utcnow
    from survey import response_insert, response_rows
    from survey.models import CRITERIA
    from survey.procedures import Procedures
    from survey.questionnaires import current_questionnaire

    phases: list[tuple[str, float]] = []

    def timed(name, fn):
        t = time.perf_counter()
        result = fn()
        phases.append((name, time.perf_counter() - t))
        return result

    app = app_for(instance)
    with app.app_context():
        raw = csv_path.read_bytes()
        header, rows = timed(
            "decode + csv + dict per row (core.csvfile.read_rows)",
            lambda: (lambda h, r: (h, list(r)))(
                *read_rows(raw, response_rows.REQUIRED, response_rows.OPTIONAL)
            ),
        )
        criteria = [c for c in CRITERIA if c in header]
        checks = (criteria, [], Procedures(current_questionnaire().data))
        units = dict(db.session.execute(select(Unit.code, Unit.id)).all())
        latest = utcnow() + timedelta(days=1)
        problems: list = []
        unit_problem = response_rows.unit_problems(units, set())
        checked = timed(
            "check rows (response_rows.check_row), of which:",
            lambda: [
                response_rows.check_row(
                    line, row, checks, units, unit_problem, (latest, {}), problems
                )
                for line, row in rows
            ],
        )
        timed(
            "    parse_time() alone",
            lambda: [response_rows.parse_time(row["submitted_at"]) for _line, row in rows],
        )
        columns = ["questionnaire_id", *response_insert.NAMES, *(c.lower() for c in criteria)]
        store_time = response_insert._time_format()
        batch = timed(
            "build the insert tuples",
            lambda: [(1, r[0], store_time(r[1]), *r[2:]) for r in checked],
        )
        insert = response_insert._inserter(columns)

        def insert_all():
            for i in range(0, len(batch), response_insert.CHUNK):
                insert(batch[i : i + response_insert.CHUNK])

        timed("INSERT: the importer's executemany of tuples", insert_all)
        db.session.rollback()
        # The floor: the same rows through the sqlite3 driver alone, in one call.
        places = ", ".join("?" * len(columns))
        sql = f"INSERT INTO response ({', '.join(columns)}) VALUES ({places})"  # noqa: S608
        with db.engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            timed(
                "(floor) same rows: sqlite3 executemany, one call",
                lambda: dbapi.executemany(sql, batch),
            )
            dbapi.rollback()
        db.session.remove()
    return phases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=200_000, help="responses in the CSV")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", type=int, nargs="?", const=25, default=0, metavar="N",
        help="also run the import under cProfile and print the top N functions",
    )  # fmt: skip
    parser.add_argument("--profile-out", type=Path, help="write the cProfile stats to this file")
    parser.add_argument(
        "--no-breakdown", dest="breakdown", action="store_false",
        help="skip timing the phases of the import apart",
    )  # fmt: skip
    parser.add_argument(
        "--app-dir", help="project checkout to measure (default: the one holding this script)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be >= 1")

    root = benchlib.use_app_dir(args.app_dir)
    tmp = Path(tempfile.mkdtemp(prefix="hailong-import-"))
    print(
        f"{date.today()}  {os.cpu_count()} CPUs  Python {sys.version.split()[0]}  "
        f"{args.rows:,} rows  app: {root}"
    )
    failed = False
    try:
        base = tmp / "base"
        env = benchlib.setup_instance(base)
        units = units_of(base / "hailong.db")
        baseline = count_rows(base / "hailong.db")
        csv_path = tmp / "responses.csv"
        t = time.perf_counter()
        write_csv(csv_path, units, args.rows, args.seed)
        size = csv_path.stat().st_size
        print(
            f"CSV: {args.rows:,} rows over {len(units)} units, {size / 1e6:.1f} MB, "
            f"written in {time.perf_counter() - t:.1f} s"
        )

        # 1. The command, as a user runs it.
        cli = clone_instance(base, tmp / "cli")
        env = benchlib.app_env(cli)
        t, cpu0 = time.perf_counter(), _children_cpu()
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "responses", "import", str(csv_path)],
            cwd=root, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wall, cli_cpu = time.perf_counter() - t, _children_cpu() - cpu0
        if done.returncode != 0:
            print(f"the command failed ({done.returncode}):\n{done.stdout}{done.stderr}")
            return 1
        added = count_rows(cli / "hailong.db") - baseline
        ok = added == args.rows and f"Imported {args.rows:,} responses" in done.stdout
        failed |= not ok
        print(
            f"command  `flask --app wsgi responses import`: {wall:6.2f} s wall "
            f"{args.rows / wall:9,.0f} responses/s  (CPU {cli_cpu:.2f} s; rows stored "
            f"{added:,}: {'OK' if ok else 'WRONG'})"
        )

        # 2. import_responses() alone, in this process.
        inst = clone_instance(base, tmp / "inproc")
        count, t_import, t_commit, cpu = in_process(inst, csv_path, 0, None)
        added = count_rows(inst / "hailong.db") - baseline
        ok = count == args.rows == added
        failed |= not ok
        print(
            f"in-process import_responses():        {t_import:6.2f} s      "
            f"{args.rows / t_import:9,.0f} responses/s  (+ commit {t_commit:.2f} s: "
            f"{args.rows / (t_import + t_commit):,.0f}/s; CPU {cpu:.2f} s: "
            f"{args.rows / cpu:,.0f}/s; rows stored {added:,}: {'OK' if ok else 'WRONG'})"
        )
        print(
            "  (wall time counts what else runs on the machine; CPU time, and the rate it "
            "allows, does not)"
        )
        best = args.rows / (t_import + t_commit)
        print(
            f"target >= {TARGET:,} responses/s: {'met' if best >= TARGET else 'NOT met'} "
            f"(in-process {best:,.0f}/s wall, {args.rows / cpu:,.0f}/s by CPU time; "
            f"command {args.rows / wall:,.0f}/s wall)"
        )

        # 3. Where the time goes.
        if args.breakdown:
            try:
                phases = breakdown(clone_instance(base, tmp / "phases"), csv_path)
            except (AttributeError, TypeError, ValueError, KeyError) as e:
                print(f"\nno breakdown: the importer's helpers changed ({e!r})")
            else:
                print("\nphases of the import, timed apart (same file, same process):")
                for name, seconds in phases:
                    print(f"  {name:52} {seconds:6.2f} s  {args.rows / seconds:10,.0f} rows/s")
        if args.profile:
            in_process(clone_instance(base, tmp / "profile"), csv_path, args.profile,
                       args.profile_out)  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            for path in sorted(tmp.rglob("*"), key=lambda p: -len(p.parts)):
                path.rmdir() if path.is_dir() else path.unlink()
            tmp.rmdir()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

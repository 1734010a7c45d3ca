"""The unit tree's back-office pages over the whole country: 63 provinces, 700 districts,
11,088 communes.

Prepares a fresh instance in a temporary folder (SQLite by default; migrations only, no demo),
imports a generated national units file through the import page (then the same file again,
which changes nothing), gives a third of the communes a survey point and each district a
manager, then times in-process (Flask's test client: server time, no network) the tree page
of the whole country as an administrator, of one province as its manager, a unit's page and
the CSV download; with the queries each asks and the bytes it sends.

    .venv/bin/python bench/units_page.py
    .venv/bin/python bench/units_page.py --rounds 10 --database-url postgresql+psycopg://...

A PostgreSQL database given with --database-url is emptied first (its public schema dropped).
"""

import argparse
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import PASSWORD, fresh_app, sign_in, time_page  # noqa: E402

PROVINCES, DISTRICTS, COMMUNES = 63, 700, 11_088


def national_file() -> bytes:
    """code,name,level,parent_code,population: every district has 15 or 16 communes."""
    lines = ["code,name,level,parent_code,population"]
    for p in range(1, PROVINCES + 1):
        lines.append(f"{p:02},Tỉnh Số {p},Tỉnh,,{1_000_000 + p}")
    for d in range(1, DISTRICTS + 1):
        lines.append(f"{d:03},Huyện Số {d},Huyện,{(d - 1) % PROVINCES + 1:02},{100_000 + d}")
    for c in range(1, COMMUNES + 1):
        lines.append(f"{c:05},Xã Số {c},Xã,{(c - 1) % DISTRICTS + 1:03},{5_000 + c}")
    return ("\n".join(lines) + "\n").encode()


def prepare(url: str | None, instance: Path):
    """The app over a migrated database (no demo) with an administrator."""
    app = fresh_app(url, instance)
    with app.app_context():
        from werkzeug.security import generate_password_hash

        from core.extensions import db
        from core.models import Role, User

        fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add(User(email="admin@bench.example", role=Role.ADMIN, password_hash=fast))
        db.session.commit()
    return app


def upload(client, raw: bytes) -> tuple[float, str]:
    """Send the file through the import page; return seconds and the page's message."""
    page = client.get("/staff/units/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    start = time.perf_counter()
    data = {"csrf_token": token, "file": (io.BytesIO(raw), "vn.csv")}
    response = client.post("/staff/units/import", content_type="multipart/form-data", data=data)
    seconds = time.perf_counter() - start
    if response.status_code != 303:
        raise SystemExit(f"the import answered {response.status_code}")
    message = re.search(r'class="flash ok"[^>]*>([^<]+)<', client.get("/staff/units").text)
    return seconds, message.group(1) if message else "?"


def add_points_and_managers(app) -> None:
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from core.extensions import db
    from core.models import Role, Unit, User
    from survey.services import add_point

    with app.app_context():
        units = {u.code: u for u in db.session.scalars(select(Unit))}
        for c in range(1, COMMUNES + 1, 3):
            add_point(units[f"{c:05}"], "Quầy một cửa", actor=None)
        fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        for d in range(1, DISTRICTS + 1):
            db.session.add(User(email=f"lanhdao.{d:03}@bench.example", role=Role.MANAGER,
                                unit=units[f"{d:03}"], password_hash=fast))  # fmt: skip
        db.session.add(User(email="manager@bench.example", role=Role.MANAGER,
                            unit=units["01"], password_hash=fast))  # fmt: skip
        db.session.commit()


def profile(client, url: str) -> None:
    """Print where a page's time goes (--profile)."""
    import cProfile
    import pstats

    client.get(url)
    with cProfile.Profile() as profiler:
        client.get(url)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", metavar="URL", help="profile one page instead")
    parser.add_argument("--database-url", help="PostgreSQL to use instead of SQLite (emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        app = prepare(args.database_url, Path(tmp))
        raw = national_file()
        client = app.test_client()
        sign_in(client, "admin@bench.example")
        kind = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"national file: {len(raw) / 1024:.0f} KB, "
              f"{PROVINCES + DISTRICTS + COMMUNES:,} units ({kind})")  # fmt: skip
        for what in ("first import", "same file again"):
            seconds, message = upload(client, raw)
            print(f"{what:<16} {seconds:6.2f} s   {message}")
        add_points_and_managers(app)
        if args.profile:
            return profile(client, args.profile)
        manager = app.test_client()
        sign_in(manager, "manager@bench.example")
        pages = [
            ("admin", client, "/staff/units"),
            ("admin", client, "/staff/units/units.csv"),
            ("admin", client, "/staff/units?unit=01"),
            ("manager of 01", manager, "/staff/units"),
            ("admin", client, "/staff/units/00001/history"),
        ]
        print(f"\n{'who':<14} {'page':<28} {'p50 ms':>8} {'max ms':>8} {'queries':>8} {'KB':>7}")
        for who, session, url in pages:
            times, response, queries = time_page(session, url, args.rounds)
            size = len(response.get_data())
            print(f"{who:<14} {url:<28} {statistics.median(times):8.1f} {max(times):8.1f} "
                  f"{queries:8} {size / 1024:7.0f}")  # fmt: skip


if __name__ == "__main__":
    main()

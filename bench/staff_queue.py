"""The staff's PAKN queue with 100,000 cases: p50 and p95 page times (target: p50 < 200 ms).

Prepares a fresh instance in a temporary folder (SQLite by default, `flask --app wsgi setup`
with the demo province), adds --cases cases spread over two years, every unit, state, topic and
channel, then signs in as an administrator, a district manager and a commune handler and times
the queue's pages in-process (Flask's test client: server time, no network): each tab, filters,
a deep page. It prints one line per page with the number of cases it lists.

    .venv/bin/python bench/staff_queue.py                       # 100,000 cases, 20 rounds
    .venv/bin/python bench/staff_queue.py --cases 20000 --rounds 5
    .venv/bin/python bench/staff_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

A PostgreSQL database given with --database-url is emptied first (its public schema dropped):
only a database on this machine whose name starts with "bench" is taken.
"""

import argparse
import random
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import PASSWORD, fresh_app, time_accounts_pages  # noqa: E402

STATES = [  # (state, outcome, share)
    ("received", None, 0.06), ("classified", "competent", 0.03), ("classified", "outside", 0.02),
    ("in_progress", "competent", 0.12), ("answered", "competent", 0.12),
    ("published", "competent", 0.45), ("closed", "difficulty", 0.10),
    ("rejected", "not_accepted", 0.05), ("forwarded", "outside", 0.05),
]  # fmt: skip
TOPICS = ["attitude", "delay", "documents_fees", "procedure", "facilities", "other"]
CHANNELS = ["counter", "web", "phone", "paper", "email", "hotline", "api", "survey"]


def prepare(url: str | None, instance: Path):
    """The app over a migrated database with the demo province."""
    app = fresh_app(url, instance)
    with app.app_context():
        from core.extensions import db
        from survey.demo import load_demo

        load_demo("http://bench.local")
        db.session.commit()
    return app


def add_cases(app, count: int, seed: int = 7) -> None:
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from core.extensions import db
    from core.models import Role, Unit, User, utcnow
    from feedback.codes import new_code
    from feedback.models import Case

    rng = random.Random(seed)
    with app.app_context():
        units = list(db.session.scalars(select(Unit).order_by(Unit.path)))
        communes = [u for u in units if u.path.count("/") == 4]
        fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        accounts = (
            ("admin@bench.example", Role.ADMIN, None),
            ("manager@bench.example", Role.MANAGER, units[1]),
            ("handler@bench.example", Role.HANDLER, communes[0]),
        )
        for email, role, unit in accounts:
            db.session.add(User(email=email, role=role, unit=unit, password_hash=fast))
        now = utcnow()
        weights = [share for _s, _o, share in STATES]
        rows = []
        for _ in range(count):
            received = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
            state, outcome, _share = rng.choices(STATES, weights)[0]
            unit = rng.choice(communes)
            due = received.date() + timedelta(days=14)
            answered = state in ("answered", "published", "closed")
            answered_at = received + timedelta(days=rng.randint(1, 25)) if answered else None
            rows.append({
                "code": new_code(), "kind": rng.choice(["report", "recommendation"]),
                "topic": rng.choice(TOPICS), "channel": rng.choice(CHANNELS),
                "content": "Nội dung phản ánh " * rng.randint(2, 20), "state": state,
                "outcome": outcome, "received_unit_id": unit.id, "unit_id": unit.id,
                "received_at": received, "received_on": received.date(),
                "counted_from": received.date(), "due_on": due,
                "answered_at": answered_at,
                "answered_on": answered_at.date() if answered_at else None,
                "answer": "Đã xử lý." if answered else None,
                "published_at": answered_at if state == "published" else None,
                "updated_at": received, "version": 1,
            })  # fmt: skip
            if len(rows) == 5000:
                db.session.execute(insert(Case), rows)
                rows = []
        if rows:
            db.session.execute(insert(Case), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")


def time_pages(app, rounds: int) -> None:
    district = None
    with app.app_context():
        from sqlalchemy import select

        from core.extensions import db
        from core.models import Unit

        district = db.session.scalars(select(Unit.code).order_by(Unit.path)).all()[1]
    pages = {
        "admin@bench.example": [
            "/staff/cases", "/staff/cases?tab=new", "/staff/cases?tab=overdue",
            "/staff/cases?tab=due_soon", "/staff/cases?tab=published", "/staff/cases?tab=all",
            "/staff/cases?tab=all&page=1500", f"/staff/cases?tab=all&unit={district}",
            "/staff/cases?tab=all&topic=delay&channel=phone",
            "/staff/cases?tab=all&from=2025-01-01&to=2025-03-31",
        ],
        "manager@bench.example": [
            "/staff/cases", "/staff/cases?tab=all", "/staff/cases?tab=overdue",
        ],
        "handler@bench.example": ["/staff/cases", "/staff/cases?tab=all&page=3"],
    }  # fmt: skip
    time_accounts_pages(app, pages, rounds, ("cases", 7), cases_listed)


def cases_listed(html: str) -> str:
    """The number of cases a queue's page says it lists."""
    total = re.search(r"([\d.,]+) (?:cases?|PAKN)\b", html)
    return total.group(1) if total else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL to use instead of SQLite (emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        app = prepare(args.database_url, Path(tmp))
        start = time.perf_counter()
        add_cases(app, args.cases)
        print(f"{args.cases:,} cases added in {time.perf_counter() - start:.1f} s "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})\n")  # fmt: skip
        time_pages(app, args.rounds)


if __name__ == "__main__":
    main()

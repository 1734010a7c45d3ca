"""Pages and APIs with no bench of their own, at a province's volumes: p50 and p95 times and the
queries each page asks (target: p50 < 300 ms, and no query count that grows with the rows shown).

Prepares a fresh instance in a temporary folder (SQLite by default, migrations and the demo
province, as bench/staff_queue.py does) and loads, by bulk inserts:
- --cases PAKN (100,000 by default, 45 % published) over two years, as bench/staff_queue.py;
  one of them published with a history of --events lines (300) by a hundred staff accounts;
- --responses answers (100,000) at one survey point, one in twenty flagged, 1,000 excluded;
- --receipts receipt codes (100,000) in issues of 20 by one account, over every commune;
- --accounts staff accounts (5,000) over the communes, and 60 declared days in the calendar.
Then it times in-process (Flask's test client: server time, no network) the public list of
published answers (first page, a deep page, one district), the tracking page of the case with
the long history, its staff page, the survey points page (every point's counts), the point's
answers page (first, flagged, deep), the receipts page, the accounts list (first page, deep, one
role), the calendar, the Open311 list (JSON and XML, 100 a page) and /api/v1/units, anonymously
or signed in as an administrator. The load prints how long each part took.

    .venv/bin/python bench/scale_pages.py                       # ~1.5 min on SQLite
    .venv/bin/python bench/scale_pages.py --rounds 5 --cases 20000
    .venv/bin/python bench/scale_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

A PostgreSQL database given with --database-url is emptied first (its public schema dropped):
only a database on this machine whose name starts with "bench" is taken.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PASSWORD, percentile, sign_in, time_page  # noqa: E402
from staff_queue import add_cases, prepare  # noqa: E402


def bulk(table, rows: list[dict], size: int = 10_000) -> None:
    from sqlalchemy import insert

    from core.extensions import db

    for start in range(0, len(rows), size):
        db.session.execute(insert(table), rows[start : start + size])


def add_accounts(count: int, communes, rng: random.Random) -> list[int]:
    """Staff accounts over the communes, with their folded e-mails; their ids."""
    from werkzeug.security import generate_password_hash

    from core.models import Role, User, email_key

    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    rows = []
    for i in range(count):
        email = f"staff{i:05}@bench.example"
        rows.append({
            "email": email, "email_key": email_key(email), "password_hash": fast,
            "role": rng.choice([Role.HANDLER, Role.HANDLER, Role.MANAGER, Role.ANALYST]),
            "unit_id": rng.choice(communes).id, "active": rng.random() > 0.05,
        })  # fmt: skip
    bulk(User, rows)
    from sqlalchemy import select

    from core.extensions import db

    return list(db.session.scalars(select(User.id).where(User.email.like("staff%"))))


def add_history(events: int, actors: list[int], rng: random.Random) -> str:
    """A published case with a long history; its tracking code."""
    from sqlalchemy import select

    from core.extensions import db
    from feedback.models import Case, CaseEvent

    case = db.session.scalars(select(Case).where(Case.state == "published").limit(1)).one()
    case.public_summary, case.published_answer = "Tóm tắt.", "Trả lời công khai."
    rows = [{
        "case_id": case.id, "at": case.received_at + timedelta(minutes=i),
        "actor_id": rng.choice(actors), "action": rng.choice(["note", "assign", "move"]),
        "from_state": "in_progress", "to_state": "in_progress",
        "note": f"Ghi chú {i}", "detail": "handler=1",
    } for i in range(events)]  # fmt: skip
    bulk(CaseEvent, rows)
    return case.code


def add_answers(count: int, point, admin_id: int, rng: random.Random) -> None:
    """Answers at one point, newest over two years, some flagged, 1,000 of them excluded."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import utcnow
    from survey.models import CRITERIA, Exclusion, Response
    from survey.questionnaires import current_questionnaire

    questionnaire_id, now, rows = current_questionnaire().id, utcnow(), []
    for _ in range(count):
        row = {
            "questionnaire_id": questionnaire_id, "unit_id": point.unit_id, "point_id": point.id,
            "submitted_at": now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
            "channel": "static", "hk": False,
            "flags": "burst" if rng.random() < 0.05 else "",
        }  # fmt: skip
        row.update({c.lower(): rng.randint(1, 5) for c in CRITERIA})
        rows.append(row)
    bulk(Response, rows)
    ids = db.session.scalars(select(Response.id).where(Response.point_id == point.id)).all()
    bulk(Exclusion, [
        {"response_id": i, "reason": "Trùng lặp", "excluded_by_id": admin_id, "excluded_at": now}
        for i in rng.sample(ids, min(1000, len(ids)))
    ])  # fmt: skip


def add_receipts(count: int, communes, admin_id: int, rng: random.Random) -> None:
    """Receipt codes in issues of 20, one every hour or so back from now, some used."""
    from core.models import utcnow
    from survey.models import ReceiptCode

    now, rows = utcnow(), []
    for batch in range(count // 20):
        at = now - timedelta(minutes=batch * 53)
        unit = rng.choice(communes)
        for i in range(20):
            rows.append({
                "code": f"B{batch:07}{i:02}", "unit_id": unit.id, "procedure": None,
                "created_at": at, "expires_at": at + timedelta(days=30),
                "used_at": at if rng.random() < 0.3 else None, "issued_by_id": admin_id,
                "batch": f"batch{batch:07}",
            })  # fmt: skip
    bulk(ReceiptCode, rows)


def add_calendar(admin_id: int) -> None:
    from datetime import date

    from core.models import utcnow
    from feedback.models import DeclaredDay

    start = date(date.today().year, 1, 2)
    bulk(DeclaredDay, [
        {"day": start + timedelta(days=6 * i), "working": i % 2 == 0, "note": f"Ngày {i}",
         "created_by_id": admin_id, "created_at": utcnow()} for i in range(60)
    ])  # fmt: skip


def load(app, args) -> dict:
    """Everything above; what the pages' addresses need."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import Unit, User
    from survey.models import SurveyPoint

    start = time.perf_counter()

    def done(what: str) -> None:
        nonlocal start
        print(f"{what}: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()

    add_cases(app, args.cases)
    done(f"{args.cases:,} cases")
    rng = random.Random(5)
    with app.app_context():
        units = list(db.session.scalars(select(Unit).order_by(Unit.path)))
        communes = [u for u in units if u.path.count("/") == 4]
        admin = db.session.scalar(select(User.id).where(User.email == "admin@bench.example"))
        staff = add_accounts(args.accounts, communes, rng)
        code = add_history(args.events, staff[:100], rng)
        done(f"{args.accounts:,} accounts, {args.events} history lines")
        point = db.session.scalars(select(SurveyPoint).order_by(SurveyPoint.id).limit(1)).one()
        add_answers(args.responses, point, admin, rng)
        done(f"{args.responses:,} answers")
        add_receipts(args.receipts, communes, admin, rng)
        add_calendar(admin)
        case_id = _case_id(code)
        db.session.commit()
        done(f"{args.receipts:,} receipt codes")
        vacuum_analyze(db.engine)
        done("VACUUM ANALYZE")
        return {"code": code, "case_id": case_id, "token": point.token, "district": units[1].code}


def vacuum_analyze(engine) -> None:
    """What autovacuum does soon after such loads: PostgreSQL's index-only scans need the
    tables' visibility maps; both databases' planners need the statistics."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def _case_id(code: str) -> int:
    from sqlalchemy import select

    from core.extensions import db
    from feedback.models import Case

    return db.session.scalar(select(Case.id).where(Case.code == code))


def pages(found: dict) -> dict[str | None, list[str]]:
    points = f"/staff/points/{found['token']}/responses"
    return {
        None: [
            "/pakn/published", "/pakn/published?page=500",
            f"/pakn/published?unit={found['district']}", f"/track/{found['code']}",
            "/open311/v2/requests.json?page_size=100", "/open311/v2/requests.xml?page_size=100",
            "/open311/v2/requests.json?page_size=100&page=20",
        ],
        "admin@bench.example": [
            f"/staff/cases/{found['case_id']}", "/staff/", points, f"{points}?flagged=1",
            f"{points}?page=1000", "/staff/receipts", "/staff/users", "/staff/users?page=50",
            "/staff/users?role=manager", "/staff/calendar", "/api/v1/units",
        ],
    }  # fmt: skip


def time_pages(app, found: dict, rounds: int) -> None:
    all_times = []
    print(f"{'account':<20} {'page':<58} {'queries':>7} {'kB':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for email, urls in pages(found).items():
        client = app.test_client()
        if email:
            sign_in(client, email)
        for url in urls:
            times, response, queries = time_page(client, url, rounds)
            all_times += times
            size = len(response.get_data()) / 1000
            p50, p95 = statistics.median(times), percentile(sorted(times), 95)
            print(f"{email or 'anonymous':<20} {url[:58]:<58} {queries:>7} {size:6.0f} "
                  f"{p50:8.1f} {p95:8.1f}")  # fmt: skip
    print(f"\nall pages: p50 {statistics.median(all_times):.1f} ms (target < 300 ms), "
          f"max {max(all_times):.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--database-url", help="PostgreSQL to use instead of SQLite (emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        app = prepare(args.database_url, Path(tmp))
        start = time.perf_counter()
        found = load(app, args)
        print(f"loaded in {time.perf_counter() - start:.1f} s "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})\n")  # fmt: skip
        time_pages(app, found, args.rounds)


if __name__ == "__main__":
    main()

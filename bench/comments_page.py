"""The staff's comments page over 1,000,000 responses, 100,000 with a comment: p50 and p95 page
times (target: p50 < 200 ms).

Prepares a fresh instance in a temporary folder (SQLite by default, migrations and the demo
province, as bench/staff_queue.py does), adds --responses responses over two years at every
commune's points, one in ten with a comment (one in fifty of those asked for a paper household
register), then signs in as an administrator, a district manager and a commune handler and
times the comments page in-process (Flask's test client: server time, no network): no filter,
each filter, a search that finds a fifth of the comments and one that finds none (alone and
with each filter), a deep page. It prints one line per page with the comments it lists.

    .venv/bin/python bench/comments_page.py                     # 1,000,000 responses, 20 rounds
    .venv/bin/python bench/comments_page.py --responses 100000 --rounds 5
    .venv/bin/python bench/comments_page.py --without-index     # without migration 0028's index
    .venv/bin/python bench/comments_page.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

A PostgreSQL database given with --database-url is emptied first (its public schema dropped):
only a database on this machine whose name starts with "bench" is taken.
"""

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import PASSWORD, time_accounts_pages  # noqa: E402
from staff_queue import prepare  # noqa: E402

WORDS = (
    "chờ lâu", "cán bộ nhiệt tình", "Đường vào khó tìm", "phí cao", "thiếu ghế ngồi",
    "hướng dẫn rõ ràng", "phải đi lại nhiều lần", "Cảm ơn", "bị hỏi sổ hộ khẩu", "100% hài lòng",
)  # fmt: skip


def add_responses(app, count: int, seed: int = 11) -> None:
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from core.extensions import db
    from core.models import Role, Unit, User, utcnow
    from survey.models import CRITERIA, Response, SurveyPoint
    from survey.questionnaires import current_questionnaire

    rng = random.Random(seed)
    with app.app_context():
        units = list(db.session.scalars(select(Unit).order_by(Unit.path)))
        communes = [u for u in units if u.path.count("/") == 4]
        points = {}
        for point in db.session.scalars(select(SurveyPoint)):
            points.setdefault(point.unit_id, []).append(point.id)
        fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        accounts = (
            ("admin@bench.example", Role.ADMIN, None),
            ("manager@bench.example", Role.MANAGER, units[1]),
            ("handler@bench.example", Role.HANDLER, communes[0]),
        )
        for email, role, unit in accounts:
            db.session.add(User(email=email, role=role, unit=unit, password_hash=fast))
        questionnaire_id = current_questionnaire().id
        now, rows = utcnow(), []
        for _ in range(count):
            unit = rng.choice(communes)
            commented = rng.random() < 0.1
            row = {
                "questionnaire_id": questionnaire_id, "unit_id": unit.id,
                "point_id": rng.choice(points.get(unit.id, [None])),
                "submitted_at": now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
                "channel": "static", "hk": commented and rng.random() < 0.02,
                "comment": "\n".join(rng.sample(WORDS, 2)) if commented else None,
                "procedure": "ho-tich" if rng.random() < 0.3 else None,
            }  # fmt: skip
            low, high = (1, 3) if rng.random() < 0.1 else (3, 5)
            row.update({c.lower(): rng.randint(low, high) for c in CRITERIA})
            rows.append(row)
            if len(rows) == 10_000:
                db.session.execute(insert(Response), rows)
                rows = []
        if rows:
            db.session.execute(insert(Response), rows)
        db.session.commit()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def time_pages(app, rounds: int) -> None:
    with app.app_context():
        from sqlalchemy import select

        from core.extensions import db
        from core.models import Unit

        codes = db.session.scalars(select(Unit.code).order_by(Unit.path)).all()
    page = "/staff/comments"
    pages = {
        "admin@bench.example": [
            page, f"{page}?page=200", f"{page}?unit={codes[1]}", f"{page}?dissatisfied=y",
            f"{page}?household_register=y", f"{page}?q=duong", f"{page}?q=zzz",
            f"{page}?q=duong&page=200", f"{page}?since=2026-01-01&until=2026-01-31",
            f"{page}?q=zzz&since=2026-01-01&until=2026-01-31", f"{page}?q=zzz&unit={codes[1]}",
            f"{page}?q=zzz&dissatisfied=y", f"{page}?q=zzz&household_register=y",
        ],
        "manager@bench.example": [
            page, f"{page}?dissatisfied=y", f"{page}?q=so+ho+khau", f"{page}?q=zzz",
        ],
        "handler@bench.example": [
            page, f"{page}?page=5", f"{page}?household_register=y", f"{page}?q=zzz",
        ],
    }  # fmt: skip
    time_accounts_pages(app, pages, rounds, ("rows", 5), comments_listed)


def comments_listed(html: str) -> int:
    """The number of comments a page lists."""
    return html.count('<td class="comment">')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL to use instead of SQLite (emptied)")
    parser.add_argument(
        "--without-index", action="store_true", help="drop migration 0028's index, to compare"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        app = prepare(args.database_url, Path(tmp))
        if args.without_index:
            with app.app_context():
                from core.extensions import db

                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP INDEX ix_response_comment_time")
        start = time.perf_counter()
        add_responses(app, args.responses)
        print(f"{args.responses:,} responses added in {time.perf_counter() - start:.1f} s "
              f"({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]})\n")  # fmt: skip
        time_pages(app, args.rounds)


if __name__ == "__main__":
    main()

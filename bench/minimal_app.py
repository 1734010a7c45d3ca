"""The floor to compare the survey page with: a bare Flask app that stores one response per POST.

Same row as the real app (the `response` table, same columns, same constraints when pointed at a
copy of the app's database), same SQLite settings (WAL, synchronous=NORMAL, busy_timeout,
foreign keys), one short transaction per request; but no form classes, no templates, no CSRF,
no session, no validation and no ORM: sqlite3 directly.

    MINIMAL_DB=/tmp/x/minimal.db gunicorn --workers 2 --pythonpath bench minimal_app:app
    MINIMAL_DATABASE_URL=postgresql://postgres@127.0.0.1/bench gunicorn ... minimal_app:app

With MINIMAL_DATABASE_URL it uses PostgreSQL through psycopg 3 instead: one connection per
worker thread, and per POST one transaction of one INSERT (with the server's default
synchronous_commit, as the app has). It writes into the same `response` table of the same
database as the app it is compared with (survey_load.py --database-url), not a copy: so both
meet the same indexes (the unique submission key, the trigram index on folded comments where
pg_trgm exists), foreign keys, triggers and server settings. The few thousand rows that the
app's run added before it make the table a little larger, which changes an INSERT's cost by
little; the rows of the two runs are told apart by id. The database must have been migrated.

POST /s/<token> with the survey form's fields (A1..E3, HK, procedure, comment, key): 204.
GET /s/<token> and GET /s/<token>/thanks: fixed pages, for survey_load.py's citizens' runs,
whose minimal citizen makes as many requests as ours (its submissions' runs POST only). GET
/health: 200. Without an existing database it creates a bare `response` table.
"""

import os
import sqlite3
import threading
import unicodedata
from datetime import UTC, datetime

from flask import Flask, request

DB = os.environ.get("MINIMAL_DB", "minimal.db")
PG_URL = os.environ.get("MINIMAL_DATABASE_URL")
CRITERIA = (
    "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5",
    "D1", "D2", "D3", "E1", "E2", "E3",
)  # fmt: skip
COLUMNS = (
    "questionnaire_id", "unit_id", "point_id", "submitted_at", "channel", "submission_key",
    *(c.lower() for c in CRITERIA), "hk", "procedure", "comment", "comment_folded",
)  # fmt: skip
PLACES = ", ".join("?" * len(COLUMNS))
INSERT = f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES ({PLACES})"  # noqa: S608 - constants
PG_INSERT = INSERT.replace("?", "%s")
BARE_TABLE = f"""CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY, questionnaire_id INTEGER NOT NULL, unit_id INTEGER NOT NULL,
    point_id INTEGER, submitted_at DATETIME NOT NULL, channel VARCHAR(12) NOT NULL,
    submission_key VARCHAR(64) UNIQUE, {", ".join(c.lower() + " SMALLINT" for c in CRITERIA)},
    hk BOOLEAN NOT NULL, procedure VARCHAR(120), comment TEXT, comment_folded TEXT)"""
SCALE = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
_NO_MARKS = dict.fromkeys(range(0x300, 0x370))


def fold(text: str) -> str:
    """core.folding.fold(), which the app stores beside each comment for its search."""
    return unicodedata.normalize("NFD", text.lower()).translate(_NO_MARKS).replace("đ", "d")


app = Flask(__name__)
_local = threading.local()


def connection():
    conn = getattr(_local, "conn", None)
    if conn is None and PG_URL:
        import psycopg

        conn = _local.conn = psycopg.connect(PG_URL)
    elif conn is None:
        conn = sqlite3.connect(DB, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        _local.conn = conn
    return conn


def _load_points() -> tuple[dict[str, tuple[int, int]], int]:
    """Token -> (point id, unit id) and the questionnaire id, read once per worker."""
    conn = connection()
    if PG_URL:
        tables = {"survey_point", "questionnaire"}  # migrated by the app's setup
    else:
        with conn:
            conn.execute(BARE_TABLE)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    by_token, questionnaire_id = {}, 1
    if "survey_point" in tables:
        by_token = {
            t: (p, u) for p, u, t in conn.execute("SELECT id, unit_id, token FROM survey_point")
        }
    if "questionnaire" in tables:
        questionnaire_id = conn.execute("SELECT max(id) FROM questionnaire").fetchone()[0] or 1
    if PG_URL:
        conn.commit()  # end the reading transaction
    return by_token, questionnaire_id


_points: list = []  # [(token -> (point id, unit id), questionnaire id)], read on first use


def points() -> tuple[dict[str, tuple[int, int]], int]:
    if not _points:
        _points.append(_load_points())
    return _points[0]


@app.get("/health")
def health():
    points()  # open the database before the load starts
    return "ok"


FORM_PAGE = (
    "<!doctype html><form method=post>"
    + "".join(f"<input name={c} type=radio value=4>" for c in CRITERIA)
    + "<input name=HK type=radio value=no><button>Gửi</button></form>"
)


@app.get("/s/<token>")
def form_page(token: str):
    return FORM_PAGE


@app.get("/s/<token>/thanks")
def thanks_page(token: str):
    return "<!doctype html><p>Cảm ơn</p>"


@app.post("/s/<token>")
def record(token: str):
    form = request.form
    by_token, questionnaire_id = points()
    point_id, unit_id = by_token.get(token, (None, 1))
    now = datetime.now(UTC).replace(tzinfo=None)
    if not PG_URL:
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it in SQLite
    comment = form.get("comment") or None
    row = (
        questionnaire_id, unit_id, point_id, now, "static", form.get("key"),
        *(SCALE.get(form.get(c, "")) for c in CRITERIA),
        form.get("HK") == "yes", form.get("procedure") or None, comment,
        fold(comment) if comment else None,
    )  # fmt: skip
    conn = connection()
    if PG_URL:  # one transaction: BEGIN, INSERT, COMMIT
        try:
            conn.execute(PG_INSERT, row)
            conn.commit()
        except Exception:
            conn.rollback()  # the next request starts afresh
            raise
    else:
        with conn:  # one transaction: BEGIN, INSERT, COMMIT
            conn.execute(INSERT, row)
    return "", 204

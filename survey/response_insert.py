"""Insert the rows of a responses file in bulk, each checked first: the whole file, or
nothing and the problems of its lines."""

from datetime import timedelta

from sqlalchemy import select

from core.csvfile import FileProblems, read_rows
from core.database import large_cache
from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Unit, local_day_start, local_today
from survey.models import CRITERIA, Response
from survey.procedures import Procedures
from survey.questionnaires import current_questionnaire
from survey.response_rows import OPTIONAL, REQUIRED, check_row, unit_problems

CHUNK = 10_000
MAX_PROBLEMS = 200


def import_responses(raw: bytes, scope: set[int] | None = None) -> int:
    """Insert every row of the file, or raise FileProblems naming the bad lines; return count.

    With a scope, a row of a unit whose id is not in it is a problem. Runs inside the caller's
    transaction: on FileProblems the caller rolls back.
    """
    header, rows = read_rows(raw, REQUIRED, OPTIONAL)
    questionnaire = current_questionnaire()
    if questionnaire is None:
        raise FileProblems([(0, _l("no questionnaire is loaded; run 'questionnaire load' first"))])
    asked = {c["code"] for c in questionnaire.criteria()}
    criteria = [c for c in CRITERIA if c in header]
    extra = [c for c in criteria if c not in asked]
    checks = (criteria, extra, Procedures(questionnaire.data))
    units = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    outside = set()
    if scope is not None:
        outside = {code for code, unit_id in units.items() if unit_id not in scope}
        units = {code: unit_id for code, unit_id in units.items() if unit_id in scope}
    unit_problem = unit_problems(units, outside)
    # A unit takes no answer from its closing day on (core/models.py, Unit.closed_on).
    closing = {
        unit_id: local_day_start(day)
        for unit_id, day in db.session.execute(
            select(Unit.id, Unit.closed_on).where(Unit.closed_on.is_not(None))
        )
    }
    # The indexes of a large import outgrow SQLite's default 2 MB cache and spill to disk.
    large_cache(db.session, 128 * 1024)
    # Up to tomorrow in Vietnam: a day's grace for a clock that runs fast.
    latest = local_day_start(local_today() + timedelta(days=2))
    insert = _inserter(["questionnaire_id", *NAMES, *(c.lower() for c in criteria)])
    store_time = _time_format()
    problems: list[tuple[int, str]] = []
    batch: list[tuple] = []
    count = 0
    for line, row in rows:
        if not isinstance(row, dict):  # the row's problem
            problems.append((line, row))
        else:
            record = check_row(line, row, checks, units, unit_problem, (latest, closing), problems)
            if record is not None and not problems:
                batch.append((questionnaire.id, record[0], store_time(record[1]), *record[2:]))
        if len(problems) >= MAX_PROBLEMS:
            break
        if len(batch) >= CHUNK:
            insert(batch)
            count += len(batch)
            batch = []
    if problems:
        raise FileProblems(problems)
    if batch:
        insert(batch)
        count += len(batch)
    if count == 0:
        raise FileProblems([(0, _l("the file has no responses"))])
    return count


# check_row's order; the raw INSERT passes by the model's default, so it gives comment_folded.
NAMES = ["unit_id", "submitted_at", "channel", "hk", "procedure", "comment", "comment_folded"]


def _inserter(columns: list[str]):
    """executemany of plain tuples, straight to the driver.

    Core's insert() with a dict per row spends more time building parameters than SQLite spends
    storing them; the column names are constants, so the statement is safe to build.
    """
    connection = db.session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {Response.__tablename__} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    return lambda rows: connection.exec_driver_sql(sql, rows)


def _time_format():
    """How the dialect stores a naive UTC datetime: SQLite as SQLAlchemy's text, others as is."""
    if db.engine.dialect.name == "sqlite":
        return lambda moment: moment.isoformat(" ", "microseconds")
    return lambda moment: moment

"""Import responses typed in from paper forms or exported from other systems."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from blinker import Namespace
from sqlalchemy import Select, func, select

from core.csvfile import FileProblems, Problem, read_rows
from core.database import large_cache
from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import LOCAL_OFFSET, Unit, User, local_day_start, local_today
from core.unit_codes import DamagedCodes, damaged_code_problem
from feedback.services import open_case_for_household_register
from survey.forms import COMMENT_MAX, comment_as_written
from survey.models import CRITERIA, Channel, ImportedFile, Response, folded_comment
from survey.questionnaires import current_questionnaire

REQUIRED = ["unit_code", "submitted_at", "channel", "HK"]
OPTIONAL = [*CRITERIA, "procedure", "comment"]
SCALE_VALUES = {"": None, "0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
HK_VALUES = {"yes": True, "no": False, "có": True, "không": False}
CHANNELS = {c.value for c in Channel}
CHUNK = 10_000
MAX_PROBLEMS = 200
EARLIEST = datetime(2000, 1, 1) - LOCAL_OFFSET  # as the paper form: from 2000, Vietnam time

# Sent after the commit of an import (`responses import`, the back office's import page), with
# the app as sender and count=N: analysis seals the new responses then (analysis/cli.py), instead
# of in the first analyst's request.
responses_imported = Namespace().signal("responses-imported")


def parse_time(text: str) -> datetime:
    """Parse ISO 8601 or dd/mm/yyyy [HH:MM[:SS]]; naive times are Vietnam time. Return naive UTC."""
    text = text.strip()
    if "/" in text:
        date_part, _, time_part = text.partition(" ")
        day, month, year = date_part.split("/")
        if len(year) != 4:  # Excel's short date, 25/03/24, is not the year 24
            raise ValueError("the year must have four digits")
        text = f"{int(year):04d}-{int(month):02d}-{int(day):02d} {time_part}".strip()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment - LOCAL_OFFSET
    return moment.astimezone(UTC).replace(tzinfo=None)


def digest_of(raw: bytes) -> str:
    """A file's SHA-256, by which an import of the same bytes is known."""
    return hashlib.sha256(raw).hexdigest()


def earlier_import(digest: str) -> ImportedFile | None:
    """Return the last import of the file with this digest, if there was one."""
    return db.session.scalar(
        select(ImportedFile)
        .where(ImportedFile.sha256 == digest)
        .order_by(ImportedFile.id.desc())
        .limit(1)
    )


def record_import(digest: str, name: str, count: int, actor: User | None) -> None:
    """Remember the file imported, who imported it (None: the command line) and their unit
    then, in the import's transaction."""
    db.session.add(
        ImportedFile(
            sha256=digest,
            name=name[-255:],
            responses=count,
            imported_by=actor,
            importer_unit_id=actor.unit_id if actor is not None else None,
        )
    )


def last_response_id() -> int:
    return db.session.scalar(select(func.max(Response.id))) or 0


def household_register_breaches(after_id: int) -> Select:
    """The responses after after_id that say a paper household register was asked for."""
    return select(Response).where(Response.id > after_id, Response.hk.is_(True))


class AlreadyImported(Exception):
    """The same file was imported before: importing it again would count each response twice."""

    def __init__(self, earlier: ImportedFile):
        super().__init__(earlier.name)
        self.earlier = earlier


@dataclass(frozen=True)
class Imported:
    count: int
    asked: int  # of them, the answers that say a paper household register was asked for
    cases_opened: bool


def import_file(
    raw: bytes,
    name: str,
    *,
    actor: User | None,
    again=False,
    open_cases=False,
    scope: set[int] | None = None,
) -> Imported:
    """Import a file of responses whole, remember it and who imported it (actor None: the
    command line), and open the household-register cases if asked; with a scope, only rows of
    those unit ids are accepted.

    Raises AlreadyImported (unless again) or FileProblems, after which the caller rolls back;
    else the caller commits, then sends responses_imported.
    """
    digest = digest_of(raw)
    earlier = None if again else earlier_import(digest)
    if earlier is not None:
        raise AlreadyImported(earlier)
    before = last_response_id()
    count = import_responses(raw, scope)
    breaches = household_register_breaches(before)
    # Counted in SQL; the rows themselves are read only to open their cases.
    asked = db.session.scalar(select(func.count()).select_from(breaches.subquery()))
    if open_cases:
        # Not by default: each "yes" is a breach the unit's staff must act on, but an old
        # file's cases would only fill the queue with cases overdue from the start.
        for response in db.session.scalars(breaches.order_by(Response.id)).all():
            open_case_for_household_register(response)
    record_import(digest, name, count, actor)
    return Imported(count, asked, open_cases and asked > 0)


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
    units = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    outside = set()
    if scope is not None:
        outside = {code for code, unit_id in units.items() if unit_id not in scope}
        units = {code: unit_id for code, unit_id in units.items() if unit_id in scope}
    unit_problem = _unit_problems(units, outside)
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
            record = _check_row(
                line, row, criteria, extra, units, unit_problem, (latest, closing), problems
            )
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


# _check_row's order; the raw INSERT passes by the model's default, so it gives comment_folded.
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


def _check_values(line, row, criteria, extra, problems) -> list:
    values = []
    for code in criteria:
        raw = row[code].strip()
        value = SCALE_VALUES.get(raw, -1)
        if value == -1:
            problems.append(
                (
                    line,
                    _l(
                        "%(column)s must be 1-5, 0 for no opinion, or empty; not %(value)s",
                        column=code,
                        value=repr(raw),
                    ),
                )
            )
        elif value is not None and code in extra:
            problems.append(
                (line, _l("%(column)s is not in the current questionnaire", column=code))
            )
        values.append(value)
    return values


def _out_of_range(value: str, latest: datetime):
    last = (latest + LOCAL_OFFSET - timedelta(days=1)).date()
    first = (EARLIEST + LOCAL_OFFSET).date()
    return _l(
        "submitted_at %(value)s is not between %(first)s and %(last)s "
        "(tomorrow in Vietnam: a day's grace for a clock that runs fast)",
        value=value,
        first=first.isoformat(),
        last=last.isoformat(),
    )


def _check_row(line, row, criteria, extra, units, unit_problem, ends, problems) -> tuple | None:
    """ends: the latest time a file may hold, and each closed unit's (by id); unit_problem: the
    problem of a unit code not in units."""
    before = len(problems)
    latest, closing = ends
    unit_id = units.get(row["unit_code"].strip())
    if unit_id is None:
        problems.append((line, unit_problem(row["unit_code"])))
    try:
        submitted_at = parse_time(row["submitted_at"])
        if not EARLIEST <= submitted_at < latest:
            problems.append((line, _out_of_range(row["submitted_at"], latest)))
        elif unit_id in closing and submitted_at >= closing[unit_id]:
            day = (closing[unit_id] + LOCAL_OFFSET).date()
            problems.append(
                (line, _l("unit %(code)s closed on %(day)s: no answer from that day on is its",
                          code=row["unit_code"].strip(), day=day.isoformat()))
            )  # fmt: skip
    except OverflowError:  # the year 1 or 9999 moved past the calendar's end by the time zone
        problems.append((line, _out_of_range(row["submitted_at"], latest)))
    except ValueError:
        problems.append(
            (
                line,
                _l(
                    "submitted_at %(value)s is not a date and time like 2024-03-25 14:30 or "
                    "25/03/2024 14:30 (a four-digit year)",
                    value=repr(row["submitted_at"]),
                ),
            )
        )
        submitted_at = None
    channel = row["channel"].strip().lower()
    if channel not in CHANNELS:
        problems.append(
            (
                line,
                _l(
                    "channel %(value)s is not one of %(channels)s",
                    value=repr(row["channel"]),
                    channels=sorted(CHANNELS),
                ),
            )
        )
    hk = HK_VALUES.get(row["HK"].strip().lower())
    if hk is None:
        problems.append((line, _l("HK must be yes or no, not %(value)s", value=repr(row["HK"]))))
    values = [SCALE_VALUES.get(row[code], -1) for code in criteria]
    if -1 in values or extra:
        values = _check_values(line, row, criteria, extra, problems)
    procedure = (row.get("procedure") or "").strip() or None
    # As the survey form keeps it: counted once cleaned, stored stripped.
    comment = comment_as_written(row.get("comment"))
    if procedure and len(procedure) > 120:
        problems.append((line, _too_long("procedure", 120)))
    if comment and len(comment) > COMMENT_MAX:
        problems.append((line, _too_long("comment", COMMENT_MAX)))
    comment = (comment or "").strip() or None
    if len(problems) > before:
        return None
    folded = folded_comment(comment)
    return (unit_id, submitted_at, channel, hk, procedure, comment, folded, *values)


def _too_long(column: str, most: int):
    return _l("%(column)s is longer than %(most)s characters", column=column, most=most)


def _unit_problems(units: dict[str, int], outside: set[str]):
    """The problem of each unit code that is not one of units, worked out once a code: a file
    that a spreadsheet damaged has the same few codes on every line."""
    said: dict[str, Problem] = {}
    damaged = None

    def problem(code: str) -> Problem:
        nonlocal damaged
        if code not in said:
            if code.strip() in outside:
                said[code] = _l("unit_code %(value)s is not one of your units", value=repr(code))
            else:
                if damaged is None:  # built only for a file with an unknown code
                    damaged = DamagedCodes(units)
                probable = damaged.probable(code.strip())
                said[code] = (
                    damaged_code_problem("unit_code", code.strip(), probable)
                    if probable
                    else _l("unknown unit_code %(value)s", value=repr(code))
                )
        return said[code]

    return problem

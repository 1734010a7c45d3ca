"""Import responses typed in from paper forms or exported from other systems."""

import hashlib
from datetime import UTC, datetime, time, timedelta

from blinker import Namespace
from sqlalchemy import Select, func, select, text

from core.csvfile import FileProblems, read_rows
from core.extensions import db
from core.models import LOCAL_OFFSET, Unit, local_today
from survey.models import CRITERIA, Channel, ImportedFile, Response
from survey.services import current_questionnaire

REQUIRED = ["unit_code", "submitted_at", "channel", "HK"]
OPTIONAL = [*CRITERIA, "procedure", "comment"]
SCALE_VALUES = {"": None, "0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
HK_VALUES = {"yes": True, "no": False, "có": True, "không": False}
CHANNELS = {c.value for c in Channel}
CHUNK = 10_000
MAX_PROBLEMS = 200
EARLIEST = datetime(2000, 1, 1) - LOCAL_OFFSET  # as the paper form: from 2000, Vietnam time
DATE_FORMATS = "a date and time like 2024-03-25 14:30 or 25/03/2024 14:30 (a four-digit year)"

# Sent by `responses import` after its commit, with the app as sender and count=N: analysis
# seals the new responses then (analysis/cli.py), instead of in the first analyst's request.
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


def record_import(digest: str, name: str, count: int) -> None:
    """Remember the file imported, in the import's transaction."""
    db.session.add(ImportedFile(sha256=digest, name=name[-255:], responses=count))


def last_response_id() -> int:
    return db.session.scalar(select(func.max(Response.id))) or 0


def household_register_breaches(after_id: int) -> Select:
    """The responses after after_id that say a paper household register was asked for."""
    return select(Response).where(Response.id > after_id, Response.hk.is_(True))


def import_responses(raw: bytes) -> int:
    """Insert every row of the file, or raise FileProblems naming the bad lines; return count.

    Runs inside the caller's transaction: on FileProblems the caller rolls back.
    """
    header, rows = read_rows(raw, REQUIRED, OPTIONAL)
    questionnaire = current_questionnaire()
    if questionnaire is None:
        raise FileProblems([(0, "no questionnaire is loaded; run 'questionnaire load' first")])
    asked = {c["code"] for c in questionnaire.criteria()}
    criteria = [c for c in CRITERIA if c in header]
    extra = [c for c in criteria if c not in asked]
    units = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    if db.engine.dialect.name == "sqlite":
        # The indexes of a large import outgrow SQLite's default 2 MB cache and spill to disk.
        db.session.execute(text("PRAGMA cache_size = -131072"))  # 128 MB, this connection
    # Up to tomorrow in Vietnam: a day's grace for a clock that runs fast.
    latest = datetime.combine(local_today() + timedelta(days=2), time()) - LOCAL_OFFSET
    insert = _inserter(["questionnaire_id", *NAMES, *(c.lower() for c in criteria)])
    store_time = _time_format()
    problems: list[tuple[int, str]] = []
    batch: list[tuple] = []
    count = 0
    for line, row in rows:
        if isinstance(row, str):
            problems.append((line, row))
        else:
            record = _check_row(line, row, criteria, extra, units, latest, problems)
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
        raise FileProblems([(0, "the file has no responses")])
    return count


NAMES = ["unit_id", "submitted_at", "channel", "hk", "procedure", "comment"]  # _check_row's order


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
            problems.append((line, f"{code} must be 1-5, 0 for no opinion, or empty; not {raw!r}"))
        elif value is not None and code in extra:
            problems.append((line, f"{code} is not in the current questionnaire"))
        values.append(value)
    return values


def _out_of_range(value: str, latest: datetime) -> str:
    last = (latest + LOCAL_OFFSET - timedelta(days=1)).date()
    first = (EARLIEST + LOCAL_OFFSET).date()
    return (
        f"submitted_at {value} is not between {first} and {last} "
        "(tomorrow in Vietnam: a day's grace for a clock that runs fast)"
    )


def _check_row(line, row, criteria, extra, units, latest, problems) -> tuple | None:
    before = len(problems)
    unit_id = units.get(row["unit_code"].strip())
    if unit_id is None:
        problems.append((line, f"unknown unit_code {row['unit_code']!r}"))
    try:
        submitted_at = parse_time(row["submitted_at"])
        if not EARLIEST <= submitted_at < latest:
            problems.append((line, _out_of_range(row["submitted_at"], latest)))
    except OverflowError:  # the year 1 or 9999 moved past the calendar's end by the time zone
        problems.append((line, _out_of_range(row["submitted_at"], latest)))
    except ValueError:
        problems.append((line, f"submitted_at {row['submitted_at']!r} is not {DATE_FORMATS}"))
        submitted_at = None
    channel = row["channel"].strip().lower()
    if channel not in CHANNELS:
        problems.append((line, f"channel {row['channel']!r} is not one of {sorted(CHANNELS)}"))
    hk = HK_VALUES.get(row["HK"].strip().lower())
    if hk is None:
        problems.append((line, f"HK must be yes or no, not {row['HK']!r}"))
    values = [SCALE_VALUES.get(row[code], -1) for code in criteria]
    if -1 in values or extra:
        values = _check_values(line, row, criteria, extra, problems)
    procedure = (row.get("procedure") or "").strip() or None
    comment = (row.get("comment") or "").strip() or None
    if procedure and len(procedure) > 120:
        problems.append((line, "procedure is longer than 120 characters"))
    if comment and len(comment) > 1000:
        problems.append((line, "comment is longer than 1000 characters"))
    if len(problems) > before:
        return None
    return (unit_id, submitted_at, channel, hk, procedure, comment, *values)

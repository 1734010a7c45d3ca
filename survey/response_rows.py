"""Check the rows of a responses file: each row's values as a response holds them, or the
problems of the row, in the user's language."""

from datetime import UTC, datetime, timedelta

from core.csvfile import Problem
from core.lazytext import lazy_gettext as _l
from core.models import LOCAL_OFFSET
from core.unit_codes import DamagedCodes, damaged_code_problem
from survey.forms import COMMENT_MAX, comment_as_written
from survey.models import CRITERIA, Channel, folded_comment

REQUIRED = ["unit_code", "submitted_at", "channel", "HK"]
OPTIONAL = [*CRITERIA, "procedure", "comment"]
SCALE_VALUES = {"": None, "0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
HK_VALUES = {"yes": True, "no": False, "có": True, "không": False}
CHANNELS = {c.value for c in Channel}
EARLIEST = datetime(2000, 1, 1) - LOCAL_OFFSET  # as the paper form: from 2000, Vietnam time


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


def check_row(line, row, checks, units, unit_problem, ends, problems) -> tuple | None:
    """checks: the criteria in the file, those of them not asked, and the questionnaire's
    Procedures; ends: the latest time a file may hold, and each closed unit's (by id);
    unit_problem: the problem of a unit code not in units."""
    criteria, extra, procedures = checks
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
                (line, _l("unit %(code)s closed on %(day)s and takes no answers from that day on",
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
    procedure = _procedure(line, row.get("procedure"), procedures, problems)
    # As the survey form keeps it: counted once cleaned, stored stripped.
    comment = comment_as_written(row.get("comment"))
    if comment and len(comment) > COMMENT_MAX:
        problems.append((line, _too_long("comment", COMMENT_MAX)))
    comment = (comment or "").strip() or None
    if len(problems) > before:
        return None
    folded = folded_comment(comment)
    return (unit_id, submitted_at, channel, hk, procedure, comment, folded, *values)


def _procedure(line, text, procedures, problems) -> str | None:
    """The code of the procedure the row names, or None for none; a problem if it names none of
    the questionnaire's."""
    if not (text or "").strip():
        return None
    code = procedures.code_of(text)
    if code is None:
        problems.append(
            (
                line,
                _l(
                    "procedure %(value)s is not one of the questionnaire's: give its code "
                    "(%(codes)s) or its name as the import page lists them",
                    value=repr(text.strip()[:60]),
                    codes=procedures.codes(),
                ),
            )
        )
    return code


def _too_long(column: str, most: int):
    return _l("%(column)s is longer than %(most)s characters", column=column, most=most)


def unit_problems(units: dict[str, int], outside: set[str]):
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

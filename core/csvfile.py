"""Reading CSV files that people made: encoding, header and line numbers."""

import csv
import io

from flask_babel import force_locale, format_decimal

from core.lazytext import LazyText
from core.lazytext import lazy_gettext as _l

# A problem's text: a lazy string, said in the reader's language when it is shown (a back-office
# page), and in English, as written, by report() (the command line); or plain English text.
Problem = LazyText | str
REPORTED = 50  # problems a report lists; the others are counted
# What a spreadsheet takes for the start of a formula, in a cell of a CSV file it opens.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FileProblems(ValueError):
    """A file refused whole; each problem names the line at fault (0: the whole file)."""

    def __init__(self, problems: list[tuple[int, Problem]]):
        with force_locale("en"):  # in the order the command line has always listed them
            self.problems = sorted(problems, key=lambda p: (p[0], str(p[1])))
        super().__init__()

    def __str__(self) -> str:
        return self.report()

    def report(self, limit: int = REPORTED) -> str:
        """The first problems in English, one a line, and how many more there are."""
        with force_locale("en"):
            lines = [f"line {n}: {text}" if n else str(text) for n, text in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


def shown(problems: FileProblems | None) -> dict:
    """What an import page lists of a refused file: its first problems, and how many more."""
    if problems is None:
        return {"problems": [], "more": 0}
    return {
        "problems": problems.problems[:REPORTED],
        "more": max(0, len(problems.problems) - REPORTED),
    }


def grouped(number: int) -> LazyText:
    """A number with the thousands marked as the reader's language marks them, when shown."""
    return LazyText(format_decimal, number)


def defused(text: str) -> str:
    """Text for a CSV cell that no spreadsheet evaluates: behind an apostrophe (as OWASP
    advises) when it starts as a formula would, or with an apostrophe, so that undefused()
    gives it back as it was."""
    return "'" + text if text.startswith((*FORMULA_START, "'")) else text


def undefused(text: str) -> str:
    """A cell's text without the apostrophe defused() put before it."""
    return text[1:] if text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")) else text


def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), or say on which line the bytes are not UTF-8 or hold
    a NUL (no text has one, and PostgreSQL refuses to store it)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise FileProblems(
            [(line, _l("the file is not UTF-8; save it as 'CSV UTF-8' and try again"))]
        ) from e
    if "\x00" in text:  # one scan of the whole text; the lines only when there is one
        lines = [n for n, line in enumerate(text.split("\n"), 1) if "\x00" in line]
        raise FileProblems([(n, _l("holds a NUL character, which is not text")) for n in lines])
    return text


def read_rows(raw: bytes, required: list[str], optional: list[str] = ()):
    """Return the named columns and an iterator of (line number, row dict) after checking them.

    A row that cannot be read yields (line number, its problem) instead of a dict.
    """
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _read_header(reader)
    if len(header) == 1 and ";" in header[0]:
        # Excel saves with ';' where the list separator is ';', as on Vietnamese Windows.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
        header = _read_header(reader)
    named = [h for h in header if h]  # Excel writes empty columns after the last one used
    missing = [c for c in required if c not in named]
    if missing:
        raise FileProblems([(1, _l("missing column(s): %(columns)s", columns=", ".join(missing)))])
    unknown = [c for c in named if c not in required and c not in optional]
    if unknown:
        raise FileProblems([(1, _l("unknown column(s): %(columns)s", columns=", ".join(unknown)))])
    if len(set(named)) != len(named):
        raise FileProblems([(1, _l("a column appears twice"))])

    width = len(header)
    unnamed = [i for i, h in enumerate(header) if not h]

    def rows():
        end = reader.line_num  # the last line read: a row starts on the next one
        try:
            for values in reader:
                line, end = end + 1, reader.line_num
                if len(values) != width:
                    if "".join(values).strip():  # a blank line is skipped, a short one reported
                        yield line, _width_problem(width, len(values), end if end > line else 0)
                    continue
                if not "".join(values).strip():
                    continue
                if not unnamed:
                    yield line, dict(zip(header, values, strict=True))
                elif any(values[i].strip() for i in unnamed):
                    yield line, _unnamed_problem(values, unnamed)
                else:
                    yield line, {h: v for h, v in zip(header, values, strict=True) if h}
        except csv.Error as e:
            yield end + 1, _csv_problem(e)

    return named, rows()


def _read_header(reader) -> list[str]:
    try:
        return [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileProblems([(1, _l("the file is empty"))]) from None
    except csv.Error as e:
        raise FileProblems([(1, _csv_problem(e))]) from None


def _width_problem(width: int, found: int, runs_to: int) -> LazyText:
    if runs_to:
        return _l(
            "expected %(width)s columns, found %(found)s; a quoted value runs on to line "
            "%(line)s: is a closing quote missing?",
            width=width,
            found=found,
            line=runs_to,
        )
    return _l("expected %(width)s columns, found %(found)s", width=width, found=found)


def _unnamed_problem(values: list[str], unnamed: list[int]) -> LazyText:
    column = next(i for i in unnamed if values[i].strip())
    return _l(
        "column %(column)s has no name in line 1 but holds %(value)s",
        column=column + 1,
        value=repr(values[column]),
    )


def _csv_problem(error: csv.Error) -> LazyText:
    if "field limit" in str(error):
        return _l(
            "a value is longer than %(limit)s characters: is a closing quote missing? "
            "Nothing after this line was read",
            limit=grouped(csv.field_size_limit()),
        )
    return _l("cannot be read as CSV (%(error)s); nothing after this line was read", error=error)

"""Reading CSV files that people made: encoding, header and line numbers."""

import csv
import io


class FileProblems(ValueError):
    """A file refused whole; each problem names the line at fault."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = sorted(problems)
        super().__init__(self.report())

    def report(self, limit: int = 50) -> str:
        lines = [f"line {line}: {text}" if line else text for line, text in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), or say on which line the bytes are not UTF-8 or hold
    a NUL (no text has one, and PostgreSQL refuses to store it)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise FileProblems(
            [(line, "the file is not UTF-8; save it as 'CSV UTF-8' and try again")]
        ) from e
    if "\x00" in text:  # one scan of the whole text; the lines only when there is one
        lines = [n for n, line in enumerate(text.split("\n"), 1) if "\x00" in line]
        raise FileProblems([(n, "holds a NUL character, which is not text") for n in lines])
    return text


def read_rows(raw: bytes, required: list[str], optional: list[str] = ()):
    """Return the named columns and an iterator of (line number, row dict) after checking them.

    A row that cannot be read yields (line number, the problem's text) instead of a dict.
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
        raise FileProblems([(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [c for c in named if c not in required and c not in optional]
    if unknown:
        raise FileProblems([(1, f"unknown column(s): {', '.join(unknown)}")])
    if len(set(named)) != len(named):
        raise FileProblems([(1, "a column appears twice")])

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
        raise FileProblems([(1, "the file is empty")]) from None
    except csv.Error as e:
        raise FileProblems([(1, _csv_problem(e))]) from None


def _width_problem(width: int, found: int, runs_to: int) -> str:
    problem = f"expected {width} columns, found {found}"
    if runs_to:
        problem += f"; a quoted value runs on to line {runs_to}: is a closing quote missing?"
    return problem


def _unnamed_problem(values: list[str], unnamed: list[int]) -> str:
    column = next(i for i in unnamed if values[i].strip())
    return f"column {column + 1} has no name in line 1 but holds {values[column]!r}"


def _csv_problem(error: csv.Error) -> str:
    if "field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"a value is longer than {limit:,} characters: is a closing quote missing? "
            "Nothing after this line was read"
        )
    return f"cannot be read as CSV ({error}); nothing after this line was read"

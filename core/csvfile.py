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
    """Decode UTF-8 (with or without BOM), or say on which line the bytes are not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise FileProblems(
            [(line, "the file is not UTF-8; save it as 'CSV UTF-8' and try again")]
        ) from e


def read_rows(raw: bytes, required: list[str], optional: list[str] = ()):
    """Return the header and an iterator of (line number, row dict) after checking the header."""
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileProblems([(1, "the file is empty")]) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise FileProblems([(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise FileProblems([(1, f"unknown column(s): {', '.join(unknown)}")])
    if len(set(header)) != len(header):
        raise FileProblems([(1, "a column appears twice")])

    width = len(header)

    def rows():
        for values in reader:
            if len(values) != width:
                if "".join(values).strip():  # a blank line is skipped, a short one reported
                    yield reader.line_num, None
                continue
            if not "".join(values).strip():
                continue
            yield reader.line_num, dict(zip(header, values, strict=True))

    return header, rows()

"""Text compared without case or accents ("Đường" and "duong" alike), the same way in Python,
in SQLite (a function each connection is given) and in PostgreSQL (translate(), which needs no
extension): SQLite's own lower() knows ASCII letters only."""

import unicodedata

from sqlalchemy import String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "hl_fold"


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _accent_pairs() -> tuple[str, str]:
    """Each Latin letter with a mark (Vietnamese's among them), in either case, and its plain
    lower-case letter: what PostgreSQL's translate() folds with after lower()."""
    source, target = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        plain = _strip_marks(char)
        if plain != char and len(plain) == 1 and plain.isascii() and plain.isalpha():
            source.append(char)
            target.append(plain)
    return "".join(source), "".join(target)


ACCENTS = _accent_pairs()
# One pass in C over the text, not a decomposition per character: SQLite calls fold() on each
# comment a search reads. Marks typed apart from their letter (decomposed text) go too.
_TABLE = str.maketrans(ACCENTS[0], ACCENTS[1], "".join(map(chr, range(0x300, 0x370))))


def fold(text: str) -> str:
    """Text without case or accents ("Đường" → "duong"), as a search compares it."""
    return text.lower().translate(_TABLE)


def sqlite_fold(text):
    """fold() for SQLite, which passes NULL as None and may pass a number."""
    return fold(text) if isinstance(text, str) else text


class folded(FunctionElement):  # noqa: N801 (used as a SQL function: folded(column))
    """A column's text folded as fold() folds it, inside the database."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(folded)
def _folded_elsewhere(element, compiler, **kw):
    source, target = (compiler.process(literal(s), **kw) for s in ACCENTS)
    return f"translate(lower({compiler.process(element.clauses, **kw)}), {source}, {target})"

"""Text compared without case or accents ("Đường" and "duong" alike), the same way in Python,
in SQLite (a function each connection is given) and in PostgreSQL (13 and later: normalize()
and regexp_replace(), which need no extension): SQLite's own lower() knows ASCII letters only,
and PostgreSQL's translate() with every accented letter took 50 µs a comment."""

import unicodedata

from sqlalchemy import String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_FUNCTION = "hl_fold"
# The combining marks that NFD takes off Vietnamese letters (and other Latin ones).
MARKS = "[\u0300-\u036f]"
_NO_MARKS = dict.fromkeys(range(0x300, 0x370))


def fold(text: str) -> str:
    """Text without case or accents ("Đường" → "duong"), as a search compares it."""
    return unicodedata.normalize("NFD", text.lower()).translate(_NO_MARKS).replace("đ", "d")


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
    text = compiler.process(element.clauses, **kw)
    marks, stroke, plain = (compiler.process(literal(s), **kw) for s in (MARKS, "đ", "d"))
    return (
        f"replace(regexp_replace(normalize(lower({text}), NFD), {marks}, '', 'g'), "
        f"{stroke}, {plain})"
    )

"""Unit codes a spreadsheet damaged: official codes have leading zeros ("01", "00004") that a
spreadsheet takes away when it reads the column as numbers ("1", "4", or "1.0")."""

import re
from collections.abc import Iterable

from core.lazytext import LazyText
from core.lazytext import lazy_gettext as _l

# How a spreadsheet writes a whole number it read from a code cell: "4", "04", "4.0".
AS_NUMBER = re.compile(r"^([0-9]+)(?:\.0+)?$")


def _number_of(code: str) -> str | None:
    """The whole number a code reads as ("00004" → "4"), or None for a code that is no number."""
    found = AS_NUMBER.match(code)
    if found is None:
        return None
    return found[1].lstrip("0") or "0"


class DamagedCodes:
    """The codes of a set that a spreadsheet could have turned into another text."""

    def __init__(self, codes: Iterable[str]):
        self._known = set()
        self._by_number: dict[str, list[str]] = {}
        for code in codes:
            self._known.add(code)
            number = _number_of(code)
            if number is not None:
                self._by_number.setdefault(number, []).append(code)

    def probable(self, code: str) -> list[str]:
        """The codes of the set that code is probably, damaged (none for a code of the set)."""
        if code in self._known:
            return []
        number = _number_of(code)
        return sorted(self._by_number.get(number, ()), key=lambda c: (len(c), c)) if number else []


def damaged_code_problem(column: str, code: str, codes: list[str]) -> LazyText:
    """A code that is not in the database but is probably one of codes, its zeros lost."""
    return _l(
        "%(column)s %(code)s is not in the database; it is probably %(codes)s, its leading "
        "zeros lost to a spreadsheet: open the code columns as text, not numbers, and save the "
        "file again",
        column=column,
        code=code,
        codes=", ".join(codes),
    )

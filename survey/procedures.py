"""A procedure as the questionnaire lists it: its code, or its Vietnamese or English name typed
in any case, with or without accents, is taken as the code. Typed free text would show as typed
where the pages name the procedure, and no analysis would group it with the others."""

from core.folding import fold


def _key(text: str) -> str:
    return " ".join(fold(text).split())


class Procedures:
    """The procedures of one questionnaire version, found by code or name."""

    def __init__(self, data: dict):
        self.listed = data.get("procedures", [])
        self._codes = {}
        self._said: dict[str, str | None] = {}  # a file says the same few names on every line
        for procedure in self.listed:
            for text in (procedure["code"], *procedure["text"].values()):
                self._codes.setdefault(_key(text), procedure["code"])

    def code_of(self, text: str) -> str | None:
        """The code of the procedure text names, or None if it names none of the list."""
        if text not in self._said:
            self._said[text] = self._codes.get(_key(text))
        return self._said[text]

    def codes(self) -> str:
        return ", ".join(p["code"] for p in self.listed)

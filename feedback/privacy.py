"""Find the sender's own name and contact in a text meant for the public."""

import re
import unicodedata

# A run of digits that may be a phone number: spaces, dots and dashes between them.
_NUMBER = re.compile(r"\+?\d[\d .\-]{6,}\d")


# Letters that carry no combining mark to drop: đ is a letter of its own in Unicode.
_BARRED = str.maketrans({"đ": "d", "Đ": "d"})


def _folded(text: str) -> str:
    """Lower-case text without diacritics and with single spaces: "Nguyễn  Thị\u00a0Hoa" and
    "NGUYEN THI HOA" both give "nguyen thi hoa", as a name is often typed without accents."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_BARRED))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _phone_in(text: str, phone: str) -> bool:
    # The last nine digits: the same for 0912 345 678, 84912345678 or +84 912 345 678.
    wanted = re.sub(r"\D", "", phone)[-9:]
    if len(wanted) < 7:
        return False
    return any(wanted in re.sub(r"\D", "", number) for number in _NUMBER.findall(text))


def _words_in(text: str, value: str) -> bool:
    """Say whether value (two words at least: one alone is too often an ordinary word, a
    street or a place) stands in text as whole words."""
    value = _folded(value)
    if len(value.split()) < 2:
        return False
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", _folded(text)) is not None


# What Vietnamese put before a given name to speak of someone: "bà Hoa", "anh Tuấn", "cô Mai".
_TITLES = frozenset(
    "ông bà anh chị cô chú bác em cháu cụ dì cậu mợ thím thầy".split()  # noqa: SIM905
)
# Without their accents some are everyday words ("có", "chỉ", "ba"), so a title typed without
# accents counts only in a text typed wholly without them.
_BARE_TITLES = frozenset(_folded(title) for title in _TITLES)
# A word, or one mark of punctuation: a comma or a full stop between two words parts them.
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _has_accents(text: str) -> bool:
    decomposed = unicodedata.normalize("NFD", text)
    return "đ" in text.casefold() or any(unicodedata.combining(ch) for ch in decomposed)


def _called_by_given_name(text: str, name: str) -> bool:
    """Say whether text speaks of the sender as "bà Hoa" or "chị Thị Hoa": a title, then the
    last word or words of their name (which the whole-name check does not find alone)."""
    tail = _folded(name).split()[1:]
    if not tail:
        return False
    tokens = _TOKEN.findall(unicodedata.normalize("NFC", text))
    folded = [_folded(token) for token in tokens]
    accented = _has_accents(text)
    for at, token in enumerate(tokens[:-1]):
        is_title = token.casefold() in _TITLES if accented else folded[at] in _BARE_TITLES
        if is_title:
            after = folded[at + 1 : at + 1 + len(tail)]
            # The last k words of the name, and no longer word of it: "bà Hoa", not "bà Hoàng".
            if any(after[:k] == tail[-k:] for k in range(1, len(tail) + 1)):
                return True
    return False


def holds_personal_data(text: str, person) -> bool:
    """Say whether text holds the sender's name (the whole of it, or its last words after a
    title such as "bà"), phone number, e-mail or address."""
    if person is None or not text:
        return False
    return bool(
        (person.name and (_words_in(text, person.name) or _called_by_given_name(text, person.name)))
        or (person.address and _words_in(text, person.address))
        or (person.email and _folded(person.email) in _folded(text))
        or (person.phone and _phone_in(text, person.phone))
    )

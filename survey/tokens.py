"""Survey point tokens: what a point's QR code carries and its poster prints under it, to be
typed by hand where the code cannot be scanned."""

import secrets
import unicodedata

# As receipt and tracking codes: one case, no 0/O and no 1/I/L, which are confused on paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUP, GROUPS = 4, 4  # ABCD-EFGH-JKMN-PQRS: 31**16 ≈ 7·10**23, about 79 bits, not guessable
LENGTH = GROUP * GROUPS


def new_token() -> str:
    """Return a random token, in groups of four: never starts with "-", which the command line
    would read as an option (`points retire -x…`)."""
    return _grouped("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def token_from_digest(digest: bytes) -> str:
    """Return the token a digest of at least 16 bytes names (add_point_once)."""
    number, chars = int.from_bytes(digest, "big"), []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return _grouped("".join(chars))


def typed_token(text: str) -> str | None:
    """Return a token as a person typed it (any case, spaces or dashes anywhere, full-width
    characters) in its stored form, or None if it cannot be one. Tokens made before this
    alphabet (22 characters, both cases) are matched only as they are."""
    raw = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return _grouped(raw)


def _grouped(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))

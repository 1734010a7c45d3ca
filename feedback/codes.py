"""Tracking codes: short, unguessable, and unambiguous when read aloud or typed."""

import secrets
import unicodedata

# No 0/O, no 1/I/L: they are confused on paper and over the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10  # 31**10 ≈ 8·10**14 codes, about 49 bits: lookups are also throttled


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str | None) -> str | None:
    """Return the code a person typed in its stored form, or None if it cannot be one."""
    if not typed or len(typed) > 40:
        return None
    # NFKC: full-width letters and digits as some keyboards type them become plain ones.
    text = unicodedata.normalize("NFKC", typed)
    code = "".join(ch for ch in text if not _separator(ch)).upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def _separator(ch: str) -> bool:
    """Spaces, any dash (a phone may turn - into – or —), dots, underscores and invisible
    characters (a zero-width space copied with the code)."""
    return ch.isspace() or ch in "_.·" or unicodedata.category(ch) in ("Pd", "Cf")


def display(code: str) -> str:
    """Split the code in two groups, easier to read aloud: ABCDE-FGHJK."""
    return f"{code[:5]}-{code[5:]}"

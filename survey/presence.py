"""Presence codes: a counter screen shows a QR whose code changes every few minutes.

The code is the time window's number and an HMAC of it under the point's secret. A response
counts as "presence" when it arrives no later than a grace period after its window ended, so the
phone was at the counter while the code was on the screen.
"""

import base64
import hashlib
import hmac

SIGNATURE_LENGTH = 12


def window_number(now: float, window_seconds: int) -> int:
    """Return the number of the time window that contains the moment now (Unix seconds)."""
    return int(now // window_seconds)


def _signature(secret: str, token: str, window: int) -> str:
    digest = hmac.new(secret.encode(), f"{token}:{window}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:SIGNATURE_LENGTH].lower()


def presence_code(secret: str, token: str, window: int) -> str:
    """Return the code shown on the counter screen during a window."""
    return f"{window}.{_signature(secret, token, window)}"


def is_present(
    secret: str, token: str, code: str | None, now: float, window_seconds: int, grace_seconds: int
) -> bool:
    """Say whether code was signed for this point and shown recently enough to count."""
    if not code or len(code) > 40 or code.count(".") != 1:
        return False
    number, signature = code.split(".")
    if not number.isascii() or not number.isdigit():
        return False
    window = int(number)
    expected = _signature(secret, token, window)
    if not hmac.compare_digest(expected, signature):
        return False
    shown_from = window * window_seconds
    shown_until = shown_from + window_seconds
    # A little slack before the window opens, for a screen clock slightly ahead of the server.
    return shown_from - 5 <= now <= shown_until + grace_seconds

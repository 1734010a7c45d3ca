"""How far a response can be trusted: receipts, device repeats, bursts, exclusions."""

import hashlib
import hmac
import math
import secrets
import unicodedata
from datetime import timedelta

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import joinedload

from core.apikeys import ApiKey
from core.extensions import db
from core.lazytext import lazy_gettext as _l
from core.models import Unit, User, utcnow
from survey.models import CRITERIA, Exclusion, Flag, ReceiptCode, Response

# Receipt codes are read off paper: no 0/O, 1/I/L, in groups of four.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 12  # 31^12 ≈ 8·10^17: not guessable
# Said where a receipt code is typed (/r, the PAKN form) when the typing turned it into letters
# with accents (core.forms.accented), which no code has.
RECEIPT_TYPED_WITH_ACCENTS = _l(
    "A receipt code has no accented letters: Vietnamese typing (Telex or VNI) changed what you "
    "typed. Switch it off and type the code again."
)
ANSWER_COLUMNS = [c.lower() for c in CRITERIA] + ["hk"]


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def normalise_receipt_code(text: str) -> str:
    """Accept a typed code with any case, spaces or dashes, or in full-width characters."""
    raw = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def issue_receipts(
    unit: Unit,
    count: int,
    valid_for: timedelta,
    procedure: str | None = None,
    *,
    issued_by: User | ApiKey | None,
) -> list[ReceiptCode]:
    """Create count one-time receipt codes for a unit, as one batch recording who issued it:
    an account, a partner system's API key, or (None) the command line."""
    now = utcnow()
    # One batch, one time: the back office lists issues by them (survey.history).
    batch = secrets.token_hex(16)
    account = issued_by.id if isinstance(issued_by, User) else None
    key = issued_by.id if isinstance(issued_by, ApiKey) else None
    codes = [
        ReceiptCode(
            code=new_receipt_code(), unit=unit, procedure=procedure, created_at=now,
            expires_at=now + valid_for, batch=batch, issued_by_id=account, issued_by_key_id=key,
        )
        for _ in range(count)
    ]  # fmt: skip
    db.session.add_all(codes)
    db.session.flush()
    return codes


def receipt_url(receipt: ReceiptCode, base_url: str) -> str:
    """Return the public address a receipt's QR code encodes."""
    return f"{base_url.rstrip('/')}/r/{receipt.code}"


_RECEIPT_BY_CODE = (
    select(ReceiptCode)
    .options(joinedload(ReceiptCode.unit))
    .where(ReceiptCode.code == bindparam("code"))
)


def receipt_by_code(code: str) -> ReceiptCode | None:
    """Return the receipt with its unit (the citizen's pages show the unit)."""
    if not code or len(code) > 40:
        return None
    return db.session.scalar(_RECEIPT_BY_CODE, {"code": normalise_receipt_code(code)})


def claim_receipt(receipt: ReceiptCode) -> bool:
    """Mark the receipt used, atomically: of two answers at once, exactly one wins."""
    now = utcnow()
    result = db.session.execute(
        update(ReceiptCode)
        .where(
            ReceiptCode.id == receipt.id,
            ReceiptCode.used_at.is_(None),
            ReceiptCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def device_hash(secret_key: str, cookie: str | None) -> str | None:
    """Return a keyed hash of the phone's random cookie (never stored itself)."""
    if not cookie or len(cookie) > 64:
        return None
    return hmac.new(secret_key.encode(), cookie.encode(), hashlib.sha256).hexdigest()[:32]


# Built once: these run on every citizen's answer.
_DEVICE_HISTORY = (
    select(
        *(
            getattr(Response, c)
            for c in ("id", "point_id", "submitted_at", "procedure", "comment", *ANSWER_COLUMNS)
        )
    )  # fmt: skip
    .where(
        Response.device_hash == bindparam("device"),
        Response.unit_id == bindparam("unit_id"),
        Response.submitted_at >= bindparam("since"),
    )
    .order_by(Response.submitted_at.desc())
    .limit(20)
)
_POINT_SINCE = select(Response.id).where(
    Response.point_id == bindparam("point_id"), Response.submitted_at >= bindparam("since")
)
# At most `most` of them: enough for a decision, whatever the flood.
_POINT_SINCE_AT_MOST = select(func.count()).select_from(
    _POINT_SINCE.limit(bindparam("most")).subquery()
)
_POINT_BEFORE = select(func.count()).select_from(
    _POINT_SINCE.where(Response.submitted_at < bindparam("until")).subquery()
)
_LATEST_ANSWERS = (
    select(Response.submitted_at, *(getattr(Response, c) for c in ANSWER_COLUMNS))
    .where(Response.point_id == bindparam("point_id"))
    .order_by(Response.submitted_at.desc(), Response.id.desc())
    .limit(bindparam("most"))
)


def read_columns(statement, params: dict | None = None):
    """Run a query of plain columns on the session's connection, without the ORM's work.

    Nothing is flushed first: the rows are those the session has already written.
    """
    return db.session.connection().execute(statement, params)


def device_history(device: str, unit_id: int, since) -> list:
    """Return this phone's responses at the unit since a moment, newest first."""
    params = {"device": device, "unit_id": unit_id, "since": since}
    return read_columns(_DEVICE_HISTORY, params).all()


def detect_flags(response, config, device_history: list) -> list[str]:
    """Return the flags a new response earns, from the responses recorded before it; response:
    its values as attributes (a Response, or the row services.record_response writes)."""
    flags = []
    now = response.submitted_at
    if device_history:
        flags.append(Flag.REPEAT_DEVICE)
    if response.point_id is not None:
        run, least = config["SAME_PATTERN_RUN"], config["BURST_MIN"]
        # The point's latest answers, newest first, read once for both checks.
        params = {"point_id": response.point_id, "most": max(run, least)}
        latest = read_columns(_LATEST_ANSWERS, params).all()
        if _is_burst(response.point_id, now, config, latest):
            flags.append(Flag.BURST)
        if _same_as_previous(response, latest[:run], run):
            flags.append(Flag.SAME_PATTERN)
    return [str(f) for f in flags]


def _is_burst(point_id: int, now, config, latest: list) -> bool:
    """Far more answers in the last window than the point's usual rate for such a window.

    The window's answers are counted only as far as the decision needs (latest holds the
    point's BURST_MIN newest, at least): during a flood, each new answer counted all those
    before it in the window, and cost more than the one before.
    """
    window = timedelta(minutes=config["BURST_WINDOW_MINUTES"])
    history = timedelta(days=config["BURST_HISTORY_DAYS"])
    least = config["BURST_MIN"]
    recent = sum(row.submitted_at >= now - window for row in latest)
    if recent + 1 < least:
        return False  # too few for a burst whatever the usual rate: the 28 days need no count
    params = {"point_id": point_id, "since": now - history, "until": now - window}
    usual = read_columns(_POINT_BEFORE, params).scalar()
    # Counters open about 8 hours on working days: about 5/7 of the history's hours.
    open_windows = (history / window) * (5 / 7) * (8 / 24)
    needed = max(least, config["BURST_FACTOR"] * usual / open_windows)
    if recent == len(latest) and recent + 1 < needed:  # all read were in it: count on
        params = {"point_id": point_id, "since": now - window, "most": math.ceil(needed)}
        recent = read_columns(_POINT_SINCE_AT_MOST, params).scalar()
    return recent + 1 >= needed


def _same_as_previous(response, previous: list, run: int) -> bool:
    """Identical answers to each of the point's last `run` responses (previous, newest first,
    each its time and then its answers)."""
    mine = tuple(getattr(response, c) for c in ANSWER_COLUMNS)
    if sum(v not in (None, 0) for v in mine[:-1]) < 3:
        return False  # too few answers to call a pattern
    return len(previous) == run and all(tuple(p)[1:] == mine for p in previous)


def active_exclusion(response_id: int) -> Exclusion | None:
    return db.session.scalar(
        select(Exclusion).where(Exclusion.response_id == response_id, Exclusion.undone_at.is_(None))
    )


def exclude_response(response: Response, user: User, reason: str) -> Exclusion:
    """Leave a response out of the figures, recording who and why."""
    current = active_exclusion(response.id)
    if current is not None:
        return current
    exclusion = Exclusion(response_id=response.id, reason=reason.strip(), excluded_by_id=user.id)
    db.session.add(exclusion)
    return exclusion


def undo_exclusion(response: Response, user: User) -> bool:
    """Put an excluded response back into the figures; say whether it was excluded."""
    current = active_exclusion(response.id)
    if current is None:
        return False
    current.undone_at = utcnow()
    current.undone_by_id = user.id
    return True


def excluded_ids_clause():
    """SQL condition: the response is not excluded now."""
    return ~Response.id.in_(
        select(Exclusion.response_id).where(and_(Exclusion.undone_at.is_(None)))
    )

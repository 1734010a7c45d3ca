"""Rate limits kept in the database, so that every server counts together.

Each limit counts attempts in windows of its length and weighs the previous window's count by
the part of it still inside the last `seconds` (a sliding window, approximated with two
counters): a burst at the end of one window and another at the start of the next are counted
together, where fixed windows would let twice the limit through.
"""

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime

from flask import current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import Throttle, utcnow


def _key(purpose: str, who: str, window: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{purpose}|{who}|{window}".encode(), hashlib.sha256).hexdigest()


def _window(seconds: int, now: datetime) -> tuple[int, float]:
    """Return the window now falls in and how much of it has passed (0 to 1)."""
    moment = now.replace(tzinfo=UTC).timestamp()
    window = int(moment) // seconds
    return window, (moment - window * seconds) / seconds


def _count(conn, purpose: str, who: str, seconds: int, now: datetime) -> float:
    """This window's attempts, plus the previous window's weighted by its part still in view."""
    window, passed = _window(seconds, now)
    current, previous = _key(purpose, who, window), _key(purpose, who, window - 1)
    hits = dict(
        conn.execute(
            select(Throttle.key, Throttle.hits).where(Throttle.key.in_((current, previous)))
        ).all()
    )
    return hits.get(current, 0) + hits.get(previous, 0) * (1 - passed)


def over_limit(purpose: str, who: str, limit: int, seconds: int, now: datetime) -> bool:
    """Say whether the attempts of the last `seconds` already reached the limit, without
    counting one."""
    with db.engine.connect() as conn:
        return _count(conn, purpose, who, seconds, now) >= limit


def hit(purpose: str, who: str, limit: int, seconds: int, now: datetime) -> bool:
    """Count one attempt; return False once the limit for the last `seconds` is passed."""
    window, _passed = _window(seconds, now)
    key = _key(purpose, who, window)
    # Kept through the next window too, which weighs it.
    expires = datetime.fromtimestamp((window + 2) * seconds + 1, UTC).replace(tzinfo=None)
    # Its own transaction: a refused or failed request still counts.
    with db.engine.begin() as conn:
        done = conn.execute(
            update(Throttle).where(Throttle.key == key).values(hits=Throttle.hits + 1)
        )
        if done.rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(
                        Throttle.__table__.insert().values(key=key, hits=1, expires_at=expires)
                    )
            except IntegrityError:  # another server inserted it first
                conn.execute(
                    update(Throttle).where(Throttle.key == key).values(hits=Throttle.hits + 1)
                )
        return _count(conn, purpose, who, seconds, now) <= limit


def forget(purpose: str, who: str, seconds: int, now: datetime) -> None:
    """Start the count again: this window's and the previous one's."""
    window, _passed = _window(seconds, now)
    keys = (_key(purpose, who, window), _key(purpose, who, window - 1))
    with db.engine.begin() as conn:
        conn.execute(delete(Throttle).where(Throttle.key.in_(keys)))


def client_address() -> str:
    """Who the request came from, for counting: its address (the proxies' word for it where
    PROXY_COUNT is set), or for IPv6 the /64 network around it.

    An IPv6 client is usually given a whole /64 and can pick any address in it, so counting
    single addresses would let one phone or one attacker start afresh at will.
    """
    address = request.remote_addr or "-"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def forget_expired(now: datetime | None = None) -> int:
    """Delete finished windows; return how many."""
    result = db.session.execute(delete(Throttle).where(Throttle.expires_at < (now or utcnow())))
    return result.rowcount

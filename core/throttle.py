"""Fixed-window rate limits kept in the database, so that every server counts together."""

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import Throttle, utcnow


def _window(purpose: str, who: str, seconds: int, now: datetime) -> tuple[str, datetime]:
    window = int(now.replace(tzinfo=UTC).timestamp()) // seconds
    secret = current_app.config["SECRET_KEY"].encode()
    key = hmac.new(secret, f"{purpose}|{who}|{window}".encode(), hashlib.sha256).hexdigest()
    expires = datetime.fromtimestamp((window + 1) * seconds, UTC).replace(tzinfo=None)
    return key, expires + timedelta(seconds=1)


def over_limit(purpose: str, who: str, limit: int, seconds: int, now: datetime) -> bool:
    """Say whether this window's attempts already reached the limit, without counting one."""
    key, _expires = _window(purpose, who, seconds, now)
    with db.engine.connect() as conn:
        hits = conn.scalar(select(Throttle.hits).where(Throttle.key == key))
    return (hits or 0) >= limit


def hit(purpose: str, who: str, limit: int, seconds: int, now: datetime) -> bool:
    """Count one attempt; return False once the limit for this window is passed."""
    key, expires = _window(purpose, who, seconds, now)
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
        hits = conn.execute(Throttle.__table__.select().where(Throttle.key == key)).one().hits
    return hits <= limit


def forget(purpose: str, who: str, seconds: int, now: datetime) -> None:
    """Start this window's count again."""
    key, _expires = _window(purpose, who, seconds, now)
    with db.engine.begin() as conn:
        conn.execute(delete(Throttle).where(Throttle.key == key))


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

"""Fixed-window rate limits kept in the database, so that every server counts together."""

import hashlib
import hmac
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
    """The address the request came from (the proxies' word for it where PROXY_COUNT is set)."""
    return request.remote_addr or "-"


def forget_expired(now: datetime | None = None) -> int:
    """Delete finished windows; return how many."""
    result = db.session.execute(delete(Throttle).where(Throttle.expires_at < (now or utcnow())))
    return result.rowcount

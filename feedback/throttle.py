"""PAKN's rate limits: its settings, counted by core's throttle."""

from core import throttle
from core.models import utcnow
from feedback.settings import setting


def hit(purpose: str, who: str, limit_setting: str) -> bool:
    """Count one attempt; return False once the setting's limit for this window is passed."""
    return throttle.hit(purpose, who, *setting(limit_setting), utcnow())


def client_hit(purpose: str, limit_setting: str) -> bool:
    """Count an attempt from this client's address."""
    return hit(purpose, throttle.client_address(), limit_setting)


def client_over_limit(purpose: str, limit_setting: str) -> bool:
    return throttle.over_limit(
        purpose, throttle.client_address(), *setting(limit_setting), utcnow()
    )

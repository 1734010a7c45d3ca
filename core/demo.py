"""The demo province that `make run` loads on first run (`flask setup`, `flask demo load`): the
survey's units, counters, administrator and responses, then the PAKN staff and cases. core calls
the two modules' loaders in turn, as it registers their blueprints."""

import random
from datetime import date, datetime, timedelta

from core.models import LOCAL_OFFSET, local_day_start

OPENING, CLOSING = 7 * 60 + 30, 17 * 60  # the counters' hours, in minutes of the Vietnam day
# How long ago the demo province set the product up: before its first answer (two years ago),
# receipt (25 months) or case.
SET_UP_DAYS_AGO = 800


def set_up_moment(now: datetime) -> datetime:
    """When the demo province imported its units, added its counters and made its accounts:
    8:00 on a working day before anything they recorded, in UTC as stored."""
    day = (now + LOCAL_OFFSET).date() - timedelta(days=SET_UP_DAYS_AGO)
    day -= timedelta(days=max(0, day.weekday() - 4))  # a weekend: the Friday before
    return local_day_start(day) + timedelta(hours=8)


def office_moment(rng: random.Random, day: date) -> datetime:
    """A moment of the Vietnam day while the counters are open, in UTC as stored: when the demo's
    answers are given at a counter and its cases received and handled."""
    return local_day_start(day) + timedelta(minutes=rng.randint(OPENING, CLOSING))


def load_demo_province(base_url: str, seed: int = 2024) -> tuple[tuple[str, str], str]:
    """Load it all; return ((the administrator's e-mail, password), one survey point's URL)."""
    from feedback.demo import load_demo_pakn
    from survey.demo import load_demo

    login, url = load_demo(base_url, seed)
    load_demo_pakn(seed)
    return login, url

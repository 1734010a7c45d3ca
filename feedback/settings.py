"""PAKN settings: defaults here; instance/config.py overrides any of them."""

from flask import current_app

DEFAULTS = {
    # Working days to answer, per topic code; "default" for the others.
    "FEEDBACK_DEADLINES": {"default": 10},
    # Working days to publish a case after its answer, per topic code; "default" for the others.
    # Provinces set their own; 5 is the product's choice, not a national rule.
    "FEEDBACK_PUBLISH_DEADLINES": {"default": 5},
    # Working days to forward a case outside the unit's competence: 5, the rule for PAKN (README.md,
    # "Complaints and recommendations").
    "FEEDBACK_FORWARD_DAYS": 5,
    # A case is "due soon" when its due date is within this many working days: the queue's tab
    # and the staff digest (`feedback digest`).
    "FEEDBACK_DUE_SOON_DAYS": 2,
    # Days after a case is finished before its personal data and photos are purged.
    "FEEDBACK_RETENTION_DAYS": 365,
    "FEEDBACK_CONTENT_MAX": 4000,
    "FEEDBACK_PHOTOS_MAX": 3,
    "FEEDBACK_PHOTO_MAX_BYTES": 8 * 1024 * 1024,  # one upload, before re-encoding
    "FEEDBACK_PHOTO_MAX_PIXELS": 40_000_000,  # width × height of one upload
    "FEEDBACK_PHOTO_MAX_SIDE": 1600,  # the stored photo's longest side
    "FEEDBACK_PHOTO_STORED_BYTES": 600 * 1024,
    # (requests, seconds) per client address: sending cases, looking up unknown codes.
    "FEEDBACK_SEND_LIMIT": (10, 3600),
    "FEEDBACK_TRACK_LIMIT": (30, 600),
    # (requests, seconds) per partner key for Open311 POST.
    "FEEDBACK_API_POST_LIMIT": (120, 60),
    "FEEDBACK_PAGE_SIZE": 50,
    # Household-register "yes" answers that open a case each at one counter in one day; the
    # later ones, and those the survey flags, join one case of the day (feedback/household.py).
    "FEEDBACK_SURVEY_CASES_PER_POINT_DAY": 5,
    # E-mails to citizens: tries before giving up, and the first wait between tries in
    # minutes, which doubles each time (10 tries: 1 + 2 + ... + 256 minutes, 8.5 hours).
    "FEEDBACK_MAIL_ATTEMPTS": 10,
    "FEEDBACK_MAIL_RETRY_MINUTES": 1,
    # "Received" e-mails to one address in 24 hours: the form's address is nobody's to confirm,
    # so past these the PAKN is still recorded, without an e-mail.
    "FEEDBACK_MAIL_RECEIVED_PER_DAY": 3,
}


def setting(name: str):
    """Return a PAKN setting from the app's config, or its default."""
    return current_app.config.get(name, DEFAULTS[name])


def deadline_days(topic: str) -> int:
    """Working days to answer a case of this topic."""
    return _days_for(topic, "FEEDBACK_DEADLINES")


def publish_days(topic: str) -> int:
    """Working days to publish a case of this topic once it is answered."""
    return _days_for(topic, "FEEDBACK_PUBLISH_DEADLINES")


def _days_for(topic: str, name: str) -> int:
    table = setting(name)
    return int(table.get(topic, table.get("default", DEFAULTS[name]["default"])))


def request_size_limit() -> int:
    """The largest request body the citizen's form accepts: its photos plus the text."""
    return setting("FEEDBACK_PHOTOS_MAX") * setting("FEEDBACK_PHOTO_MAX_BYTES") + 256 * 1024

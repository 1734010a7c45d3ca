"""How the back office names a response's channel and the flags it earned (survey/integrity.py)."""

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _

from core.lazytext import lazy_gettext as _l
from survey.models import Channel, Flag

CHANNEL_LABELS = {
    Channel.STATIC: _l("Printed QR"),
    Channel.PRESENCE: _l("Counter screen"),
    Channel.RECEIPT: _l("Receipt code"),
    Channel.PAPER: _l("Paper form"),
}
FLAG_LABELS = {
    Flag.REPEAT_DEVICE: _l("same phone"),
    Flag.BURST: _l("burst"),
    Flag.SAME_PATTERN: _l("same answers"),
}


def flag_labels(flags: str) -> list[str]:
    """The names of a response's flags, stored joined by ","; one unknown to this release as
    stored (a later release's flag, read by a server of this one during an upgrade)."""
    return [str(FLAG_LABELS.get(flag, flag)) for flag in flags.split(",") if flag]


def flag_meanings() -> list[tuple[str, str]]:
    """Each flag's name and what earned it, with the configured thresholds written as the
    page's language writes numbers (a province may set a factor of 2.5: 2,5 in Vietnamese)."""
    config = current_app.config
    return [
        (
            str(FLAG_LABELS[Flag.REPEAT_DEVICE]),
            _(
                "the same phone had answered at this unit in the %(hours)s hours before",
                hours=format_decimal(config["REPEAT_DEVICE_HOURS"]),
            ),
        ),
        (
            str(FLAG_LABELS[Flag.BURST]),
            _(
                "at least %(least)s answers at this counter within %(minutes)s minutes, "
                "%(factor)s times its usual rate or more",
                least=format_decimal(config["BURST_MIN"]),
                minutes=format_decimal(config["BURST_WINDOW_MINUTES"]),
                factor=format_decimal(config["BURST_FACTOR"]),
            ),
        ),
        (
            str(FLAG_LABELS[Flag.SAME_PATTERN]),
            _(
                "the same answers as each of the %(run)s responses just before at this counter",
                run=format_decimal(config["SAME_PATTERN_RUN"]),
            ),
        ),
    ]

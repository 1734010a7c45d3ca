"""The comments page's filters: a GET form that works without JavaScript, every value checked
before it reaches the query (a unit outside the viewer's scope is not one of the choices)."""

from datetime import date

from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from core.forms import Form, stripped, without_direction_controls
from core.i18n import vietnamese_choice
from core.lazytext import lazy_gettext as _l
from survey.comments import SEARCH_MAX

# A date the time zone's shift and the day after still hold (date's first and last years do not).
FIRST_YEAR, LAST_YEAR = 2000, 9998


def _in_range(_form, field) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("This date is out of range. Check the year."))


def _search_as_written(text: str | None) -> str | None:
    return without_direction_controls(text.strip()) if text else text


class CommentFiltersForm(Form):
    """Which comments to list; every filter may be left empty."""

    class Meta:
        csrf = False  # a search, sent by GET: it changes nothing

    unit = SelectField(_l("Unit"), choices=[], default="")
    since = DateField(_l("From"), validators=[Optional(), _in_range])
    until = DateField(_l("To"), validators=[Optional(), _in_range])
    dissatisfied = BooleanField(_l("Only dissatisfied (an answer of 1 or 2)"))
    household_register = BooleanField(_l("Only those asked for a paper household register"))
    q = StringField(
        _l("Words in the comment"),
        filters=[stripped, _search_as_written],
        validators=[Length(max=SEARCH_MAX)],
    )

    def set_units(self, units) -> None:
        self.unit.choices = [SelectChoice("", _l("All my units"), render_kw={})] + [
            vietnamese_choice(u.code, f"{u.code} – {u.name}") for u in units
        ]

    def validate_until(self, field) -> None:
        since: date | None = self.since.data
        if field.data and since and field.data < since and not self.since.errors:
            raise ValidationError(_l("The end of the period comes before its start."))

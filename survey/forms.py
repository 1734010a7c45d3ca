"""The survey form, built from a questionnaire version."""

from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Regexp, ValidationError

from core.forms import Form, OneLineName, SubmissionKeyField, new_key, without_direction_controls
from core.i18n import vietnamese_choice
from core.lazytext import lazy_gettext as _l
from core.models import LOCAL_OFFSET, local_today
from survey.models import CRITERIA, NO_OPINION

VALUES = {str(v): v for v in (1, 2, 3, 4, 5, NO_OPINION)}
COMMENT_MAX = 1000


class ScaleField(Field):
    """A 1-5 answer, 0 for "no opinion", None when left blank."""

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.raw = raw
        self.data = None
        if raw == "":
            return
        if raw not in VALUES:
            raise ValueError(_l("Choose one of the answers shown."))
        self.data = VALUES[raw]


class YesNoField(Field):
    """A required yes/no answer."""

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip().lower() if valuelist else ""
        self.data = {"yes": True, "no": False}.get(raw)
        if raw and self.data is None:
            raise ValueError(_l("Choose one of the answers shown."))

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise ValidationError(_l("Please answer this question: it is required."))


class ChoiceCodeField(Field):
    """An optional code from a fixed list."""

    def __init__(self, *args, codes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.codes = set(codes)

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.data = raw or None
        if raw and raw not in self.codes:
            raise ValueError(_l("Choose one of the answers shown."))


def comment_as_written(text: str | None) -> str | None:
    """A comment with each line break as one character, as the textarea's maxlength counts them
    (browsers send each as CRLF), and without the characters that would show it backwards to
    staff and analysts (a right-to-left override), as a PAKN's text is: the survey form and
    the import of paper forms keep a comment so, and count its length after."""
    if not text:
        return text
    return without_direction_controls(text.replace("\r\n", "\n").replace("\r", "\n"))


class CommentField(TextAreaField):
    """Free text, kept as comment_as_written keeps it."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = comment_as_written(self.data)


class SurveyForm(Form):
    """Base for the per-version form; criteria fields are added by survey_form_class.

    The page writes its own labels: each field is given its name as label, which spares
    WTForms a translation lookup per field on every answer.
    """

    key = SubmissionKeyField("key")
    presence = HiddenField("presence", validators=[Length(max=40)])
    HK = YesNoField("HK")
    comment = CommentField(
        "comment", validators=[Length(max=COMMENT_MAX, message=_l("The comment is too long."))]
    )

    def answers(self) -> dict:
        """Return the answers as Response columns."""
        values = {code.lower(): self[code].data for code in self.criterion_codes}
        values["hk"] = self.HK.data
        values["procedure"] = self.procedure.data
        values["comment"] = (self.comment.data or "").strip() or None
        return values


_form_classes: dict[tuple[int, str], type[SurveyForm]] = {}


def survey_form_class(questionnaire) -> type[SurveyForm]:
    """Return the form class for a questionnaire version (built once per process)."""
    cache_key = (questionnaire.id, questionnaire.checksum)
    cls = _form_classes.get(cache_key)
    if cls is None:
        codes = [c["code"] for c in questionnaire.criteria()]
        fields = {code: ScaleField(code) for code in codes}
        fields["criterion_codes"] = codes
        fields["procedure"] = ChoiceCodeField(
            "procedure", codes=[p["code"] for p in questionnaire.data.get("procedures", [])]
        )
        cls = type(f"SurveyFormV{questionnaire.version}", (SurveyForm,), fields)
        _form_classes[cache_key] = cls
    return cls


CHOOSE_UNIT = _l("Choose the unit.")


def unit_choices(units) -> list:
    """The units a receipt or a paper form may be for. With several, an empty first choice, so
    that a form left as it came is refused rather than put on the list's first unit (for a
    province's staff, the province itself)."""
    choices = [vietnamese_choice(u.code, f"{u.name} ({u.code})") for u in units]
    return choices if len(choices) == 1 else [("", _("– choose a unit –")), *choices]


class ReceiptForm(Form):
    """Staff issuing one-time receipt codes for dossiers."""

    unit = SelectField(_l("Unit"), validators=[DataRequired(CHOOSE_UNIT)])
    count = IntegerField(
        _l("How many codes"),
        default=10,
        validators=[NumberRange(1, 500, message=_l("Between 1 and 500 codes at a time."))],
    )
    procedure = SelectField(_l("Procedure (optional)"), validate_choice=True)


# \Z, not $: a $ also matches before a final line break, which would pass "…\n" on.
ANSWERS_PATTERN = rf"^[0-5 .-]{{{len(CRITERIA)}}}\Z"


class PaperForm(Form):
    """A paper form typed in: all answers as one string of digits, for speed."""

    unit = SelectField(_l("Unit"), validators=[DataRequired(CHOOSE_UNIT)])
    day = DateField(_l("Date on the form"), default=local_today, validators=[DataRequired()])
    answers = StringField(
        _l("Answers A1 to E3"),
        validators=[
            DataRequired(),
            Regexp(
                ANSWERS_PATTERN,
                message=_l("Type 19 characters: 1-5, 0 for no opinion, '-' for blank."),
            ),
        ],
    )
    hk = StringField(
        _l("Household register asked (y/n)"),
        validators=[Regexp(r"^[yYnNcCkK]\Z", message=_l("Type y (yes) or n (no)."))],
    )
    procedure = StringField(
        _l("Procedure, its code or its name (optional)"), validators=[Length(max=120)]
    )
    comment = CommentField(_l("Comment (optional)"), validators=[Length(max=COMMENT_MAX)])
    key = HiddenField()
    procedures = None  # the questionnaire's Procedures, which the view gives

    def validate_procedure(self, field):
        if field.errors or not (field.data or "").strip():
            return
        if self.procedures.code_of(field.data) is None:
            raise ValidationError(
                _l("Not a procedure of the list below: type its code or its name as listed.")
            )

    def procedure_code(self) -> str:
        """The code of the procedure typed, or "" for none."""
        return self.procedures.code_of(self.procedure.data or "") or ""

    def validate_day(self, field):
        if not self.day_allowed(field.data):
            raise ValidationError(_l("The date must be between 2000 and today."))

    @staticmethod
    def day_allowed(day: date) -> bool:
        return date(2000, 1, 1) <= day <= local_today()

    @classmethod
    def kept_day(cls, text: str | None) -> date | None:
        """The day the previous form was typed with (the page's address keeps it), if allowed."""
        try:
            day = date.fromisoformat(text or "")
        except ValueError:
            return None
        return day if cls.day_allowed(day) else None

    def answer_digits(self) -> str:
        return self.answers.data

    def hk_value(self) -> str:
        return "yes" if self.hk.data.lower() in ("y", "c") else "no"

    def submitted_at(self) -> datetime:
        # Noon Vietnam time on the day written on the form, stored in UTC.
        return datetime.combine(self.day.data, time(12)) - LOCAL_OFFSET

    def new_key(self) -> None:
        self.key.data = new_key()


class LabelForm(Form):
    """A counter's label, held to the rule of `points add`."""

    label = StringField(_l("Counter name"), validators=[OneLineName()])


class NewPointForm(LabelForm):
    """A new survey point: its unit, among those the view offers, and its label."""

    unit = SelectField(_l("Unit"), choices=[])
    # Sent twice, the same form adds one point (services.add_point_once).
    key = SubmissionKeyField()

    def set_units(self, units) -> None:
        self.unit.choices = [vietnamese_choice(u.code, f"{u.code} – {u.name}") for u in units]


class RetireForm(Form):
    """Retiring a point, said to be understood: it cannot be undone."""

    confirm = BooleanField(
        _l("I understand: its QR code will no longer open the survey, and this cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class ImportForm(Form):
    """A CSV file of responses, typed in from paper forms, to import whole."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    open_cases = BooleanField(
        _l("Open a PAKN case for each answer that says a paper household register was asked for")
    )
    # The digest of a file imported before that the user chose to import again: the page's
    # checkbox says it, and it holds only for that file, sent again.
    again = HiddenField()

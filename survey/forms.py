"""The survey form, built from a questionnaire version."""

from datetime import date, datetime, time

from flask import current_app, request
from flask_babel import gettext as _
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, TimestampSigner
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Regexp, ValidationError

from core.forms import (
    FORM_NOT_VALID,
    NUL_TAKEN_OUT,
    Form,
    OneLineName,
    SubmissionKeyField,
    kept_key,
    new_key,
    typed_fields_nul_was_taken_from,
    without_direction_controls,
)
from core.i18n import vietnamese_choice
from core.lazytext import lazy_gettext as _l
from core.models import LOCAL_OFFSET, local_today
from survey.models import CRITERIA, NO_OPINION

VALUES = {str(v): v for v in (1, 2, 3, 4, 5, NO_OPINION)}
COMMENT_MAX = 1000
PRESENCE_MAX = 40
NOT_SHOWN = _l("Choose one of the answers shown.")


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


# The salt of the survey form's token: a token of another form or purpose is not one of it.
FORM_TOKEN_SALT = "survey-form"  # noqa: S105 (a salt, not a secret)
FORGED_OR_EXPIRED = _l("This form has expired or was not sent from this site. Please try again.")


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.secret_key, salt=FORM_TOKEN_SALT)


def form_token(key: str) -> str:
    """The token a survey form carries beside its one-time key: the key signed with the app's
    secret and the time. The answer must bring both back within WTF_CSRF_TIME_LIMIT, so that
    a forged or expired form is known without a session: citizens get no session cookie, and
    each answer is spared reading one (bench/survey_load.py)."""
    return _signer().sign(key).decode()


class Answer:
    """One field of the survey form: what was read from it (data) and, once the form is
    checked, what is wrong with it (errors), as the page shows them again."""

    __slots__ = ("data", "errors", "_problem")

    def __init__(self, data=None, problem=None):
        self.data = data
        self.errors: list = []
        self._problem = problem  # found as it was read, said by validate()


class SurveyForm:
    """The citizen's survey form for a questionnaire version, read and checked by hand.

    Every citizen's answer goes through it: as a WTForms form, the twenty-odd objects it made
    for each answer cost about a quarter of the server's time per answer (bench/survey_load.py).
    It keeps the interface the templates use of a WTForms form: form[code], form.HK,
    form.procedure, form.comment, form.key and form.presence each with .data and .errors;
    form.csrf_token.errors; form.errors, field by field in the page's order. Its token is
    form_token's, not Flask-WTF's, which lives in a session.
    """

    def __init__(self, questionnaire, formdata=None, *, csrf: bool = True):
        """Read the form from formdata (the request's form by default); csrf False for a form
        the back office fills in from a paper one, whose own page checks the token."""
        self.criterion_codes, procedure_codes = _shape(questionnaire)
        self._csrf = csrf and current_app.config.get("WTF_CSRF_ENABLED", True)
        get = (request.form if formdata is None else formdata).get
        self.csrf_token = Answer(get("csrf_token"))
        self.key = Answer(get("key"))
        self.presence = Answer(get("presence"))
        hk = (get("HK") or "").strip().lower()
        self.HK = Answer({"yes": True, "no": False}.get(hk))
        if self.HK.data is None:
            self.HK._problem = NOT_SHOWN if hk else _l(
                "Please answer this question: it is required."
            )  # fmt: skip
        self._criteria = {code: _scale(get(code)) for code in self.criterion_codes}
        procedure = (get("procedure") or "").strip()
        bad_procedure = procedure and procedure not in procedure_codes
        self.procedure = Answer(procedure or None, NOT_SHOWN if bad_procedure else None)
        self.comment = Answer(comment_as_written(get("comment")))

    def __getitem__(self, code: str) -> Answer:
        return self._criteria[code]

    def _fields(self):
        yield "csrf_token", self.csrf_token
        yield "key", self.key
        yield "presence", self.presence
        yield "HK", self.HK
        yield from self._criteria.items()
        yield "procedure", self.procedure
        yield "comment", self.comment

    @property
    def errors(self) -> dict[str, list]:
        return {name: field.errors for name, field in self._fields() if field.errors}

    def validate(self) -> bool:
        """Check every field, as the page asks; the comment, if a NUL was taken out of it, is
        shown again with a word beside it, as core.forms.Form does for its texts."""
        if self._csrf and not self._token_holds():
            self.csrf_token._problem = FORGED_OR_EXPIRED
        kept = kept_key(self.key.data)
        if kept != self.key.data:
            # Nothing was recorded with it: the page shown again must be one that can be sent.
            self.key.data = kept
            self.key._problem = FORM_NOT_VALID
        if len(self.presence.data or "") > PRESENCE_MAX:
            self.presence._problem = _l("Write at most %(max)d characters.", max=PRESENCE_MAX)
        if len(self.comment.data or "") > COMMENT_MAX:
            self.comment._problem = _l("The comment is too long.")
        for _name, field in self._fields():
            field.errors = [field._problem] if field._problem else []
        if typed_fields_nul_was_taken_from(lambda name: name == "comment"):
            self.comment.errors.append(NUL_TAKEN_OUT)
        return not self.errors

    def _token_holds(self) -> bool:
        """Say whether the form's token is one form_token made for its key, and not too old."""
        try:
            signed = _signer().unsign(
                self.csrf_token.data or "", max_age=current_app.config["WTF_CSRF_TIME_LIMIT"]
            )
        except BadSignature:  # forged, or expired (SignatureExpired)
            return False
        return bool(self.key.data) and signed.decode() == self.key.data

    def answers(self) -> dict:
        """Return the answers as Response columns."""
        values = {code.lower(): field.data for code, field in self._criteria.items()}
        values["hk"] = self.HK.data
        values["procedure"] = self.procedure.data
        values["comment"] = (self.comment.data or "").strip() or None
        return values


def _scale(sent: str | None) -> Answer:
    """A 1-5 answer, 0 for "no opinion", None when left blank."""
    raw = (sent or "").strip()
    if raw and raw not in VALUES:
        return Answer(None, NOT_SHOWN)
    return Answer(VALUES.get(raw))


_shapes: dict[tuple[int, str], tuple[tuple[str, ...], frozenset[str]]] = {}


def _shape(questionnaire) -> tuple[tuple[str, ...], frozenset[str]]:
    """The criteria's codes and the procedures' codes of a questionnaire version (read once)."""
    cache_key = (questionnaire.id, questionnaire.checksum)
    shape = _shapes.get(cache_key)
    if shape is None:
        codes = tuple(c["code"] for c in questionnaire.criteria())
        procedures = frozenset(p["code"] for p in questionnaire.data.get("procedures", []))
        shape = _shapes[cache_key] = (codes, procedures)
    return shape


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

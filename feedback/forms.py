"""Forms: the citizen's PAKN, the staff's intake and moves, the rating, declared days."""

import unicodedata

from flask_babel import gettext as _
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from core.forms import (
    Form,
    PlainText,
    SubmissionKeyField,
    accented,
    has_control_characters,
    without_controls,
    without_direction_controls,
)
from core.i18n import LANGUAGE_NAMES
from core.lazytext import lazy_gettext as _l
from feedback.models import CHANNEL_LABELS, KIND_LABELS, STAFF_CHANNELS, TOPIC_LABELS
from feedback.services import ReceiptRefused, receipt_for_case
from feedback.workflow import CLASSIFY_OUTCOMES, OUTCOME_LABELS, STAFF_ACTIONS
from survey.integrity import RECEIPT_TYPED_WITH_ACCENTS

# A mobile (0912 345 678, +84 912 345 678) or a landline with its area code in brackets, as
# offices print theirs: (028) 3822 1234. \Z: a line break at the end is refused too.
PHONE = Regexp(
    r"^\+?\(?[0-9][0-9 .\-()]{7,18}\Z",
    message=_l("Write a phone number with digits only, e.g. 0912 345 678."),
)
CONTENT_MAX = 4000
CONTENT_MIN = 10
CONTENT_LENGTH = _l("Write between 10 and 4,000 characters.")
REQUIRED = _l("This field is required.")


def seen_length(text: str) -> int:
    """Count the characters that can be seen: ten zero-width spaces are no text of ten."""
    return sum(unicodedata.category(ch) != "Cf" for ch in text)


def _seen_length(form, field):
    """Count the content's length on what can be seen (Length has said so already for a text
    shorter than that)."""
    text = field.data or ""
    if len(text) >= CONTENT_MIN > seen_length(text):
        raise ValidationError(CONTENT_LENGTH)


CONTENT_CHECKS = [
    DataRequired(REQUIRED),
    Length(min=CONTENT_MIN, max=CONTENT_MAX, message=CONTENT_LENGTH),
    _seen_length,
]


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(str(key), label) for key, label in labels.items()]


NONE = SelectChoice("", "–")


def _stripped(text: str | None) -> str | None:
    """Strip the text as it will be stored, so that its length is checked on what is kept."""
    return text.strip() if text else text


# What the sender wrote, kept without the characters that would show it backwards to staff
# and on the tracking page, or control characters nobody sees: removed rather than refused, as
# nobody can see them to remove.
AS_WRITTEN = [without_controls]
KEPT = [without_controls, _stripped]


def kept_content(text: str | None) -> str:
    """The content of a PAKN as the citizen's form keeps it (KEPT), for other ways in."""
    return _stripped(without_controls(text)) or ""


def _unspaced(text: str | None) -> str | None:
    """Take off the spaces around a contact, never a line break: one is refused, not hidden."""
    return text.strip(" \t\u00a0") if text else text


CONTACT = [without_direction_controls, _unspaced]


class ContactMixin:
    """Optional name and contact for the answer, with consent under Decree 13/2023."""

    # Stripped: a phone's keyboard puts a space after a word or an address it suggests, which
    # nobody sees and which would make the address refused as not valid.
    # A line break or an invisible character in a name is refused, not hidden: it would
    # slip the name past the check for personal data before publishing (feedback/privacy.py).
    name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=120), PlainText()],
        filters=CONTACT,
    )
    phone = StringField(_l("Phone number"), validators=[Optional(), PHONE], filters=CONTACT)
    email = EmailField(
        _l("E-mail"),
        validators=[Optional(), Length(max=254), Email(message=_l("This e-mail is not valid."))],
        filters=CONTACT,
    )
    consent = BooleanField()
    # Said to whoever fills the form in: the sender here, staff on the intake form.
    no_consent = _l("To leave your name or contact, please agree to their use for this answer.")

    def validate_consent(self, field):
        # Staff intake's address is personal data too: kept only with the sender's consent.
        if any(self.person().values()) and not field.data:
            raise ValidationError(self.no_consent)

    def person(self) -> dict:
        return {
            "name": self.name.data,
            "phone": self.phone.data,
            "email": self.email.data,
            "address": getattr(getattr(self, "address", None), "data", None),
        }


class CaseFieldsMixin:
    kind = RadioField(
        _l("Kind"), choices=_choices(KIND_LABELS), validators=[InputRequired(REQUIRED)]
    )
    topic = SelectField(
        _l("Topic"),
        choices=[NONE, *_choices(TOPIC_LABELS)],
        validators=[DataRequired(REQUIRED)],
    )
    content = TextAreaField(
        _l("What happened, or what do you recommend?"),
        validators=CONTENT_CHECKS,
        filters=KEPT,
    )


class ReceiptMixin:
    """The receipt code of the dossier the PAKN is about (optional), for Decision 766's ratio of
    satisfaction with procedures. The view sets case_unit, the unit the case is for."""

    receipt = StringField(
        _l("Receipt code of the dossier (optional)"),
        filters=[_stripped],
    )
    case_unit = None
    found_receipt = None

    def validate_receipt(self, field):
        if not field.data or self.case_unit is None:
            return
        try:
            self.found_receipt = receipt_for_case(self.case_unit, field.data)
        except ReceiptRefused as e:
            if e.receipt is None and accented(field.data):
                raise ValidationError(RECEIPT_TYPED_WITH_ACCENTS) from None
            if e.receipt is None:
                raise ValidationError(
                    _(
                        "No dossier has this receipt code. Check the code printed on the "
                        "receipt (12 letters and digits), or leave the field empty."
                    )
                ) from None
            raise ValidationError(
                _(
                    "This receipt code is for a dossier of %(unit)s, not of %(here)s or a unit "
                    "under it. Leave the field empty, or address the PAKN to %(unit)s.",
                    unit=e.receipt.unit.name,
                    here=self.case_unit.name,
                )
            ) from None


class CitizenCaseForm(CaseFieldsMixin, ReceiptMixin, ContactMixin, Form):
    key = SubmissionKeyField()
    photos = MultipleFileField(_l("Photos (optional, up to 3)"))


class StaffCaseForm(CaseFieldsMixin, ReceiptMixin, ContactMixin, Form):
    no_consent = _l(
        "Keep the sender's name or contact only if they agreed to their use for this answer: "
        "tick the box, or leave them out."
    )
    key = SubmissionKeyField()
    unit = SelectField(_l("Unit"), coerce=int, validators=[InputRequired(REQUIRED)])
    channel = SelectField(
        _l("Received by"),
        choices=[SelectChoice(str(c), CHANNEL_LABELS[c]) for c in STAFF_CHANNELS],
        validators=[DataRequired(REQUIRED)],
    )
    received_on = DateField(_l("Received on"), validators=[InputRequired(REQUIRED)])
    address = StringField(
        _l("Address"),
        validators=[Optional(), Length(max=300), PlainText()],
        filters=[without_direction_controls],
    )
    # The citizen's e-mails about the case are written in it (Case.locale).
    locale = RadioField(
        _l("The sender's language, for the e-mails about this PAKN"),
        choices=_choices(LANGUAGE_NAMES),
        default="vi",  # also when a form made before this field is sent
    )
    content = TextAreaField(
        _l("Content"),
        validators=CONTENT_CHECKS,
        filters=KEPT,
    )


# Characters a text written for the public keeps: its layout.
_LAYOUT = dict.fromkeys(map(ord, "\r\n\t"))


class PublicText:
    """Refuse control and invisible characters in a text for the public, line breaks and tabs
    apart: a zero-width space inside the sender's name would slip it past the check for
    personal data, a direction override would turn the published text around."""

    message = _l(
        "This text holds invisible or control characters (pasted from another program?). "
        "Remove them, please."
    )

    def __call__(self, form, field):
        if field.data and has_control_characters(field.data.translate(_LAYOUT)):
            raise ValidationError(self.message)


class ActionForm(Form):
    """One move on a case; the service checks what the move needs."""

    action = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    # What staff write for the citizen (the tracking page shows it) is kept, like the citizen's
    # own text, without the characters that would turn it around.
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=CONTENT_MAX)], filters=AS_WRITTEN
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[NONE] + [SelectChoice(str(o), OUTCOME_LABELS[o]) for o in CLASSIFY_OUTCOMES],
        validators=[Optional()],
    )
    unit = StringField(_l("Unit code"), validators=[Optional(), Length(max=20)])
    handler = SelectField(_l("Handler"), coerce=str, validators=[Optional()], choices=[])
    agency = StringField(
        _l("Competent agency"), validators=[Optional(), Length(max=200)], filters=AS_WRITTEN
    )
    answer = TextAreaField(
        _l("Answer"), validators=[Optional(), Length(max=CONTENT_MAX)], filters=AS_WRITTEN
    )
    summary = TextAreaField(
        _l("Summary to publish (no personal data)"),
        validators=[Optional(), Length(max=CONTENT_MAX), PublicText()],
    )
    published_answer = TextAreaField(
        _l("Answer to publish (no personal data; the citizen still reads the answer above)"),
        validators=[Optional(), Length(max=CONTENT_MAX), PublicText()],
    )

    def validate_action(self, field):
        if field.data not in {str(a) for a in STAFF_ACTIONS}:
            raise ValidationError(_l("Unknown action."))


class RatingForm(Form):
    satisfied = RadioField(
        _l("Are you satisfied with how your PAKN was handled?"),
        choices=[SelectChoice("yes", _l("Satisfied")), SelectChoice("no", _l("Not satisfied"))],
        validators=[InputRequired(_l("Please choose an answer."))],
    )


class DeclaredDayForm(Form):
    day = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    working = RadioField(
        _l("This day is"),
        choices=[
            SelectChoice("off", _l("a day off")),
            SelectChoice("working", _l("a working day")),
        ],
        validators=[InputRequired(REQUIRED)],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


def _unit_id(value) -> int | None:
    """A unit's id from the form, or None for the empty choice (every unit)."""
    return None if value in ("", None) else int(value)


# What each scope of core.apikeys.Scope lets a partner system do, as the keys page offers it.
KEY_SCOPES = {
    "open311": _l("Open311: PAKN handed over by the 1022 hotline or another system"),
    "receipts": _l("Receipts: survey codes printed on dossiers' receipts by the one-stop system"),
    "analysis": _l("Analysis: figures read by analysts' own tools"),
}


class ApiKeyForm(Form):
    name = StringField(
        _l("Partner system"), validators=[DataRequired(REQUIRED), Length(max=120), PlainText()]
    )
    # Open311 when the field is not sent at all, as every key this page made was before.
    scope = SelectField(
        _l("For"),
        choices=_choices(KEY_SCOPES),
        default="open311",
    )
    # Choices: "All units" (empty), then every unit; the view sets them. No Optional(): it
    # would take a value of spaces for the empty choice, a forged value for every unit.
    unit = SelectField(_l("Unit"), coerce=_unit_id, choices=[])


class EmptyForm(Form):
    """Only the CSRF token: for buttons that post."""

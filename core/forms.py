"""The base of every form, and the one-time key that the survey's and PAKN's forms share."""

import enum
import re
import secrets
import unicodedata

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, StringField
from wtforms.validators import StopValidation, ValidationError

from core.errors import NulCharacter
from core.lazytext import lazy_gettext as _l

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")

# WTForms' own messages, said in the app's words: WTForms has no Vietnamese catalogue, so
# without these a Vietnamese page showed "Not a valid choice." and the like in English.
WTFORMS_MESSAGES = {
    "This field is required.": _l("This field is required."),
    "Not a valid choice.": _l("Choose one of the answers shown."),
    "Invalid Choice: could not coerce.": _l("Choose one of the answers shown."),
    "Not a valid integer value.": _l("Write a whole number."),
    "Not a valid date value.": _l("This is not a valid date."),
    # WTForms fills in %(max)d itself.
    "Field cannot be longer than %(max)d characters.": _l("Write at most %(max)d characters."),
}


class AppMessages:
    """The translations WTForms asks for its own messages: the app's catalogue."""

    def gettext(self, string: str) -> str:
        message = WTFORMS_MESSAGES.get(string)
        return string if message is None else str(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if plural in WTFORMS_MESSAGES:
            return self.gettext(plural)
        return singular if n == 1 else plural


APP_MESSAGES = AppMessages()


class Form(FlaskForm):
    """A form whose every message reaches the user in their language."""

    class Meta:
        def get_translations(self, form):
            return APP_MESSAGES

    def validate(self, extra_validators=None) -> bool:
        """Check the fields; a text a NUL was taken out of (core.errors.nul_taken_out) is shown
        again with a word beside it, for the citizen to check what is left before sending it."""
        valid = super().validate(extra_validators)
        for name in typed_fields_nul_was_taken_from(self._typed):
            self._fields[name].errors = [*self._fields[name].errors, NUL_TAKEN_OUT]
            valid = False
        return valid

    def _typed(self, name: str) -> bool:
        field = self._fields.get(name)
        return isinstance(field, StringField) and not isinstance(field, HiddenField)


def typed_fields_nul_was_taken_from(typed) -> frozenset[str]:
    """The fields of this request a NUL was taken out of (core.errors.nul_taken_out), each a
    text someone typed (typed(name)), to be shown again with NUL_TAKEN_OUT beside it; a NUL in
    any other field is refused (NulCharacter), as everywhere."""
    for name in request.nul_fields:
        if not typed(name):
            raise NulCharacter()
    return request.nul_fields


NUL_TAKEN_OUT = _l(
    "A character that is not text (NUL) was taken out of what was written here. "
    "Please check it and send it again."
)


def stripped(text: str | None) -> str | None:
    """A field filter: the spaces a phone's keyboard adds after a word it completed, gone."""
    return text.strip() if text else text


def new_key() -> str:
    """A form's one-time key: a form sent again is known by it and records nothing twice."""
    return secrets.token_hex(16)


FORM_NOT_VALID = _l("This form is not valid. Please submit it again.")


def kept_key(sent: str | None) -> str:
    """Keep the key a form sent back when it is one new_key makes, else make one."""
    return sent if sent and KEY_PATTERN.match(sent) else new_key()


class SubmissionKeyField(HiddenField):
    """The form's one-time key, as new_key makes it. A refused key is replaced as it is refused:
    nothing was recorded with it, and the page shown again must be one that can be sent."""

    def pre_validate(self, form):
        kept = kept_key(self.data)
        if kept != self.data:
            self.data = kept
            raise ValidationError(FORM_NOT_VALID)


def accented(typed: str | None) -> bool:
    """Say whether the text holds Vietnamese letters, as Telex or VNI typing makes of a code
    (AA becomes Â, DD Đ, A1 Á): a tracking or receipt code never has them."""
    text = unicodedata.normalize("NFD", typed or "")
    return any(unicodedata.combining(ch) for ch in text) or "đ" in text.casefold()


def has_control_characters(text: str) -> bool:
    """Say whether text holds a control character (line break, tab...) or an invisible format
    one (a direction override, a zero-width space): never part of a name or a label."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


# The characters that set the direction of writing (Unicode's Bidi_Control): embeddings,
# overrides, isolates and marks. No Vietnamese text needs them, and an override shows a
# phone number or a name backwards; some phones wrap a copied phone number in them.
DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_NO_DIRECTION = dict.fromkeys(map(ord, DIRECTION_CONTROLS))


def without_direction_controls(text: str | None) -> str | None:
    """A field filter: text as written, without the characters that turn it around."""
    return text.translate(_NO_DIRECTION) if text else text


# The control characters (Unicode Cc) but line breaks and tabs: a bell or a terminal's escape
# sequence pasted into a text shows nobody anything. Those a word processor puts between words
# (a vertical tab, a form feed, a separator) become a space, so that no two words are glued.
# NUL never gets this far (core.errors refuses it, or takes it out of a citizen's text).
_NO_CONTROLS = _NO_DIRECTION | {
    c: " " if chr(c).isspace() else None
    for c in (*range(0x20), *range(0x7F, 0xA0))
    if chr(c) not in "\t\n\r"
}


def without_controls(text: str | None) -> str | None:
    """A field filter: text as written, without direction controls and the control characters
    that are not its layout (removed rather than refused, as nobody can see them to remove)."""
    return text.translate(_NO_CONTROLS) if text else text


# The longest one-line name (a counter's label, a key's name): their columns hold 120.
NAME_MAX_LENGTH = 120


class NameFault(enum.Enum):
    """What makes a one-line name unusable."""

    EMPTY = "empty"
    TOO_LONG = "too long"
    CHARACTERS = "characters"


def name_fault(text: str, max_length: int = NAME_MAX_LENGTH) -> NameFault | None:
    """Say what is wrong with a one-line name of 1 to max_length characters, if anything."""
    if not text.strip():
        return NameFault.EMPTY
    if len(text) > max_length:
        return NameFault.TOO_LONG
    if has_control_characters(text):
        return NameFault.CHARACTERS
    return None


def name_problem(text: str, what: str) -> str | None:
    """Say, for the command line, what is wrong with a one-line name (what: "the label"...)."""
    fault = name_fault(text)
    if fault in (NameFault.EMPTY, NameFault.TOO_LONG):
        return f"{what} must have 1-{NAME_MAX_LENGTH} characters"
    if fault is NameFault.CHARACTERS:
        return f"{what} must not hold line breaks, tabs or invisible characters"
    return None


class PlainText:
    """Refuse a one-line name holding control or invisible characters."""

    message = _l("No line breaks, tabs or invisible characters here, please.")

    def __call__(self, form, field):
        if field.data and has_control_characters(field.data):
            raise ValidationError(self.message)


class OneLineName:
    """Refuse, in the user's language, the names that name_problem refuses on the command line."""

    messages = {
        NameFault.EMPTY: _l("This field is required."),
        NameFault.TOO_LONG: _l("Write at most %(max)d characters.", max=NAME_MAX_LENGTH),
        NameFault.CHARACTERS: PlainText.message,
    }

    def __call__(self, form, field):
        fault = name_fault(field.data or "")
        if fault is not None:
            raise StopValidation(self.messages[fault])


class UnitsFileForm(Form):
    """A units file, as `units import` reads it, to import whole."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


def read_upload(form_class: type[Form], max_bytes: int) -> Form | None:
    """The form of a file upload, its body allowed max_bytes (more than the app's usual bodies);
    None when the body is larger, for the page to say so."""
    request.max_content_length = max_bytes
    try:
        return form_class()
    except RequestEntityTooLarge:
        return None

"""The one-time key that the survey's and PAKN's forms share."""

import re
import secrets

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import ValidationError

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def new_key() -> str:
    """A form's one-time key: a form sent again is known by it and records nothing twice."""
    return secrets.token_hex(16)


class SubmissionKeyField(HiddenField):
    """The form's one-time key, as new_key makes it. A refused key is replaced as it is refused:
    nothing was recorded with it, and the page shown again must be one that can be sent."""

    def pre_validate(self, form):
        if not self.data or not KEY_PATTERN.match(self.data):
            self.data = new_key()
            raise ValidationError(_l("This form is not valid. Please submit it again."))

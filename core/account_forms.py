"""Forms of the accounts pages: a new account (invited), its role and unit, a new password,
one's own."""

from wtforms import EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from core.accounts import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    UNIT_ROLES,
    account_by_email,
    normalized_email,
)
from core.forms import Form, stripped
from core.i18n import vietnamese_choice
from core.lazytext import lazy_gettext as _l
from core.models import AccountAction, Role, Unit

REQUIRED = _l("This field is required.")
ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.MANAGER: _l("Manager"),
    Role.HANDLER: _l("Handler"),
    Role.ANALYST: _l("Analyst"),
}
ACTION_LABELS = {
    AccountAction.CREATED: _l("Account created"),
    AccountAction.ROLE_UNIT: _l("Role or unit changed"),
    AccountAction.PASSWORD: _l("New password set"),
    AccountAction.DEACTIVATED: _l("Account deactivated"),
    AccountAction.ACTIVATED: _l("Account activated"),
    AccountAction.SESSIONS_ENDED: _l("Sessions ended"),
    AccountAction.OWN_PASSWORD: _l("Own password changed"),
    AccountAction.OWN_SESSIONS_ENDED: _l("Signed out of every other device"),
    AccountAction.PASSWORD_RESET: _l("Password reset with an e-mailed link"),
    AccountAction.INVITED: _l("Invited to choose a password"),
    AccountAction.INVITATION_ACCEPTED: _l("Invitation accepted: first password chosen"),
}


class RoleUnitMixin:
    """The account's role and unit, among those the view offers (set_choices)."""

    role = SelectField(_l("Role"), choices=[])
    # Units by code, as the command line names them; the empty choice is "no unit".
    unit = SelectField(_l("Unit"), choices=[])

    def set_choices(self, roles: tuple[Role, ...], units: list[Unit], unit_optional: bool):
        self.role.choices = [SelectChoice(str(r), ROLE_LABELS[r]) for r in roles]
        choices = [vietnamese_choice(u.code, f"{u.code} – {u.name}") for u in units]
        none = [SelectChoice("", _l("No unit"))] if unit_optional else []
        self.unit.choices = none + choices

    def validate_unit(self, field):
        if not field.data and self.role.data in UNIT_ROLES:
            raise ValidationError(_l("A manager or a handler needs a unit."))


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(REQUIRED),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l("Write between %(min)d and %(max)d characters."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class NewAccountForm(RoleUnitMixin, Form):
    """A new account, with no password: its owner chooses one (core/invitations.py)."""

    def set_choices(self, roles: tuple[Role, ...], units: list[Unit], unit_optional: bool):
        super().set_choices(roles, units, unit_optional)
        # No role is chosen for the creator: a role left as it came would make an administrator.
        self.role.choices = [SelectChoice("", "–"), *self.role.choices]

    def validate_role(self, field):
        if not field.data:
            raise ValidationError(REQUIRED)

    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        filters=[stripped],
    )

    def validate_email(self, field):
        if field.errors:  # too long: not worth reading
            return
        try:
            email = normalized_email(field.data)
        except ValueError:
            raise ValidationError(_l("This is not an e-mail address.")) from None
        if account_by_email(email) is not None:
            raise ValidationError(_l("An account with this e-mail already exists."))
        field.data = email  # as the command line stores it; a refused one is shown as typed


class RoleUnitForm(RoleUnitMixin, Form):
    pass


class SetPasswordForm(NewPasswordMixin, Form):
    pass


class OwnPasswordForm(NewPasswordMixin, Form):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX_LENGTH)]
    )


class ResetRequestForm(Form):
    """The address to send a password-reset link to; checked only for being one."""

    email = EmailField(
        _l("E-mail"),
        filters=[stripped],
        validators=[
            DataRequired(REQUIRED),
            Length(max=254),
            Email(_l("This is not an e-mail address.")),
        ],
    )


class ResetPasswordForm(NewPasswordMixin, Form):
    pass


class ButtonForm(Form):
    """Only the CSRF token: for buttons that post."""

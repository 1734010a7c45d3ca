"""Staff accounts: the rules the command line and the back office share, and who manages whom."""

from sqlalchemy import Select, false, func, select, true
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import AccountAction, AccountEvent, Role, Unit, User, email_key

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
# Their work is a unit's: an account of these roles without one would see nothing.
UNIT_ROLES = (Role.MANAGER, Role.HANDLER)
# What a manager may give and manage, within their unit and the units under it.
MANAGER_GIVES = (Role.HANDLER, Role.ANALYST)
# The lines of an account's history its page shows.
HISTORY_SIZE = 50


class LastAdmin(Exception):
    """The change would leave no active administrator."""


def normalized_email(text: str) -> str:
    """Return the address as accounts store it; raise ValueError
    (email_validator's EmailNotValidError, saying why) if it is none."""
    from email_validator import validate_email  # 20 ms: only where an account is made

    return validate_email(text, check_deliverability=False).normalized


def account_by_email(email: str) -> User | None:
    """Return the account of this address in any case, as sign-in reads it."""
    return db.session.scalar(select(User).where(User.email_key == email_key(email)))


def record(
    user: User, actor: User | None, action: AccountAction, detail: str | None = None
) -> None:
    """Add a line to the account's history; actor None is the command line."""
    db.session.add(AccountEvent(user=user, actor=actor, action=action, detail=detail))


def _role_and_unit(role: Role, unit: Unit | None) -> str:
    """'handler 26734', or 'admin' for an account of no unit."""
    return f"{role} {unit.code}" if unit else str(role)


def create_account(
    email: str, role: Role, unit: Unit | None, password: str | None, *, actor: User | None
) -> User:
    """Add an account; the caller has checked the address is free and the unit fits the role.
    Password None: the account has none until its owner chooses one (core/invitations.py) or
    one is set for it."""
    user = User(email=email, role=role, unit=unit)
    if password is None:
        user.clear_password()
    else:
        user.set_password(password)
    db.session.add(user)
    record(user, actor, AccountAction.CREATED, _role_and_unit(role, unit))
    return user


def _is_last_active_admin(user: User) -> bool:
    if user.role is not Role.ADMIN or not user.active:
        return False
    others = select(func.count()).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user.id
    )
    return db.session.scalar(others) == 0


def _next_session_version(user: User) -> None:
    # Counted in the database, so that two at once end every session signed in before either.
    user.session_version = User.session_version + 1


def end_sessions(user: User, *, actor: User | None) -> None:
    """End every session of the account, at its next request."""
    _next_session_version(user)
    own = actor is not None and actor.id == user.id
    record(user, actor, AccountAction.OWN_SESSIONS_ENDED if own else AccountAction.SESSIONS_ENDED)


def set_password(user: User, password: str, *, actor: User | None) -> None:
    """Give the account a new password; every session signed in with the old one ends."""
    user.set_password(password)
    _next_session_version(user)
    own = actor is not None and actor.id == user.id
    record(user, actor, AccountAction.OWN_PASSWORD if own else AccountAction.PASSWORD)


def reset_password(user: User, password: str) -> None:
    """Give the account the password chosen through a link e-mailed to it (core/password_reset.py):
    every session ends, and the history says the account did it itself."""
    user.set_password(password)
    _next_session_version(user)
    record(user, user, AccountAction.PASSWORD_RESET)


def accept_invitation(user: User, password: str) -> None:
    """Give the account the first password its owner chose with the invitation's link; the
    history says the account did it itself."""
    user.set_password(password)
    _next_session_version(user)
    record(user, user, AccountAction.INVITATION_ACCEPTED)


def set_active(user: User, active: bool, *, actor: User | None) -> None:
    """Let the account sign in, or stop it: its open sessions end for good, at their next
    request. Activating ends them too: an account stopped before sessions had versions, or by
    a server of the release before (docs/deploy.md), kept them."""
    if not active and _is_last_active_admin(user):
        raise LastAdmin()
    if user.active == active:
        return
    _next_session_version(user)
    user.active = active
    record(user, actor, AccountAction.ACTIVATED if active else AccountAction.DEACTIVATED)


def change_role_and_unit(user: User, role: Role, unit: Unit | None, *, actor: User | None) -> None:
    """Give the account another role or unit; the caller has checked the unit fits the role."""
    if role is not Role.ADMIN and _is_last_active_admin(user):
        raise LastAdmin()
    before, after = _role_and_unit(user.role, user.unit), _role_and_unit(role, unit)
    user.role, user.unit = role, unit
    if after != before:
        record(user, actor, AccountAction.ROLE_UNIT, f"{before} → {after}")


def account_history(user: User, limit: int | None = HISTORY_SIZE) -> list[AccountEvent]:
    """The account's history, newest first, with who acted."""
    query = (
        select(AccountEvent)
        .where(AccountEvent.user_id == user.id)
        .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
        .options(selectinload(AccountEvent.actor))
        .limit(limit)
    )
    return list(db.session.scalars(query))


def roles_given_by(actor: User) -> tuple[Role, ...]:
    """The roles this account may give (and manage) in the back office."""
    if actor.role is Role.ADMIN:
        return tuple(Role)
    if actor.role is Role.MANAGER and actor.unit is not None:
        return MANAGER_GIVES
    return ()


def units_in_scope(user: User) -> list[Unit]:
    """The units whose points, answers and cases this account works with, in tree order: the
    list that User.can_see_unit answers one unit at a time."""
    return list(db.session.scalars(select(Unit).where(in_scope(user)).order_by(Unit.path)))


def in_scope(user: User):
    """The condition on Unit that keeps the units in this account's scope."""
    if user.role is Role.ADMIN:
        return true()
    if user.unit is None:
        return false()
    if user.role is Role.MANAGER:
        return Unit.path.startswith(user.unit.path)
    return Unit.id == user.unit_id


def units_given_by(actor: User) -> list[Unit]:
    """The units this account may give an account, in tree order."""
    query = select(Unit).order_by(Unit.path)
    if actor.role is not Role.ADMIN:
        if actor.role is not Role.MANAGER or actor.unit is None:
            return []
        query = query.where(Unit.path.startswith(actor.unit.path))
    return list(db.session.scalars(query))


def can_see(actor: User, account: User) -> bool:
    """Say whether the account is in the actor's list: every one for an administrator, those
    of their unit and the units under it for a manager."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.MANAGER or account.unit is None:
        return False
    return actor.can_see_unit(account.unit)


def can_manage(actor: User, account: User) -> bool:
    """Say whether the actor may change the account: a manager, only the handlers and analysts
    of their scope."""
    if not can_see(actor, account):
        return False
    return actor.role is Role.ADMIN or account.role in MANAGER_GIVES


def accounts_query(actor: User, unit: Unit | None = None, role: Role | None = None) -> Select:
    """The accounts the actor sees, of a unit's subtree and of a role if given, by e-mail."""
    query = select(User).order_by(User.email_key, User.id)
    if actor.role is not Role.ADMIN:
        if actor.role is not Role.MANAGER or actor.unit is None:
            return query.where(false())
        unit = unit or actor.unit
    if unit is not None:
        query = query.join(User.unit).where(Unit.path.startswith(unit.path))
    if role is not None:
        query = query.where(User.role == role)
    return query


def active_accounts_by_unit(within: Unit | None) -> dict[int, int]:
    """How many active staff accounts each unit has (of within and the units under it)."""
    query = select(User.unit_id, func.count()).where(User.active, User.unit_id.is_not(None))
    if within is not None:
        query = query.join(User.unit).where(Unit.path.startswith(within.path))
    return dict(db.session.execute(query.group_by(User.unit_id)).all())

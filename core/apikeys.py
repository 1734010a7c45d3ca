"""API keys for other systems and analysts' tools: shown once, stored as a hash, revocable."""

import enum
import hashlib
import hmac
import secrets
from datetime import datetime

import click
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.cli import CommandGroup, open_unit
from core.extensions import db
from core.forms import name_problem
from core.models import Unit, local_time, utcnow

PREFIX_LENGTH = 8


class Scope(enum.StrEnum):
    ANALYSIS = "analysis"  # read figures through /api/v1
    OPEN311 = "open311"  # hand PAKN cases over through /open311/v2
    RECEIPTS = "receipts"  # issue one-time survey codes for dossiers' receipts


class ApiKey(db.Model):
    """A partner system's key; with a unit, it works for that unit and the units under it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    scope: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(PREFIX_LENGTH), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # None: every unit

    unit: Mapped[Unit | None] = relationship()

    def covers(self, unit: Unit) -> bool:
        """Say whether this key may act for the unit: its own unit's subtree, or every unit."""
        return self.unit is None or unit.is_within(self.unit)


def _digest(key: str) -> str:
    # Keys are 256 random bits: a fast hash is enough, unlike for passwords.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name: str, scope: Scope, unit: Unit | None = None) -> tuple[ApiKey, str]:
    """Make a key, for one unit's subtree or (unit None) every unit; return the record and
    the key itself, which is never stored."""
    key = secrets.token_urlsafe(32)
    record = ApiKey(
        name=name, scope=str(scope), prefix=key[:PREFIX_LENGTH], key_hash=_digest(key), unit=unit
    )
    db.session.add(record)
    return record, key


def presented_key(headers) -> str | None:
    """Return the key of 'Authorization: Bearer KEY' or 'X-API-Key: KEY', or None.

    Raise ValueError for an Authorization header of another scheme.
    """
    header = headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ValueError("use 'Authorization: Bearer KEY' or the X-API-Key header")
        return key.strip()
    return headers.get("X-API-Key")


def check_key(key: str | None, scope: Scope) -> ApiKey | None:
    """Return the live key record matching key and scope, or None."""
    if not key or len(key) > 100:
        return None
    candidates = db.session.scalars(
        select(ApiKey).where(ApiKey.prefix == key[:PREFIX_LENGTH], ApiKey.revoked_at.is_(None))
    )
    digest = _digest(key)
    for record in candidates:
        if hmac.compare_digest(record.key_hash, digest) and record.scope == scope:
            return record
    return None


apikeys_cli = CommandGroup("apikeys", help="API keys for partner systems and analysts' tools.")


@apikeys_cli.command("create")
@click.argument("name")
@click.option("--scope", type=click.Choice([s.value for s in Scope]), default="open311",
              show_default=True)  # fmt: skip
@click.option(
    "--unit",
    "unit_code",
    metavar="CODE",
    help="Limit the key to this unit and the units under it (default: every unit).",
)
def apikeys_create(name: str, scope: str, unit_code: str | None):
    """Create a key and print it (it cannot be shown again)."""
    name = name.strip()
    if problem := name_problem(name, "the name"):
        raise click.ClickException(problem)
    unit = None
    if unit_code is not None:
        unit = open_unit(unit_code, "limit the key to the unit that took over")
    if db.session.scalar(select(ApiKey).where(ApiKey.name == name)):
        raise click.ClickException(f"a key named {name!r} already exists")
    _record, key = create_key(name, Scope(scope), unit)
    db.session.commit()
    click.echo(key)


@apikeys_cli.command("list")
def apikeys_list():
    """List keys: name, scope, prefix, created, revoked (in Vietnam time), unit (the code, or all
    units)."""
    for k in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
        revoked = f"{local_time(k.revoked_at):%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        created = f"{local_time(k.created_at):%Y-%m-%d}"
        unit = k.unit.code if k.unit else "all units"
        click.echo(f"{k.name}\t{k.scope}\t{k.prefix}…\t{created}\t{revoked}\t{unit}")


@apikeys_cli.command("revoke")
@click.argument("name")
def apikeys_revoke(name: str):
    """Revoke a key by its name; requests with it are refused from now on."""
    record = db.session.scalar(select(ApiKey).where(ApiKey.name == name))
    if record is None:
        raise click.ClickException(f"no key named {name!r}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()
    click.echo(f"Revoked {name}.")

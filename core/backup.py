"""`backup`: a consistent copy of the SQLite database while the app goes on serving, for cron.

Copying hailong.db with cp while a worker writes can copy half a transaction, and misses every
answer still in hailong.db-wal, which SQLite moves into the file only now and then. SQLite's
online backup copies the database as one read transaction sees it, WAL included. A PostgreSQL
database is backed up with PostgreSQL's own tools (docs/deploy.md, "Backups").
"""

import os
import re
import sqlite3
from pathlib import Path

import click
from flask.cli import with_appcontext

from core.extensions import db
from core.models import local_time, utcnow

# A backup written into a folder: hailong-20261204-213000.db, Vietnam time, so that the names
# sort by age and --keep knows which files are backups.
BACKUP_NAME = re.compile(r"hailong-\d{8}-\d{6}\.db")
# What the command says the copy holds, to be checked against the app's own pages.
COUNTED = {
    "responses": "SELECT count(*) FROM response",
    "PAKN cases": "SELECT count(*) FROM pakn_case",
    "units": "SELECT count(*) FROM unit",
    "accounts": 'SELECT count(*) FROM "user"',
}


class BackupError(Exception):
    """Why no backup was written; nothing was changed."""


def backup_name(at) -> str:
    return f"hailong-{local_time(at):%Y%m%d-%H%M%S}.db"


def sqlite_file() -> Path:
    """The database file the app uses; BackupError on any other database."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"the database is {url.get_backend_name()}, not SQLite: back it up with its own "
            "tools (pg_dump; docs/deploy.md, Backups)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: there is no file to back up")
    path = Path(url.database)
    if not path.is_file():  # a wrong DATABASE_URL or instance folder, say in a cron line
        raise BackupError(
            f"there is no database at {path}: check DATABASE_URL and the instance folder, or "
            "make it with 'flask --app wsgi db upgrade'"
        )
    return path


def back_up(source: Path, target: Path) -> dict[str, int]:
    """Write a copy of the database at source to target (a new file, readable by its owner
    only), checked whole before it takes its name; return the rows of a few tables in it."""
    if target.exists():
        raise BackupError(f"{target} exists: give a new name, or a folder")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    part = target.with_name(f".{target.name}.part")
    part.unlink(missing_ok=True)  # left by a backup that was killed
    # Made by its owner for its owner: it holds citizens' contact details and staff accounts.
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        counts = _copy(source, part)
        with open(part, "rb") as written:
            os.fsync(written.fileno())
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the new name, too, survives a power cut
    finally:
        os.close(folder)
    return counts


def _copy(source: Path, part: Path) -> dict[str, int]:
    original = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    copy = sqlite3.connect(part)
    try:
        original.backup(copy)  # every page in one step: one moment of the database
        problem = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {problem}")
        copy.execute("PRAGMA journal_mode=DELETE")  # one file, with nothing beside it
        migrated = "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
        if not copy.execute(migrated).fetchall():
            raise BackupError(
                "the database has no tables yet: run 'flask --app wsgi db upgrade' first"
            )
        return {what: copy.execute(query).fetchone()[0] for what, query in COUNTED.items()}
    except sqlite3.Error as e:
        raise BackupError(f"SQLite could not copy the database: {e}") from None
    finally:
        copy.close()
        original.close()


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest keep backups named as this command names them in folder;
    other files are left alone. Return those deleted."""
    backups = sorted(p for p in folder.iterdir() if BACKUP_NAME.fullmatch(p.name))
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="A new file to write, or a folder to write hailong-YYYYMMDD-HHMMSS.db in.",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="With a folder: then delete all but the newest N backups in it.",
)
@with_appcontext
def backup(out: Path, keep: int | None):
    """Copy the SQLite database, consistently, while the app serves."""
    if keep is not None and not out.is_dir():
        raise click.UsageError("--keep needs --out to be a folder")
    target = out / backup_name(utcnow()) if out.is_dir() else out
    try:
        counts = back_up(sqlite_file(), target)
    except (BackupError, OSError) as e:
        raise click.ClickException(str(e)) from None
    size = target.stat().st_size
    rows = ", ".join(f"{what} {n:,}" for what, n in counts.items())
    click.echo(f"Backed up to {target}: {size:,} bytes, integrity ok ({rows}).")
    if keep is not None:
        for path in prune(out, keep):
            click.echo(f"Deleted the older backup {path}.")

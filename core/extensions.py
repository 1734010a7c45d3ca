"""Extension objects, unbound; create_app binds them (Flask-Migrate when first used)."""

from functools import cache
from pathlib import Path

from flask import Flask, current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
babel = Babel()
csrf = CSRFProtect()
login = LoginManager()

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Indexes that a migration makes only where the database can or needs: 0029's trigram index,
# on PostgreSQL with pg_trgm, and 0030's index of the folded comments, on SQLite. The models
# leave them out, so comparing a database with the models (autogenerate, the tests) must leave
# them out too.
OPTIONAL_INDEXES = frozenset({"ix_response_comment_folded_trgm", "ix_response_comment_search"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: everything but the optional indexes."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


def bind_migrate(app: Flask) -> None:
    """Bind Flask-Migrate to `app` once, when migrations are first needed.

    Importing it imports Alembic, a third of a second that no request and no other command
    needs; `flask db ...` (core.cli.MigrateCommands) and upgrade_database() call this first.
    """
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(
            app,
            db,
            directory=str(MIGRATIONS),
            render_as_batch=True,
            include_object=include_object,
        )


def upgrade_database() -> None:
    """Apply the migrations up to the newest, as `flask db upgrade` does (app context needed)."""
    from flask_migrate import upgrade

    bind_migrate(current_app)
    upgrade()


@cache
def code_migrations() -> tuple[str, frozenset[str]]:
    """The code's latest migration and every one it knows, read once per process (half a
    second: Alembic and the migration files are not loaded to serve pages)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def database_migration() -> str | None:
    """The database's migration (None: no tables yet), on a connection of its own (app
    context needed); SQLAlchemy's error when it cannot be reached."""
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()

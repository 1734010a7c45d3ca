"""GET /health: whether this server can serve, for a load balancer or a monitor to ask.

It can when its database answers and holds the tables this code needs: its migration is the
code's latest, or one the code does not know (a newer code's, during a rolling upgrade, where
the migrations add and the old code goes on working; docs/deploy.md). A database behind the code
would fail the pages that read what it lacks, so the server says so and a load balancer leaves it
out until `flask --app wsgi db upgrade` has run.
"""

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import code_migrations, database_migration

bp = Blueprint("health", __name__)


def problem() -> str | None:
    """Say why this server cannot serve, or return None."""
    try:
        current = database_migration()
    except SQLAlchemyError:  # its text may name hosts and users: a monitor needs no more than this
        return "the database does not answer"
    latest, known = code_migrations()
    if current is None:
        return "the database has no tables yet"
    if current != latest and current in known:
        return f"the database is at migration {current} and this code needs {latest}"
    return None


@bp.get("/health")
def health():
    found = problem()
    body, status = ("ok\n", 200) if found is None else (f"{found}\n", 503)
    return Response(body, status, mimetype="text/plain", headers={"Cache-Control": "no-store"})

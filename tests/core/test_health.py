"""GET /health: what a load balancer asks each app server before sending it citizens."""

import re
from contextlib import contextmanager

from sqlalchemy import text

from core import create_app
from core.extensions import MIGRATIONS, db


def migrations() -> list[str]:
    """The code's migrations in order, read off the file names (0001_…, 0002_…), not by alembic."""
    names = [p.name for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return sorted(name[:4] for name in names)


@contextmanager
def database_at(migration: str):
    """The test database's alembic_version set to migration, and put back afterwards."""
    with db.engine.begin() as connection:
        was = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": migration})
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": was})


def on(url: str) -> dict:
    return {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url}


def test_a_server_on_a_migrated_database_is_healthy(client):
    answer = client.get("/health")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert answer.mimetype == "text/plain"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers  # a load balancer's pings make no sessions
    assert client.head("/health").status_code == 200


def test_a_database_behind_the_code_takes_the_server_out(client):
    earlier, latest = migrations()[-2:]  # not latest - 1: a number may be left out
    with database_at(earlier):
        answer = client.get("/health")
        assert answer.status_code == 503
        said = f"the database is at migration {earlier} and this code needs {latest}\n"
        assert answer.text == said
    assert client.get("/health").status_code == 200  # upgraded: back in


def test_a_database_ahead_of_the_code_keeps_an_old_server_in(client):
    """During a rolling upgrade the new code's migrations run while old servers still serve."""
    with database_at("9999"):
        answer = client.get("/health")
    assert (answer.status_code, answer.text) == (200, "ok\n")


def test_a_database_with_no_tables_or_none_at_all_is_said_plainly(app, tmp_path):
    empty = create_app(on(f"sqlite:///{tmp_path / 'empty.db'}"))
    answer = empty.test_client().get("/health")
    assert (answer.status_code, answer.text) == (503, "the database has no tables yet\n")

    missing = tmp_path / "no such folder" / "hailong.db"
    gone = create_app(on(f"sqlite:///{missing}"))
    answer = gone.test_client().get("/health")
    assert (answer.status_code, answer.text) == (503, "the database does not answer\n")
    assert not re.search(r"sqlite|no such folder|unable", answer.text, re.IGNORECASE)
    assert not missing.parent.exists()

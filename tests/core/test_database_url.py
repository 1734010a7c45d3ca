"""Where the SQLite database lives, as README's configuration table says."""

from pathlib import Path

import pytest

from core import create_app
from core.extensions import db


def database_file(monkeypatch, tmp_path, url: str | None) -> Path:
    monkeypatch.setenv("HAILONG_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    app = create_app()
    with app.app_context():
        return Path(db.engine.url.database)


def test_the_default_database_is_hailong_db_in_the_instance_folder(monkeypatch, tmp_path):
    assert database_file(monkeypatch, tmp_path, None) == tmp_path / "hailong.db"


def test_a_relative_sqlite_path_is_read_from_the_instance_folder(monkeypatch, tmp_path):
    """Not from the current folder: `sqlite:///hailong.db` is the default file, wherever cron
    runs the command from, and `sqlite:///instance/hailong.db` would be instance/instance/."""
    assert database_file(monkeypatch, tmp_path, "sqlite:///hailong.db") == tmp_path / "hailong.db"
    other = database_file(monkeypatch, tmp_path, "sqlite:///instance/hailong.db")
    assert other == tmp_path / "instance" / "hailong.db"
    absolute = tmp_path / "elsewhere.db"
    assert database_file(monkeypatch, tmp_path, f"sqlite:///{absolute}") == absolute


def test_the_instance_folder_is_an_absolute_path(monkeypatch, tmp_path):
    """A relative one would name another folder for each place cron runs a command from."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HAILONG_INSTANCE", "instance")
    with pytest.raises(ValueError, match="must be absolute"):
        create_app()
    monkeypatch.delenv("HAILONG_INSTANCE")
    monkeypatch.setenv("SECRET_KEY", "x")
    assert Path(create_app().instance_path) == Path(__file__).parents[2] / "instance"


@pytest.mark.parametrize(
    "given, used",
    [
        ("postgresql://hailong@db/hailong", "postgresql+psycopg://hailong@db/hailong"),
        (
            "postgres://hailong:pw@db:5433/hailong",
            "postgresql+psycopg://hailong:pw@db:5433/hailong",
        ),
        ("postgresql+psycopg://hailong@db/hailong", "postgresql+psycopg://hailong@db/hailong"),
    ],
)
def test_a_postgresql_address_without_a_driver_means_psycopg_3(monkeypatch, tmp_path, given, used):
    """The driver the [postgres] extra installs; SQLAlchemy alone would look for psycopg2 (not
    installed) for postgresql://, and not know postgres:// (as many hosts write it) at all."""
    monkeypatch.setenv("HAILONG_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", given)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
    with app.app_context():
        assert db.engine.url.drivername == used.split(":")[0]


def test_a_database_that_does_not_answer_is_said_in_one_line(monkeypatch, tmp_path):
    """A wrong host, port or password in DATABASE_URL: where, its password hidden, and the
    driver's reason; not a page of traceback, and never the password."""
    monkeypatch.setenv("HAILONG_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://hailong:s3cret-pw@127.0.0.1:1/hailong")
    app = create_app()
    result = app.test_cli_runner().invoke(args=["points", "list"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    first = result.output.strip().splitlines()[0]
    assert first.startswith(
        "Error: cannot reach the database at postgresql+psycopg://hailong:***@127.0.0.1:1/hailong: "
    )
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output

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

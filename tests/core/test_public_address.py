"""PUBLIC_BASE_URL, the address that QR codes, posters, printed URLs and e-mails carry: the
same in every command as in the server, and PORT's when it is not set."""

import pytest

from core import create_app
from core.extensions import db
from survey.services import add_point

BASE = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}


@pytest.fixture
def no_address(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return monkeypatch


def same_database_without_address(app) -> dict:
    return {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}


def run(made, *args: str):
    """Run a command of the app made, in its context rather than the test app's."""
    with made.app_context():
        return made.test_cli_runner().invoke(args=list(args))


def test_without_an_address_the_commands_print_the_port_make_run_serves_on(
    app, tree, no_address, tmp_path
):
    # `PORT=8080 make run` serves on 8080: a command run beside it, with PORT exported and no
    # PUBLIC_BASE_URL, printed and encoded http://127.0.0.1:5000 addresses that lead nowhere.
    no_address.setenv("PORT", "8080")
    made = create_app(same_database_without_address(app))
    added = run(made, "points", "add", "26734", "--label", "Quầy 1")
    assert added.exit_code == 0, added.output
    token, url = added.output.strip().split("\t")
    assert url == f"http://127.0.0.1:8080/s/{token}"
    assert f"http://127.0.0.1:8080/s/{token}\t" in run(made, "points", "list").output
    poster = tmp_path / "poster.svg"
    result = run(made, "qr", "poster", token, "--out", str(poster))
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:8080/s/{token}" in poster.read_text()
    issued = run(made, "receipts", "issue", "26734", "--count", "1")
    assert issued.output.startswith("http://127.0.0.1:8080/r/"), issued.output


def test_the_address_wins_over_the_port_and_loses_its_final_slash(app, tree, no_address):
    no_address.setenv("PORT", "8080")
    no_address.setenv("PUBLIC_BASE_URL", " https://hailong.example.gov.vn/ ")
    made = create_app(same_database_without_address(app))
    assert made.config["PUBLIC_BASE_URL"] == "https://hailong.example.gov.vn"
    point = add_point(tree["26734"], "Quầy 1", actor=None)
    db.session.commit()
    listed = run(made, "points", "list").output
    assert f"\thttps://hailong.example.gov.vn/s/{point.token}\t" in listed


def test_without_port_either_it_is_the_default_one(no_address):
    assert create_app(BASE).config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize("port", ["http", "0", "70000", "80 80", "８０８０"])
def test_a_bad_port_stops_the_app_with_a_message(no_address, port):
    no_address.setenv("PORT", port)
    with pytest.raises(ValueError, match="PORT must be a port number from 1 to 65535"):
        create_app(BASE)


@pytest.mark.parametrize(
    "address",
    ["hailong.example.gov.vn", "ftp://x.vn", "https://", "https://x.vn/?a=1", "https://x.vn/#a",
     "https://x .vn", "/s/"],
)  # fmt: skip
def test_an_address_no_qr_code_could_carry_stops_the_app_with_a_message(no_address, address):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL must be the site's address"):
        create_app(BASE | {"PUBLIC_BASE_URL": address})

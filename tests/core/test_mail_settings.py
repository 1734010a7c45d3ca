"""MAIL_* settings: off without a server; a bad one stops the app at start, saying which."""

import pytest

from core import create_app

BASE = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}
GOOD = {"MAIL_SERVER": "smtp.example.gov.vn", "MAIL_FROM": "Hài Lòng <pakn@example.gov.vn>"}


def app_with(**settings):
    return create_app(BASE | settings)


def test_mail_is_off_without_a_server_whatever_else_is_set():
    app = app_with(MAIL_SECURITY="bogus", MAIL_PORT="x")
    assert app.config["MAIL_SERVER"] == ""


@pytest.mark.parametrize(
    ("security", "port"), [("starttls", 587), ("ssl", 465), ("none", 25), ("SSL", 465)]
)
def test_the_port_follows_the_security_unless_set(security, port):
    app = app_with(**GOOD, MAIL_SECURITY=security)
    assert app.config["MAIL_PORT"] == port and app.config["MAIL_SECURITY"] == security.lower()
    assert app_with(**GOOD, MAIL_SECURITY=security, MAIL_PORT="2525").config["MAIL_PORT"] == 2525


def test_settings_come_from_the_environment(monkeypatch):
    for name, value in {"MAIL_SERVER": "mail.tinh.gov.vn", "MAIL_PORT": "465",
                        "MAIL_SECURITY": "ssl", "MAIL_USERNAME": "pakn", "MAIL_PASSWORD": "s3cret",
                        "MAIL_FROM": "pakn@tinh.gov.vn"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    config = create_app(BASE).config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_SECURITY"]) == (
        "mail.tinh.gov.vn", 465, "ssl")  # fmt: skip
    assert (config["MAIL_USERNAME"], config["MAIL_FROM"]) == ("pakn", "pakn@tinh.gov.vn")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAIL_SECURITY": "tls"}, "MAIL_SECURITY must be none, starttls or ssl"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT must be a port number"),
        ({"MAIL_PORT": 0}, "MAIL_PORT must be a port number"),
        ({"MAIL_PORT": "70000"}, "MAIL_PORT must be a port number"),
        ({"MAIL_FROM": ""}, "MAIL_FROM must be the sender's address"),
        ({"MAIL_FROM": "PAKN"}, "MAIL_FROM must be the sender's address"),
        ({"MAIL_FROM": "pakn@x.vn\r\nBcc: a@b.vn"}, "MAIL_FROM must be the sender's address"),
        ({"MAIL_SERVER": "smtp.x.vn\r\nRCPT TO:<a@b.vn>"}, "MAIL_SERVER must be a host name"),
        ({"MAIL_USERNAME": "pakn"}, "MAIL_USERNAME and MAIL_PASSWORD go together"),
        ({"MAIL_PASSWORD": "s3cret"}, "MAIL_USERNAME and MAIL_PASSWORD go together"),
        ({"MAIL_USERNAME": "pakn", "MAIL_PASSWORD": "s3cret", "MAIL_SECURITY": "none"},
         "password would cross the network in clear"),
    ],
)  # fmt: skip
def test_a_bad_setting_stops_the_app_with_a_message(settings, message):
    with pytest.raises(ValueError, match=message):
        app_with(**(GOOD | settings))

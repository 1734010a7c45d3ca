"""Sign-in limits: a stranger's failures refuse the stranger, not the user; whose address counts."""

from datetime import datetime, timedelta

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from core import auth, create_app, throttle
from core.extensions import db
from core.models import User
from tests.conftest import PASSWORD, Clock, RequestClient, login

REFUSED = "Sai thư điện tử hoặc mật khẩu"


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(auth, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def checks(monkeypatch):
    """Record every password check: which account's hash, or the unusable one."""
    seen = []
    real_user_check, real_check = User.check_password, auth.check_password_hash

    def user_check(user, password):
        seen.append(user.email)
        return real_user_check(user, password)

    def check(hash_, password):
        seen.append("unusable" if hash_ == auth._unusable_hash() else hash_)
        return real_check(hash_, password)

    monkeypatch.setattr(User, "check_password", user_check)
    monkeypatch.setattr(auth, "check_password_hash", check)
    return seen


def same_database(app) -> dict:
    """The settings another app needs to run on the test app's database."""
    return {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY")}


@pytest.fixture
def behind_proxies(app):
    """Make an app on the test's database with PROXY_COUNT set, as create_app reads it."""
    made = []

    def make(count):
        other = create_app({**same_database(app), "PROXY_COUNT": count})
        other.test_client_class = RequestClient
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def client_at(app, address, forwarded=None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


def signed_in(client, email, password=PASSWORD) -> bool:
    response = login(client, email, password)
    if response.status_code == 302:
        return True
    assert response.status_code == 200 and REFUSED in response.get_data(as_text=True)
    return False


def test_a_strangers_failures_refuse_the_stranger_not_the_user(app, client, make_user, clock):
    make_user("h@example.vn", "admin")
    stranger = client_at(app, "203.0.113.9")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    for _ in range(limit * 2):
        assert not signed_in(stranger, "h@example.vn", "wrong password")
    assert not signed_in(stranger, "h@example.vn")  # that pair is refused, the password right
    user = client_at(app, "198.51.100.7")
    assert signed_in(user, "H@example.vn")
    assert user.get("/staff/").status_code == 200


def test_failures_from_one_address_refuse_that_pair_until_its_window_ends(
    app, client, make_user, clock, checks
):
    make_user("h@example.vn", "admin")
    limit, seconds = app.config["LOGIN_PAIR_LIMIT"]
    desk = client_at(app, "198.51.100.7")
    for _ in range(limit):
        assert not signed_in(desk, "h@example.vn", "wrong password")
    checks.clear()
    assert not signed_in(desk, "h@example.vn")
    assert checks == ["unusable"]  # refused without reading the password, in the same time
    clock.advance(seconds=seconds)
    assert signed_in(desk, "h@example.vn")
    assert checks[1:] == ["h@example.vn"]


def test_signing_in_forgives_the_users_own_typing_errors(app, client, make_user, clock):
    make_user("h@example.vn", "admin")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    for _ in range(limit - 1):
        assert not signed_in(client_at(app, "198.51.100.7"), "h@example.vn", "wrong password")
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")
    assert not signed_in(client_at(app, "198.51.100.7"), "h@example.vn", "wrong password")
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")


def test_one_password_tried_on_many_accounts_is_refused_after_the_cap(
    app, client, make_user, clock, checks
):
    make_user("h@example.vn", "admin")
    app.config["LOGIN_CLIENT_LIMIT"] = (8, 3600)
    limit, seconds = app.config["LOGIN_CLIENT_LIMIT"]
    sprayer = client_at(app, "203.0.113.9")
    for i in range(limit):
        assert not signed_in(sprayer, f"staff{i}@example.vn", "Password123")
    checks.clear()
    assert not signed_in(sprayer, "h@example.vn")  # even the right password of an account
    assert checks == ["unusable"]
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")
    clock.advance(seconds=seconds)
    assert signed_in(sprayer, "h@example.vn")


def test_guessing_from_many_addresses_is_capped_per_account_over_a_longer_window(
    app, client, make_user, clock
):
    make_user("h@example.vn", "admin")
    pair, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    app.config["LOGIN_ACCOUNT_LIMIT"] = (pair + 3, 24 * 3600)
    for i in range(pair + 2):  # each address below the pair's limit
        assert not signed_in(client_at(app, f"203.0.113.{i % 3}"), "h@example.vn", "guess")
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")
    assert not signed_in(client_at(app, "203.0.113.50"), "h@example.vn", "guess")
    assert not signed_in(client_at(app, "198.51.100.7"), "h@example.vn")
    clock.advance(hours=2)  # past the pair's and the address's windows, not the account's
    assert not signed_in(client_at(app, "198.51.100.7"), "h@example.vn")
    clock.advance(days=1)
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")


def test_the_default_caps_leave_one_address_unable_to_refuse_an_account(app):
    pair, pair_seconds = app.config["LOGIN_PAIR_LIMIT"]
    client, client_seconds = app.config["LOGIN_CLIENT_LIMIT"]
    account, account_seconds = app.config["LOGIN_ACCOUNT_LIMIT"]
    assert account_seconds % client_seconds == 0 and account_seconds >= pair_seconds
    assert client * account_seconds // client_seconds < account


def test_a_limit_counts_the_last_window_length_of_attempts(app):
    # Windows of 60 s: 01:00:00-01:01:00, then 01:01:00-01:02:00...
    start = datetime(2026, 3, 2, 1, 0, 10)
    for _ in range(3):
        assert throttle.hit("test", "a", 3, 60, start)
    assert throttle.over_limit("test", "a", 3, 60, start + timedelta(seconds=49))
    assert not throttle.hit("test", "a", 3, 60, start)
    assert not throttle.over_limit("test", "b", 3, 60, start)  # another counted apart
    assert not throttle.over_limit("other", "a", 3, 60, start)  # another purpose too
    # At 01:01:00 the four attempts of the first window still weigh whole: no fresh start.
    assert throttle.over_limit("test", "a", 3, 60, start + timedelta(seconds=50))
    # At 01:01:45 a quarter of that window is still in the last minute: 4 × 0.25 = 1.
    later = start + timedelta(seconds=95)
    assert not throttle.over_limit("test", "a", 3, 60, later)
    assert throttle.hit("test", "a", 3, 60, later)  # 1 + 1 = 2
    assert throttle.hit("test", "a", 3, 60, later)  # 1 + 2 = 3: at the limit, allowed
    assert not throttle.hit("test", "a", 3, 60, later)  # 1 + 3 = 4
    # At 01:02:30 the first window is out of view; half of the second's 3 remain: 1.5.
    assert not throttle.over_limit("test", "a", 3, 60, start + timedelta(seconds=140))
    throttle.forget("test", "a", 60, later)
    assert not throttle.over_limit("test", "a", 1, 60, later)


def test_a_burst_across_a_window_boundary_is_counted_whole(app, client, make_user, clock):
    make_user("h@example.vn", "admin")
    limit, seconds = app.config["LOGIN_PAIR_LIMIT"]
    clock.now = datetime(2026, 3, 2, 1, 14, 59)  # the last second of a quarter-hour window
    stranger = client_at(app, "203.0.113.9")
    for _ in range(limit):
        assert not signed_in(stranger, "h@example.vn", "wrong password")
    clock.advance(seconds=1)  # a new window: fixed windows would allow as many again
    assert not signed_in(stranger, "h@example.vn")
    clock.advance(seconds=seconds)  # a whole window later the stranger may try again
    assert signed_in(stranger, "h@example.vn")


BALANCER = "10.0.0.2"


def test_behind_one_proxy_the_address_it_forwards_is_counted(client, make_user, clock,
                                                             behind_proxies):  # fmt: skip
    app = behind_proxies(1)
    make_user("h@example.vn", "admin")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    for _ in range(limit):
        stranger = client_at(app, BALANCER, "203.0.113.9")
        assert not signed_in(stranger, "h@example.vn", "wrong password")
    assert not signed_in(client_at(app, BALANCER, "203.0.113.9"), "h@example.vn")
    # The stranger's own X-Forwarded-For comes first; the balancer adds the address it saw.
    forged = client_at(app, BALANCER, "198.51.100.7, 203.0.113.9")
    assert not signed_in(forged, "h@example.vn")
    assert signed_in(client_at(app, BALANCER, "198.51.100.7"), "h@example.vn")


def test_without_proxies_a_forwarded_address_is_ignored(app, client, make_user, clock):
    assert app.config["PROXY_COUNT"] == 0
    make_user("h@example.vn", "admin")
    app.config["LOGIN_CLIENT_LIMIT"] = (3, 3600)
    for i in range(3):
        sprayer = client_at(app, "203.0.113.9", f"198.51.100.{i}")
        assert not signed_in(sprayer, f"staff{i}@example.vn", "Password123")
    assert not signed_in(client_at(app, "203.0.113.9", "198.51.100.99"), "h@example.vn")
    assert signed_in(client_at(app, "198.51.100.7", "203.0.113.9"), "h@example.vn")


@pytest.mark.parametrize("count", [0, 1, 2])
def test_hostile_forwarded_addresses_are_answered(client, make_user, clock, behind_proxies,
                                                  count):  # fmt: skip
    app = behind_proxies(count)
    make_user("h@example.vn", "admin")
    hostile = [
        "1.2.3.4, " * 100_000 + "203.0.113.9",
        "203.0.113.9\x00' OR 1=1 --",
        "\x00",
        ",,,",
        " ",
        "x" * 1_000_000,
        "é\udcff".encode("utf-8", "surrogateescape").decode("latin-1"),
    ]
    for forwarded in hostile:
        assert not signed_in(client_at(app, BALANCER, forwarded), "h@example.vn", "wrong")
        assert client_at(app, BALANCER, forwarded).get("/track/ABCDEFGHJK").status_code == 404
    user = client_at(app, "10.0.0.3", "198.51.100.7\x00, 198.51.100.8\x00")  # fresh ones
    assert signed_in(user, "h@example.vn")
    assert user.get("/staff/").status_code == 200


def test_proxy_count_comes_from_the_environment(app, monkeypatch):
    config = same_database(app)
    monkeypatch.setenv("PROXY_COUNT", "2")
    proxied = create_app(config)
    assert proxied.config["PROXY_COUNT"] == 2
    assert isinstance(proxied.wsgi_app, ProxyFix)
    assert (proxied.wsgi_app.x_for, proxied.wsgi_app.x_proto) == (2, 2)
    for wrong in ("-1", "one", "1.5", "²"):
        monkeypatch.setenv("PROXY_COUNT", wrong)
        with pytest.raises(ValueError, match="PROXY_COUNT must be a whole number"):
            create_app(config)
    monkeypatch.setenv("PROXY_COUNT", "0")
    assert not isinstance(create_app(config).wsgi_app, ProxyFix)


def test_secure_cookies_are_switched_on_by_any_usual_word_and_a_typo_is_refused(app, monkeypatch):
    config = same_database(app)
    for text, secure in (("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False),
                         ("false", False), ("off", False)):  # fmt: skip
        monkeypatch.setenv("SESSION_COOKIE_SECURE", text)
        assert create_app(config).config["SESSION_COOKIE_SECURE"] is secure, text
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "ture")
    with pytest.raises(ValueError, match="SESSION_COOKIE_SECURE must be 1 or 0"):
        create_app(config)


def test_cookies_are_secure_by_default_when_the_public_address_is_https(app, monkeypatch):
    config = same_database(app)
    addresses = (
        ("https://hailong.example.gov.vn", True),
        (" HTTPS://X.VN ", True),
        ("http://127.0.0.1:5000", False),
        ("http://https.example", False),
    )
    for base_url, secure in addresses:
        monkeypatch.setenv("PUBLIC_BASE_URL", base_url)
        made = create_app(config)
        assert made.config["SESSION_COOKIE_SECURE"] is secure, base_url
        answer = made.test_client().get("/", base_url="https://x.vn")
        assert ("Strict-Transport-Security" in answer.headers) is secure, base_url
    # Said outright, either way, it wins over the address.
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hailong.example.gov.vn")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert create_app(config).config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert create_app(config).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    in_config = {**config, "SESSION_COOKIE_SECURE": False, "PUBLIC_BASE_URL": "https://x.vn"}
    assert create_app(in_config).config["SESSION_COOKIE_SECURE"] is False


def test_ipv6_clients_are_counted_by_their_64_network(app, client, make_user, clock):
    make_user("h@example.vn", "admin")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    # A stranger who changes address within their /64 at every attempt is still one client.
    for i in range(limit):
        stranger = client_at(app, f"2001:db8:7:9::{i + 1:x}")
        assert not signed_in(stranger, "h@example.vn", "wrong password")
    assert not signed_in(client_at(app, "2001:db8:7:9:ffff::1"), "h@example.vn")
    # The next /64 over, and an IPv4 client, are others.
    assert signed_in(client_at(app, "2001:db8:7:a::1"), "h@example.vn")
    assert signed_in(client_at(app, "198.51.100.7"), "h@example.vn")


@pytest.mark.parametrize(
    "address, counted_as",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:7:9:1:2:3:4", "2001:db8:7:9::/64"),
        ("2001:DB8:7:9::1", "2001:db8:7:9::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client seen through an IPv6 socket
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", "not an address"),
    ],
)
def test_who_a_request_is_counted_as(app, address, counted_as):
    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert throttle.client_address() == counted_as


def test_an_ipv4_client_seen_through_ipv6_shares_its_count(app, client, make_user, clock):
    make_user("h@example.vn", "admin")
    limit, _seconds = app.config["LOGIN_PAIR_LIMIT"]
    for i in range(limit):
        address = "203.0.113.9" if i % 2 else "::ffff:203.0.113.9"
        assert not signed_in(client_at(app, address), "h@example.vn", "wrong password")
    assert not signed_in(client_at(app, "203.0.113.9"), "h@example.vn")

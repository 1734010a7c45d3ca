"""Default settings; instance/config.py and the environment override them."""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "vi"
    # The zone times are shown in. Which Vietnam day a stored (UTC) time falls on, and a day's
    # UTC bounds, are core.models' LOCAL_OFFSET (UTC+7, in Python and in SQL alike), which this
    # zone always is: Vietnam keeps no daylight saving.
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # The absolute address that QR codes, posters and links in e-mails point at. None: the
    # address of a server started on this machine, http://127.0.0.1:$PORT (5000 without PORT),
    # as `make run` serves, so that a command run beside it prints the same addresses.
    PUBLIC_BASE_URL = None
    # A citizen may take a while over the form on a slow phone.
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    MAX_CONTENT_LENGTH = 64 * 1024
    # A file of responses imported from the back office: 200,000 rows of paper forms with
    # comments are about 16 MB (bench/import_speed.py); larger ones go by `responses import`.
    RESPONSES_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    # A units file uploaded from the back office: the whole country's 11,000 communes with
    # their districts and provinces are under 1 MB.
    UNITS_IMPORT_MAX_BYTES = 4 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: secure when PUBLIC_BASE_URL is an https address (load_config), as a deployment is;
    # instance/config.py or SESSION_COOKIE_SECURE in the environment may say otherwise.
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_HTTPONLY = True
    # Proxies in front of the app (load balancer...) whose X-Forwarded-For and -Proto are
    # believed, counted from the app; with 0 those headers are ignored, as a client can send them.
    PROXY_COUNT = 0
    # Failed sign-ins allowed, (count, seconds): per account and client address, which refuses
    # only that pair; per address over every account (trying one password on many); per account
    # from every address, above the 24 × 20 that one address may send in a day, so that no one
    # stranger can refuse a user their account.
    LOGIN_PAIR_LIMIT = (5, 15 * 60)
    LOGIN_CLIENT_LIMIT = (20, 3600)
    LOGIN_ACCOUNT_LIMIT = (500, 24 * 3600)
    # Survey integrity (README.md, "How far each answer can be trusted"): presence codes, receipts,
    # repeats and bursts.
    PRESENCE_WINDOW_SECONDS = 180
    PRESENCE_GRACE_SECONDS = 900
    RECEIPT_VALID_DAYS = 30
    DEVICE_COOKIE_DAYS = 30
    REPEAT_DEVICE_HOURS = 24
    BURST_WINDOW_MINUTES = 10
    BURST_HISTORY_DAYS = 28
    BURST_MIN = 10
    BURST_FACTOR = 5
    SAME_PATTERN_RUN = 3
    # The same answers from the same phone this soon are the same form sent again.
    RESEND_MINUTES = 10
    # E-mail (core/mail.py): to citizens about their PAKN, the staff digest, password-reset
    # links. No server: mail is off, and nothing is queued, so that switching it on later sends
    # no burst of old news.
    MAIL_SERVER = ""
    MAIL_PORT = None  # None: 25, 587 or 465 by MAIL_SECURITY
    MAIL_SECURITY = "starttls"
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_FROM = ""
    # Password reset by e-mail (core/password_reset.py): how long a link works, and how many
    # requests are allowed, (count, seconds), per client address and per address asked for.
    # Every address asked for is counted, an account's or not, so the refusal tells nothing.
    PASSWORD_RESET_MINUTES = 30
    PASSWORD_RESET_CLIENT_LIMIT = (10, 3600)
    PASSWORD_RESET_ADDRESS_LIMIT = (3, 3600)
    # How long the link of a new account's invitation works (core/invitations.py), in days: the
    # person may read their mail days after the account is made.
    INVITATION_DAYS = 7


ENV_SETTINGS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "PROXY_COUNT": "PROXY_COUNT",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_SECURITY": "MAIL_SECURITY",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_FROM": "MAIL_FROM",
}
MAIL_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


def load_config(app, test_config=None):
    """Apply defaults, then instance/config.py, then the environment, then test overrides."""
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
        Path(app.instance_path) / "hailong.db"
    )
    app.config.from_pyfile("config.py", silent=True)
    for env_name, key in ENV_SETTINGS.items():
        if os.environ.get(env_name):
            app.config[key] = os.environ[env_name]
    if os.environ.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = on_or_off(
            "SESSION_COOKIE_SECURE", os.environ["SESSION_COOKIE_SECURE"]
        )
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = with_driver(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["PUBLIC_BASE_URL"] = public_base_url(app.config["PUBLIC_BASE_URL"])
    if app.config["SESSION_COOKIE_SECURE"] is None:
        base_url = str(app.config["PUBLIC_BASE_URL"]).strip().lower()
        app.config["SESSION_COOKIE_SECURE"] = base_url.startswith("https://")
    app.config["PROXY_COUNT"] = proxy_count(app.config["PROXY_COUNT"])
    check_mail(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def public_base_url(setting: str | None) -> str:
    """Return the public address without its final "/", or that of a server started here on
    PORT; refuse one that a QR code or a link could not carry (no scheme, a query...)."""
    if not setting:
        port = os.environ.get("PORT", "").strip() or "5000"
        if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"PORT must be a port number from 1 to 65535, not {port!r}")
        return f"http://127.0.0.1:{int(port)}"
    url = str(setting).strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(ch.isspace() for ch in url)
    ):
        raise ValueError(
            "PUBLIC_BASE_URL must be the site's address from http:// or https://, such as "
            f"https://hailong.example.gov.vn, not {setting!r}"
        )
    return url


def with_driver(url: str) -> str:
    """A PostgreSQL address that names no driver (postgresql://, or postgres:// as many hosts
    write it) means psycopg 3, the one the [postgres] extra installs: SQLAlchemy would look for
    psycopg2, or not know postgres:// at all."""
    for scheme in ("postgres://", "postgresql://"):
        if str(url).startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def on_or_off(name: str, text: str) -> bool:
    """Read a switch from the environment; refuse a value that is neither, rather than guess."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not {text!r}")


def proxy_count(value) -> int:
    """Read PROXY_COUNT, from the environment a string; refuse anything but a whole number >= 0."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"PROXY_COUNT must be a whole number, 0 or more, not {value!r}")
    return int(text)


def check_mail(config) -> None:
    """Check the MAIL_* settings when a server is set, and fill in the port; refuse bad ones."""
    server = str(config.get("MAIL_SERVER") or "").strip()
    config["MAIL_SERVER"] = server
    if not server:
        return
    if not _plain(server) or " " in server:
        raise ValueError(f"MAIL_SERVER must be a host name or address, not {server!r}")
    security = str(config.get("MAIL_SECURITY") or "").strip().lower()
    if security not in MAIL_PORTS:
        raise ValueError(f"MAIL_SECURITY must be none, starttls or ssl, not {security!r}")
    config["MAIL_SECURITY"] = security
    port = config.get("MAIL_PORT")
    text = str(MAIL_PORTS[security] if port in (None, "") else port).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"MAIL_PORT must be a port number from 1 to 65535, not {port!r}")
    config["MAIL_PORT"] = int(text)
    user, password = config.get("MAIL_USERNAME") or "", config.get("MAIL_PASSWORD") or ""
    if bool(user) != bool(password):
        raise ValueError("MAIL_USERNAME and MAIL_PASSWORD go together: set both or neither")
    if user and security == "none":
        raise ValueError("MAIL_USERNAME needs MAIL_SECURITY starttls or ssl: the password "
                         "would cross the network in clear")  # fmt: skip
    sender = str(config.get("MAIL_FROM") or "").strip()
    if not sender or not _plain(sender) or not _address(sender):
        raise ValueError(
            "MAIL_FROM must be the sender's address, e.g. 'Hài Lòng <pakn@example.gov.vn>', "
            f"not {sender!r}"
        )
    config["MAIL_FROM"] = sender


def _plain(text: str) -> bool:
    """No line breaks or other control characters: what a mail header can safely hold."""
    return text.isprintable()


def _address(sender: str) -> str | None:
    """Return the address of 'Name <address>' or 'address' if it is one, else None."""
    from email.utils import parseaddr

    from email_validator import EmailNotValidError, validate_email

    _name, address = parseaddr(sender)
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def instance_secret_key(instance: Path) -> str:
    """Read instance/secret_key, creating it once; workers racing to create it agree on one."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = instance / f".secret_key.{os.getpid()}"
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: the first worker wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()

"""Default settings; instance/config.py and the environment override them."""

import os
import secrets
from pathlib import Path


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # The absolute address that QR codes and posters point at.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # A citizen may take a while over the form on a slow phone.
    WTF_CSRF_TIME_LIMIT = 4 * 3600
    MAX_CONTENT_LENGTH = 64 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
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
    # Survey integrity (DOMAIN.md): presence codes, receipts, repeats and bursts.
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


ENV_SETTINGS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "PUBLIC_BASE_URL": "PUBLIC_BASE_URL",
    "PROXY_COUNT": "PROXY_COUNT",
}


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
    app.config["PROXY_COUNT"] = proxy_count(app.config["PROXY_COUNT"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


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

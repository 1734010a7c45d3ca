"""End-to-end fixtures: Debian's Chromium through Playwright, and the app served by gunicorn."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 20  # seconds
SERVER_STOP_TIMEOUT = 10


@pytest.hookimpl(tryfirst=True)  # before `-m "not e2e"` deselects
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless; skipped where there is none, required in CI."""
    if not os.path.exists(CHROMIUM):
        message = (
            f"end-to-end tests need Debian's Chromium at {CHROMIUM}: "
            "install it with `apt-get install chromium`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true makes these tests required)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield browser
        finally:
            browser.close()


def _gunicorn_command() -> list[str]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if gunicorn.exists():
        return [str(gunicorn)]
    return [sys.executable, "-m", "gunicorn"]


def _wait_until_answering(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}:\n{log.read_text()}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/s/not-a-token")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    pytest.fail(f"gunicorn did not answer within {SERVER_START_TIMEOUT}s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server_dir(tmp_path_factory) -> Path:
    """The live server's instance folder and log (gunicorn.log)."""
    return tmp_path_factory.mktemp("live_server")


@pytest.fixture(scope="session")
def live_server(database_url, live_server_dir):
    """Serve the app with gunicorn (2 workers) on the session's test database; yield its URL.

    Data a test creates through the `app` fixture (committed) is seen by the server through the
    shared database.
    """
    with serving(database_url, live_server_dir) as base_url:
        yield base_url


@contextmanager
def serving(database_url: str, folder: Path, **settings: str):
    """Serve the app with gunicorn (2 workers) on this database, with its instance folder and
    log (gunicorn.log) in folder and these settings in its environment; yield its URL.

    The listening socket is bound here and handed to gunicorn, so no other process can take the
    port in between.
    """
    log = folder / "gunicorn.log"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret",
        "PUBLIC_BASE_URL": base_url,
        "HAILONG_INSTANCE": str(folder / "instance"),
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    cmd = [
        *_gunicorn_command(),
        "--workers", "2",
        "--bind", f"fd://{sock.fileno()}",
        "--chdir", str(ROOT),
        "--graceful-timeout", "3",
        "--log-level", "warning",
        "wsgi:app",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, pass_fds=[sock.fileno()]
        )
    sock.close()  # gunicorn holds its own copy
    try:
        _wait_until_answering(proc, port, log)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=SERVER_STOP_TIMEOUT)


@pytest.fixture
def new_context(browser, live_server):
    """Pages of fresh contexts, English unless told, with or without JavaScript, closed after
    the test."""
    contexts = []

    def make(javascript: bool, locale: str = "en-GB"):
        context = browser.new_context(base_url=live_server, locale=locale,
                                      java_script_enabled=javascript)  # fmt: skip
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()

"""The access log keeps no tracking or receipt code: the shipped logger, and gunicorn using it."""

import http.client
import os
import socket
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from core.access_log import RedactingLogger
from tests.e2e.conftest import ROOT, SERVER_STOP_TIMEOUT, _gunicorn_command, _wait_until_answering

CODE = "ABCDE23456"  # a tracking code
RECEIPT = "RCPT98765"
TOKEN = "q3Vt_Lw8-" + "Zr5" * 11 + "k"  # a password-reset link's, 43 characters
KEY = "Kp7_x2Lm-" + "Qw4" * 11 + "z"  # a partner's API key, as secrets.token_urlsafe(32) makes


@pytest.fixture
def access_log(tmp_path):
    """Log one request with the shipped logger and a log format; return the line written."""
    path = tmp_path / "access.log"
    loggers = []

    def log(uri, referer="-", log_format=None):
        cfg = Config()
        cfg.set("accesslog", str(path))
        if log_format:
            cfg.set("access_log_format", log_format)
        logger = RedactingLogger(cfg)
        loggers.append(logger)
        environ = {
            "REQUEST_METHOD": "GET", "RAW_URI": uri, "SERVER_PROTOCOL": "HTTP/1.1",
            "PATH_INFO": uri.partition("?")[0], "QUERY_STRING": uri.partition("?")[2],
            "REMOTE_ADDR": "203.0.113.7", "HTTP_REFERER": referer, "HTTP_USER_AGENT": "Mozilla/5.0",
        }  # fmt: skip
        response = SimpleNamespace(status="200 OK", sent=1234, headers=[])
        request = SimpleNamespace(headers=[("REFERER", referer), ("USER-AGENT", "Mozilla/5.0")])
        logger.access(response, request, environ, timedelta(milliseconds=12))
        return path.read_text().splitlines()[-1]

    yield log
    for logger in loggers:
        for handler in logger.access_log.handlers:
            handler.close()
        logger.access_log.handlers.clear()


@pytest.mark.parametrize(("uri", "logged"), [
    (f"/track/{CODE}", "/track/AB..."),
    (f"/track/{CODE}/rating", "/track/AB.../rating"),
    ("/track?code=abcde-23456&lang=vi", "/track?code=ab...&lang=vi"),
    (f"/r/{RECEIPT}", "/r/RC..."),
    (f"/r/{RECEIPT}/thanks", "/r/RC.../thanks"),
    (f"/r?code={RECEIPT}", "/r?code=RC..."),
    (f"/pakn/new?unit=26734&receipt={RECEIPT}", "/pakn/new?unit=26734&receipt=RC..."),
    (f"/open311/v2/tokens/{CODE}.json", "/open311/v2/tokens/AB..."),
    (f"/lang/en?next=%2Ftrack%2F{CODE}%3Fsent%3D1", "/lang/en?next=%2Ftrack%2FAB...%3Fsent%3D1"),
])  # fmt: skip
def test_a_code_in_the_url_is_cut_to_two_characters(access_log, uri, logged):
    line = access_log(uri)
    assert CODE[2:] not in line and RECEIPT[2:] not in line and "cde-23456" not in line
    assert line.startswith("203.0.113.7 - - [")
    assert line.endswith(f'] "GET {logged} HTTP/1.1" 200 1234 "-" "Mozilla/5.0"')


def test_the_referer_and_every_other_atom_are_cut_too(access_log):
    referer = f"https://hailong.test/track/{CODE}"
    line = access_log("/static/style.css", referer)
    assert line.endswith('"GET /static/style.css HTTP/1.1" 200 1234 '
                         '"https://hailong.test/track/AB..." "Mozilla/5.0"')  # fmt: skip
    line = access_log(f"/track/{CODE}?sent=1", referer, "%(U)s %(q)s %({raw_uri}e)s %({referer}i)s")
    assert line == "/track/AB... sent=1 /track/AB...?sent=1 https://hailong.test/track/AB..."


@pytest.mark.parametrize(("uri", "logged"), [
    (f"/login/reset/{TOKEN}", "/login/reset/q3..."),
    (f"/lang/en?next=%2Flogin%2Freset%2F{TOKEN}", "/lang/en?next=%2Flogin%2Freset%2Fq3..."),
])  # fmt: skip
def test_a_password_reset_link_is_cut_to_two_characters(access_log, uri, logged):
    line = access_log(uri, f"https://hailong.test/login/reset/{TOKEN}")
    assert TOKEN[2:] not in line
    assert f'"GET {logged} HTTP/1.1" 200 1234 "https://hailong.test/login/reset/q3..."' in line


@pytest.mark.parametrize(("uri", "logged"), [
    (f"/open311/v2/requests.json?api_key={KEY}", "/open311/v2/requests.json?api_key=Kp..."),
    (f"/open311/v2/requests/7.xml?status=open&api_key={KEY}&x=1",
     "/open311/v2/requests/7.xml?status=open&api_key=Kp...&x=1"),
])  # fmt: skip
def test_an_api_key_in_the_query_is_cut_to_two_characters(access_log, uri, logged):
    """Open311's GET requests carry the partner's key in the query (docs/open311.md)."""
    line = access_log(uri, f"https://partner.test/?api_key={KEY}")
    assert KEY[2:] not in line
    assert f'"GET {logged} HTTP/1.1" 200 1234 "https://partner.test/?api_key=Kp..."' in line


@pytest.mark.parametrize(
    "uri", ["/s/Xk3vP9qLm2", "/staff/cases/12?tab=to_classify", "/track", "/login/reset"]
)
def test_other_urls_are_logged_as_they_are(access_log, uri):
    assert f'"GET {uri} HTTP/1.1"' in access_log(uri)


@pytest.mark.server
def test_gunicorn_with_the_shipped_settings_logs_no_code(app, database_url, tmp_path):
    """As `make run` starts it: gunicorn -c gunicorn.conf.py --access-logfile …"""
    log = tmp_path / "access.log"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "log-test",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "HAILONG_INSTANCE": str(tmp_path / "instance"),
           "HOME": str(tmp_path / "home")}  # fmt: skip
    env.pop("XDG_RUNTIME_DIR", None)  # where gunicorn would put its control socket, if any
    cmd = [*_gunicorn_command(), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", "1",
           "--bind", f"fd://{sock.fileno()}", "--access-logfile", str(log), "wsgi:app"]  # fmt: skip
    with (tmp_path / "gunicorn.log").open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                pass_fds=[sock.fileno()])  # fmt: skip
    sock.close()
    requests = [
        (f"/track/{CODE}", {}),
        ("/track?code=abcde-23456", {}),
        (f"/r/{RECEIPT}", {}),
        ("/static/style.css", {"Referer": f"http://127.0.0.1:{port}/track/{CODE}"}),
        ("/s/Xk3vP9qLm2", {}),
        (f"/login/reset/{TOKEN}", {}),
    ]
    try:
        _wait_until_answering(proc, port, tmp_path / "gunicorn.log")
        for path, headers in requests:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
            conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=SERVER_STOP_TIMEOUT)
    text = log.read_text()
    # No control socket: two servers on one machine would share its one path.
    assert not (tmp_path / "home" / ".gunicorn").exists()
    assert CODE[2:] not in text and "cde-23456" not in text and RECEIPT[2:] not in text
    assert TOKEN[2:] not in text and '"GET /login/reset/q3... HTTP/1.1" 404 ' in text
    assert '"GET /track/AB... HTTP/1.1" 404 ' in text
    assert '"GET /track?code=ab... HTTP/1.1" 404 ' in text
    assert '"GET /r/RC... HTTP/1.1" 404 ' in text
    assert '"GET /static/style.css HTTP/1.1" 200 ' in text
    assert f'"http://127.0.0.1:{port}/track/AB..."' in text
    assert '"GET /s/Xk3vP9qLm2 HTTP/1.1" 404 ' in text  # a poster's token: public


def test_the_apps_error_log_keeps_no_code(app, caplog):
    """Flask logs a request that failed with its URL: the code is cut there too."""
    for url in (f"/track/{CODE}", f"/track?code={CODE}", f"/r/{RECEIPT}?lang=en",
                f"/login/reset/{TOKEN}", f"/open311/v2/requests.json?api_key={KEY}"):  # fmt: skip
        caplog.clear()
        with app.test_request_context(url):
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                app.log_exception(sys.exc_info())
        (record,) = caplog.records
        logged = record.getMessage()
        assert logged.startswith("Exception on /") and logged.endswith("[GET]"), logged
        assert not any(secret in logged for secret in (CODE, RECEIPT, TOKEN, KEY)), logged
        assert any(f"{c[:2]}..." in logged for c in (CODE, RECEIPT, TOKEN, KEY)), logged
        assert record.exc_info[0] is RuntimeError  # the traceback is still there

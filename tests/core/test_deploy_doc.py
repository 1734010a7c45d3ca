"""docs/deploy.md's commands do what its text says they do."""

import re

from tests.e2e.conftest import ROOT


def test_the_app_servers_command_keeps_the_access_log_the_logs_section_describes():
    """gunicorn keeps no access log unless told where; the "Logs" section shows its lines."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    [command] = re.findall(r"\| app servers \| `(gunicorn [^`]+)`", text)
    assert "-c gunicorn.conf.py" in command and "--access-logfile" in command
    assert '"GET /track/AB... HTTP/1.1"' in text  # the line it writes

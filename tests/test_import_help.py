"""The import commands' --help names every column their files may hold (README, Import files)."""

import re

import pytest

from core.unit_rows import COLUMNS
from survey.response_rows import OPTIONAL, REQUIRED


def help_columns(runner, group: str) -> str:
    result = runner.invoke(args=[group, "import", "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the columns as named, whatever the wrapping


@pytest.mark.parametrize(
    ("group", "columns"),
    [
        ("units", [*COLUMNS, "population", "closed_on"]),
        ("responses", [c for c in [*REQUIRED, *OPTIONAL] if not re.fullmatch(r"[A-E]\d", c)]),
    ],
)
def test_the_help_names_every_column_the_import_reads(app, group, columns):
    text = help_columns(app.test_cli_runner(), group)
    missing = [c for c in columns if not re.search(rf"\b{c}\b", text)]
    assert missing == []

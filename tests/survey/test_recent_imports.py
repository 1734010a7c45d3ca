"""Who imported which file of paper forms: recorded by the import page and the command line,
listed under "Recent imports" to those who may see it."""

from datetime import datetime, timedelta

import pytest
from flask_babel import get_translations
from markupsafe import escape
from sqlalchemy import select

from core.extensions import db
from core.models import Role, Unit, User
from survey.history import RECENT_IMPORTS
from survey.models import ImportedFile
from tests.conftest import FAST_HASH, page_forms, shown_time, signed_in
from tests.survey.test_import_page import URL, csv_file, row, send

# Each account, its unit, and a file of its units' rows that it imports.
ACCOUNTS = {
    "admin": (Role.ADMIN, None, "79"),
    "district": (Role.MANAGER, "760", "760"),  # district 760
    "commune": (Role.MANAGER, "26734", "26734"),  # a commune of district 760
    "other": (Role.MANAGER, "769", "26800"),  # another district, 769
}


@pytest.fixture
def imported(app, tree, questionnaire):
    """A file imported by each account on the page, and one by the command line."""
    accounts = {
        name: User(email=f"{name}@x.vn", role=role, unit=unit and tree[unit])
        for name, (role, unit, _rows) in ACCOUNTS.items()
    }
    accounts["handler"] = User(email="handler@x.vn", role=Role.HANDLER, unit=tree["26734"])
    for user in accounts.values():
        user.password_hash = FAST_HASH
    db.session.add_all(accounts.values())
    db.session.commit()
    for name, (_role, _unit, unit) in ACCOUNTS.items():
        client = signed_in(app, f"{name}@x.vn")
        assert send(client, csv_file(row(unit=unit)), name=f"{name}.csv").status_code == 303
    return {name: user.id for name, user in accounts.items()}


def cli_import(runner, tmp_path, name="dong-lenh.csv"):
    path = tmp_path / name
    path.write_bytes(csv_file(row(unit="26737"), row(unit="26800")))
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output


def recent_rows(html: str) -> list[list[str]]:
    """The rows of the page's "Recent imports" table, each its cells' text."""
    table = html.rsplit("<h2>", 1)[1].split("</tbody>")[0].split("<tbody>")[-1]
    rows = [r for r in table.split("</tr>") if "<td>" in r]
    return [[c.split("</td>")[0] for c in r.split("<td>")[1:]] for r in rows]


def test_each_import_records_who_made_it(app, imported, runner, tmp_path):
    cli_import(runner, tmp_path)
    db.session.expire_all()
    files = db.session.execute(
        select(ImportedFile.name, ImportedFile.imported_by_id, Unit.code)
        .outerjoin(Unit, Unit.id == ImportedFile.importer_unit_id)
        .order_by(ImportedFile.id)
    ).all()
    assert files == [
        ("admin.csv", imported["admin"], None),  # an administrator without a unit
        ("district.csv", imported["district"], "760"),
        ("commune.csv", imported["commune"], "26734"),
        ("other.csv", imported["other"], "769"),
        ("dong-lenh.csv", None, None),
    ]


SEES = {
    "admin": ["dong-lenh.csv", "other.csv", "commune.csv", "district.csv", "admin.csv"],
    "district": ["commune.csv", "district.csv"],  # a commune's manager under it, not 769's
    "commune": ["commune.csv"],  # not the district's above it
    "other": ["other.csv"],
}


@pytest.mark.parametrize("viewer", list(SEES))
def test_each_sees_the_imports_of_their_scope_newest_first(app, imported, runner, tmp_path, viewer):
    cli_import(runner, tmp_path)
    html = signed_in(app, f"{viewer}@x.vn").get(URL).get_data(as_text=True)
    rows = recent_rows(html)
    assert [r[1] for r in rows] == SEES[viewer]
    by = {"dong-lenh.csv": "command line"} | {f"{a}.csv": f"{a}@x.vn" for a in ACCOUNTS}
    assert [r[3] for r in rows] == [by[name] for name in SEES[viewer]]


def test_an_account_moved_to_another_unit_leaves_its_past_imports(app, imported):
    """The files stay with the managers of the unit they were imported for; those of the
    account's new unit see what it imports from there on. Its own it always sees."""
    admin = signed_in(app, "admin@x.vn")
    page = f"/staff/users/{imported['commune']}"
    fields = next(f for f in page_forms(admin.get(page).get_data(as_text=True))
                  if f["action"] == page)["fields"]  # fmt: skip
    assert admin.post(page, data=fields | {"unit": "769"}).status_code == 303
    moved = signed_in(app, "commune@x.vn")
    raw = csv_file(row(unit="26800", when="2024-03-26 09:00"))
    assert send(moved, raw, name="moved.csv").status_code == 303

    def seen_by(viewer):
        html = signed_in(app, f"{viewer}@x.vn").get(URL).get_data(as_text=True)
        return [r[1] for r in recent_rows(html)]

    assert seen_by("district") == ["commune.csv", "district.csv"]
    assert seen_by("other") == ["moved.csv", "other.csv"]
    assert seen_by("commune") == ["moved.csv", "other.csv", "commune.csv"]  # 769 and its own


def test_handlers_still_cannot_open_the_import_page(app, imported):
    assert signed_in(app, "handler@x.vn").get(URL).status_code == 403


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_row_gives_when_the_file_the_responses_and_who(app, imported, language):
    db.session.add(
        ImportedFile(sha256="0" * 64, name="<script>alert(1)</script>.csv", responses=12345,
                     imported_at=datetime(2024, 3, 1, 18, 7),
                     imported_by_id=imported["district"])
    )  # fmt: skip
    db.session.commit()
    html = signed_in(app, "district@x.vn", language=language).get(URL).get_data(as_text=True)
    assert "<script>" not in html
    when = shown_time(datetime(2024, 3, 1, 18, 7), language)
    responses = "12.345" if language == "vi" else "12,345"
    assert recent_rows(html)[-1] == [
        when, str(escape("<script>alert(1)</script>.csv")), responses, "district@x.vn"
    ]  # fmt: skip
    with app.test_request_context(headers={"Accept-Language": language}):
        heading = get_translations().gettext("Recent imports")
    assert f"<h2>{heading}</h2>" in html


def test_the_page_lists_the_last_imports_or_says_there_are_none(app, tree, questionnaire):
    admin = User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH)
    db.session.add(admin)
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    assert "No file imported yet." in client.get(URL).get_data(as_text=True)
    start = datetime(2024, 3, 1)
    db.session.add_all(
        ImportedFile(sha256=f"{i:064}", name=f"file-{i:02}.csv", responses=i,
                     imported_at=start + timedelta(hours=i), imported_by=admin)
        for i in range(RECENT_IMPORTS + 5)
    )  # fmt: skip
    db.session.commit()
    names = [r[1] for r in recent_rows(client.get(URL).get_data(as_text=True))]
    assert names == [f"file-{i:02}.csv" for i in range(RECENT_IMPORTS + 4, 4, -1)]

"""Importing a file of paper forms from the back office, through the real form: all or nothing,
within the manager's units, with the problems in the reader's language."""

import io

import pytest
from markupsafe import escape
from sqlalchemy import func, select, text

from core.extensions import db
from core.models import Role
from feedback.models import Case
from survey import importer
from survey.importer import responses_imported
from survey.models import CRITERIA, ImportedFile, Response
from tests.conftest import add_staff, page_forms, signed_in

URL = "/staff/responses/import"
HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK,comment"


@pytest.fixture
def staff(tree):
    add_staff(tree, {
        "admin": ("admin@x.vn", Role.ADMIN, None),
        "manager": ("manager@x.vn", Role.MANAGER, "760"),
        "handler": ("handler@x.vn", Role.HANDLER, "26734"),
        "analyst": ("analyst@x.vn", Role.ANALYST, "760"),
    })  # fmt: skip


def row(unit="26734", when="2024-03-25 14:30", channel="paper", value="4", hk="no", comment=""):
    return f"{unit},{when},{channel}," + ",".join([value] * len(CRITERIA)) + f",{hk},{comment}"


def csv_file(*rows, header=HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def the_form(client) -> dict:
    """The import form's fields as the page gives them, its boxes not yet ticked."""
    page = client.get(URL)
    assert page.status_code == 200
    form = next(f for f in page_forms(page.get_data(as_text=True)) if f["action"] == URL)
    return form["fields"]


def send(client, raw: bytes | None, name="phieu-giay.csv", open_cases=False, fields=None):
    """Choose the file and send the form, ticking the household-register box if asked."""
    data = dict(fields if fields is not None else the_form(client))
    data.pop("again", None)  # the box shows only for a file imported before, and is not ticked
    assert "open_cases" not in data  # a box left unticked, as the page shows it
    if open_cases:
        data["open_cases"] = "y"
    data["file"] = (io.BytesIO(raw), name) if raw is not None else (io.BytesIO(b""), "")
    return client.post(URL, data=data, content_type="multipart/form-data")


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def imports() -> list[tuple]:
    return db.session.execute(select(ImportedFile.name, ImportedFile.responses)).all()


def test_an_admin_imports_a_file_whole(app, tree, staff, questionnaire):
    sent = []

    def receiver(_app, count):
        sent.append((count, stored()))

    client = signed_in(app, "admin@x.vn")
    evil = '"=HYPERLINK(""http://x"",""y"")<script>alert(1)</script>"'
    # Above the site's 64 KB limit for a request: the page has a larger one for its file.
    rows = [row(), row(unit="26800", value="5", hk="yes"), row(comment=evil)]
    rows += [row(unit="79", when="25/03/2024 08:00", value="3")] * 1500
    raw = csv_file(*rows)
    assert len(raw) > app.config["MAX_CONTENT_LENGTH"]
    with responses_imported.connected_to(receiver):
        response = send(client, raw)
    assert response.status_code == 303 and response.location == URL
    assert stored() == 1503
    by_unit = dict(
        db.session.execute(select(Response.unit_id, func.count()).group_by(Response.unit_id)).all()
    )
    assert by_unit == {tree["26734"].id: 2, tree["26800"].id: 1, tree["79"].id: 1500}
    assert db.session.scalar(select(func.sum(Response.a1))) == 4 + 5 + 4 + 3 * 1500
    comment = db.session.scalar(select(Response.comment).where(Response.comment.is_not(None)))
    assert comment == '=HYPERLINK("http://x","y")<script>alert(1)</script>'  # as written
    assert imports() == [("phieu-giay.csv", 1503)]
    assert sent == [(1503, 1503)]  # after the commit
    page = client.get(URL).get_data(as_text=True)
    assert "1,503 responses imported." in page
    assert "1 of them says a paper household register was asked for: no PAKN case was" in page
    assert db.session.scalars(select(Case)).all() == []


def test_the_survey_points_page_links_the_import_for_admins_and_managers(app, staff):
    for email, linked in [("admin@x.vn", True), ("manager@x.vn", True), ("handler@x.vn", False)]:
        page = signed_in(app, email).get("/staff/").get_data(as_text=True)
        assert (f'href="{URL}"' in page) is linked, email


@pytest.mark.parametrize("email", ["handler@x.vn", "analyst@x.vn"])
def test_handlers_and_analysts_may_not_import(app, staff, questionnaire, email):
    client = signed_in(app, email)
    assert client.get(URL).status_code == 403
    fields = {"csrf_token": "x", "file": (io.BytesIO(csv_file(row())), "a.csv")}
    assert client.post(URL, data=fields, content_type="multipart/form-data").status_code == 403
    assert stored() == 0


def test_a_manager_imports_rows_of_their_units(app, staff, questionnaire):
    client = signed_in(app, "manager@x.vn")
    response = send(client, csv_file(row(unit="760"), row(unit="26734"), row(unit="26737")))
    assert response.status_code == 303 and stored() == 3


def test_the_page_keeps_a_comment_as_the_survey_form_does(app, staff, questionnaire):
    client = signed_in(app, "manager@x.vn")
    written = '"\u202e0912 345 678\u202c\r\nchờ lâu\u2067"'
    assert send(client, csv_file(row(comment=written))).status_code == 303
    assert db.session.scalar(select(Response.comment)) == "0912 345 678\nchờ lâu"


def test_a_row_outside_the_managers_units_refuses_the_file(app, staff, questionnaire):
    client = signed_in(app, "manager@x.vn")
    assert send(client, csv_file(row())).status_code == 303
    raw = csv_file(row(), row(unit="26800"), row(unit="79"), row(unit="00000"))
    response = send(client, raw)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 3: unit_code &#39;26800&#39; is not one of your units" in page
    assert "Line 4: unit_code &#39;79&#39; is not one of your units" in page
    assert "Line 5: unknown unit_code &#39;00000&#39;" in page
    assert "Line 2" not in page
    assert stored() == 1 and len(imports()) == 1  # the first file's, kept


BAD_FILES = {
    "unknown unit": (csv_file(row(), row(unit="99999")), "Line 3: unknown unit_code '99999'"),
    "bad date": (
        csv_file(row(when="2024-13-45")),
        "Line 2: submitted_at '2024-13-45' is not a date and time like",
    ),
    "value out of range": (
        csv_file(row(), row(value="6")),
        "Line 3: A1 must be 1-5, 0 for no opinion, or empty; not '6'",
    ),
    "missing column": (csv_file(row(), header=HEADER.replace(",HK", ",HX")), "Line 1: missing"),
    "wrong encoding": (
        csv_file(row(), row(comment="Hòa")).decode().encode("cp1252"),  # as Excel saves "CSV"
        "Line 3: the file is not UTF-8",
    ),
    "empty file": (b"", "Line 1: the file is empty"),
    "binary file": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is not UTF-8"),
    "NUL character": (csv_file(row(), row(comment="a\x00b")), "Line 3: holds a NUL character"),
    "script in a value": (
        csv_file(row(unit="<script>alert(1)</script>")),
        "Line 2: unknown unit_code '<script>alert(1)</script>'",
    ),
    "formula in a value": (
        csv_file(row(channel='=HYPERLINK("http://x")')),
        """Line 2: channel '=HYPERLINK("http://x")' is not one of""",
    ),
    "no rows": (csv_file(), "the file has no responses"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_stores_nothing_and_names_its_lines(app, staff, questionnaire, name):
    raw, problem = BAD_FILES[name]
    client = signed_in(app, "admin@x.vn")
    assert send(client, csv_file(row()), name="earlier.csv").status_code == 303
    response = send(client, raw)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The file was not imported; nothing was stored." in page
    assert str(escape(problem)) in page, page
    assert "<script>alert" not in page
    assert stored() == 1 and imports() == [("earlier.csv", 1)]  # nothing lost, nothing added


def test_problems_are_said_in_vietnamese_by_default(app, staff, questionnaire, vi):
    raw = csv_file(row(), row(unit="99999"), row(unit="26800"))
    page = send(signed_in(app, "manager@x.vn", language="vi"), raw).get_data(as_text=True)
    assert '<html lang="vi">' in page and "Điểm khảo sát" in page  # the page around them too
    for line, problem in [
        (3, vi("unknown unit_code %(value)s", value="'99999'")),
        (4, vi("unit_code %(value)s is not one of your units", value="'26800'")),
    ]:
        assert str(escape(vi("Line %(n)s: %(problem)s", n=line, problem=problem))) in page
    assert "unknown unit_code" not in page and "Line 3" not in page
    page = send(signed_in(app, "manager@x.vn", language="en"), raw).get_data(as_text=True)
    assert "Line 3: unknown unit_code &#39;99999&#39;" in page
    assert "Line 4: unit_code &#39;26800&#39; is not one of your units" in page
    assert "Dòng" not in page and '<html lang="en">' in page
    assert stored() == 0


@pytest.mark.parametrize(
    ("raw", "problem", "in_english"),
    [
        (b"", ("the file is empty", {}), "Line 1: the file is empty"),
        (
            "a,é\n".encode("latin-1"),
            ("the file is not UTF-8; save it as 'CSV UTF-8' and try again", {}),
            "Line 1: the file is not UTF-8; save it as &#39;CSV UTF-8&#39; and try again",
        ),
        (
            csv_file(row(), header="unit_code,HK"),
            ("missing column(s): %(columns)s", {"columns": "submitted_at, channel"}),
            "Line 1: missing column(s): submitted_at, channel",
        ),
        (None, None, "Choose a CSV file."),
    ],
    ids=["empty", "not UTF-8", "missing columns", "no file"],
)
def test_file_problems_in_both_languages(app, staff, questionnaire, vi, raw, problem, in_english):
    if problem is None:
        in_vietnamese = vi(in_english)
    else:
        in_vietnamese = vi("Line %(n)s: %(problem)s", n=1, problem=vi(problem[0], **problem[1]))
    for language, expected, other in [
        ("vi", str(escape(in_vietnamese)), in_english),
        ("en", in_english, str(escape(in_vietnamese))),
    ]:
        response = send(signed_in(app, "admin@x.vn", language=language), raw)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert expected in page and other not in page, page
    assert stored() == 0


def test_an_oversized_file_is_refused_with_a_message(app, staff, questionnaire, vi):
    app.config["RESPONSES_IMPORT_MAX_BYTES"] = 1 << 20
    raw = csv_file(*[row(comment="x" * 500)] * 2200)
    assert len(raw) > 1 << 20
    message = "The file is too large (%(mb)s MB at most). Split it into several files."
    for language, expected in [("vi", vi(message, mb=1)), ("en", message % {"mb": 1})]:
        client = signed_in(app, "admin@x.vn", language=language)
        response = send(client, raw)
        assert response.status_code == 413
        assert expected in response.get_data(as_text=True)
    assert stored() == 0 and imports() == []


def test_the_form_needs_its_csrf_token(app, staff, questionnaire):
    client = signed_in(app, "admin@x.vn")
    fields = the_form(client) | {"csrf_token": "forged"}
    response = send(client, csv_file(row()), fields=fields)
    assert response.status_code == 422 and stored() == 0
    page = response.get_data(as_text=True)
    assert "This form has expired or was not sent from this site." in page


def test_the_same_file_again_only_when_confirmed(app, staff, questionnaire):
    client = signed_in(app, "admin@x.vn")
    first, second = csv_file(row(), row(value="5")), csv_file(row(value="3"))
    assert send(client, first, name="first.csv").status_code == 303
    assert send(client, second, name="second.csv").status_code == 303
    response = send(client, first, name="again.csv")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This file was imported on " in page and " with 2 responses;" in page
    assert stored() == 3
    form = next(f for f in page_forms(page) if f["action"] == URL)
    assert "again" not in form["fields"]  # the box the page offers, unticked
    form = form["fields"] | {"again": form["boxes"]["again"]}  # ticked: import this file again
    # The box holds for the file it was offered for, not for another imported before.
    response = send_ticked(client, form, second)
    assert response.status_code == 409 and " with 1 response;" in response.get_data(as_text=True)
    assert stored() == 3
    # That file, with the box ticked: deliberately.
    assert send_ticked(client, form, first).status_code == 303
    assert stored() == 5
    assert [name for name, _n in imports()] == ["first.csv", "second.csv", "again.csv"]


def send_ticked(client, fields: dict, raw: bytes):
    """Send the form as the page gave it, the box "import it again" ticked."""
    data = fields | {"file": (io.BytesIO(raw), "again.csv")}
    return client.post(URL, data=data, content_type="multipart/form-data")


def test_household_register_cases_are_opened_only_when_asked(app, staff, questionnaire):
    client = signed_in(app, "manager@x.vn")
    raw = csv_file(row(hk="yes"), row(), row(unit="26737", hk="có"))
    assert send(client, raw).status_code == 303
    page = client.get(URL).get_data(as_text=True)
    assert "2 of them say a paper household register was asked for" in page
    assert "no PAKN case was opened for them." in page
    assert db.session.scalars(select(Case)).all() == []
    again = csv_file(row(hk="yes"), row(unit="26737", hk="yes"), row(hk="no"))
    assert send(client, again, open_cases=True).status_code == 303
    page = client.get(URL).get_data(as_text=True)
    assert "a PAKN case was opened for each." in page
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    yes = db.session.scalars(
        select(Response).where(Response.hk.is_(True)).order_by(Response.id)
    ).all()
    assert [c.response_id for c in cases] == [r.id for r in yes[2:]]  # the second file's only
    assert [c.unit.code for c in cases] == ["26734", "26737"]


def test_the_import_gives_the_workers_connection_its_own_cache_back(
    app, staff, questionnaire, monkeypatch
):
    """The import's 128 MB page cache is for its own transaction: the web worker's pooled
    connection must not keep it, and the memory it fills, for every later request."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's per-connection page cache")
    db.session.close()  # the fixtures' connection back in the pool
    with db.engine.connect() as connection:
        own = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    assert own != -128 * 1024
    client = signed_in(app, "admin@x.vn")
    sizes_during, breaches = [], importer.household_register_breaches

    def looked_at_after_the_rows(after_id):  # in the import's transaction
        sizes_during.append(db.session.execute(text("PRAGMA cache_size")).scalar())
        return breaches(after_id)

    monkeypatch.setattr(importer, "household_register_breaches", looked_at_after_the_rows)
    assert send(client, csv_file(row())).status_code == 303
    assert sizes_during == [-128 * 1024]  # the import had the large cache
    pool = db.engine.pool
    held = [pool.connect() for _ in range(pool.checkedin())]  # every pooled connection
    try:
        assert held and all(
            c.driver_connection.execute("PRAGMA cache_size").fetchone()[0] == own for c in held
        )
    finally:
        for c in held:
            c.close()

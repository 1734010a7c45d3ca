"""Importing a units file from the back office through the real form, as `units import` does,
and the download that imports back as a no-op."""

import csv
import hashlib
import io
import unicodedata
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from core.csvfile import FORMULA_START
from core.extensions import db
from core.models import Unit, UnitEvent
from core.unit_tree import rebuild_paths
from tests.conftest import page_forms, signed_in

URL = "/staff/units/import"
GOOD = """code,name,level,parent_code,population
760,Quận 1,Quận,79,210000
26737,Phường Đa Kao mới,Phường,769,
26801,Phường An Khánh,Phường,769,12000
"""


def the_form(client) -> dict:
    page = client.get(URL)
    assert page.status_code == 200
    return next(f for f in page_forms(page.get_data(as_text=True)) if f["action"] == URL)["fields"]


def send(client, raw: bytes | None, name="don-vi.csv", fields=None):
    """Choose the file and send the form as the page gives it."""
    data = dict(fields if fields is not None else the_form(client))
    data["file"] = (io.BytesIO(raw), name) if raw is not None else (io.BytesIO(b""), "")
    return client.post(URL, data=data, content_type="multipart/form-data")


def state() -> tuple:
    """Every unit's values, and the history's lines: what a refused file must leave."""
    db.session.expire_all()
    units = db.session.execute(
        select(
            Unit.code,
            Unit.name,
            Unit.level,
            Unit.parent_id,
            Unit.population,
            Unit.path,
            Unit.closed_on,
            Unit.merged_into_id,
        )  # fmt: skip
    )
    return sorted(units), db.session.scalar(select(func.count()).select_from(UnitEvent))


def test_an_admin_imports_a_file_and_is_recorded_as_who_did(app, tree, unit_staff, runner):
    client = signed_in(app, "admin@x.vn")
    response = send(client, GOOD.encode(), name="cây đơn vị 2026.csv")
    assert response.status_code == 303 and response.location == URL
    page = client.get(URL).get_data(as_text=True)
    assert "The file is imported. Units added: 1; changed: 2; unchanged: 0." in page
    db.session.expire_all()
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    assert units["26737"].parent.code == "769" and units["26737"].path.startswith(units["769"].path)
    assert units["26801"].population == 12000 and units["760"].population == 210000
    lines = db.session.scalars(select(UnitEvent).order_by(UnitEvent.id)).all()
    assert [(e.unit.code, e.action) for e in lines] == [
        ("760", "changed"), ("26737", "changed"), ("26801", "added")
    ]  # fmt: skip
    digest = hashlib.sha256(GOOD.encode()).hexdigest()
    assert {(e.actor.email, e.source, e.source_sha256) for e in lines} == {
        ("admin@x.vn", "cây đơn vị 2026.csv", digest)
    }
    assert "cây đơn vị 2026.csv" in page and digest in page  # the latest changes, under the form
    printed = runner.invoke(args=["units", "history", "26801"]).output.split("\t")
    assert printed[1:3] == ["admin@x.vn", "added"] and printed[-2:] == [
        "cây đơn vị 2026.csv", digest + "\n"
    ]  # fmt: skip


BAD_FILES = {
    "unknown parent": (GOOD + "26900,Xã Mới,Xã,999,\n", "Line 5: unknown parent_code 999"),
    "duplicate code": (
        GOOD + "760,Quận Một,Quận,79,\n",
        "Line 5: code 760 already appears on line 2",
    ),
    "cycle": (
        "code,name,level,parent_code\n1,A,x,3\n2,B,x,1\n3,C,x,2\n",
        "Line 2: unit 1 is in a cycle: 1 → 3 → 2",
    ),
    "missing column": ("code,name,parent_code\n1,A,\n", "Line 1: missing column(s): level"),
    # Windows-1258, as an old spreadsheet saves it: "à" is the single byte 0xE0.
    "wrong encoding": (
        b"code,name,level,parent_code\n79,HCM,Tinh,\n760,Qu\xe0n 1,Quan,79\n",
        "Line 3: the file is not UTF-8",
    ),
    "empty": ("", "Line 1: the file is empty"),
    "no units": ("code,name,level,parent_code\n", "the file has no units"),
    "formula and markup": (
        'code,name,level,parent_code\n"=HYPERLINK(""x"")",<script>x</script>,Xã,79\n',
        """Line 2: code '=HYPERLINK("x")' must be 1-20 letters""",
    ),
    "population": (GOOD.replace("12000", "1e5"), "Line 4: population '1e5' is not a whole"),
    "closing day": (
        "code,name,level,parent_code,closed_on\n760,Quận 1,Quận,79,1/7/2025\n",
        "Line 2: closed_on 1/7/2025 is not a day written YYYY-MM-DD",
    ),
    "closed above an open unit": (
        "code,name,level,parent_code,closed_on\n760,Quận 1,Quận,79,2025-07-01\n",
        "Line 2: unit 760 cannot close on 2025-07-01 while units under it stay open (2): "
        "26734, 26737",
    ),
    "invisible character": (
        GOOD.replace("An Khánh", "An\u202eKhánh"),
        "Line 4: name must not hold line breaks, tabs or invisible characters",
    ),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_changes_nothing_and_names_its_lines(app, tree, unit_staff, name):
    raw, problem = BAD_FILES[name]
    client = signed_in(app, "admin@x.vn")
    before = state()
    response = send(client, raw if isinstance(raw, bytes) else raw.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The file was not imported; nothing was stored." in page
    assert str(escape(problem)) in page, page
    assert "<script>" not in page
    assert state() == before


def test_a_file_with_many_problems_lists_the_first_and_counts_the_others(app, tree, unit_staff):
    lines = "".join(f"9{n:03},Xã {n},Xã,999\n" for n in range(53))  # lines 2 to 54
    client = signed_in(app, "admin@x.vn")
    response = send(client, ("code,name,level,parent_code\n" + lines).encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("unknown parent_code 999</li>") == 50
    assert "Line 51: unknown parent_code" in page and "Line 52:" not in page
    assert "… and 3 more problems." in page


def test_problems_are_said_in_the_pages_language(app, tree, unit_staff, vi):
    raw = (GOOD + "26900,Xã Mới,Xã,999,\n760,Quận Một,Quận,79,\n").encode()
    page = send(signed_in(app, "admin@x.vn", language="vi"), raw).get_data(as_text=True)
    closing = "code,name,level,parent_code,closed_on\n760,Quận 1,Quận,79,1/7/2025\n"
    page_of_closing = send(signed_in(app, "admin@x.vn", language="vi"), closing.encode())
    problem = vi("closed_on %(value)s is not a day written YYYY-MM-DD", value="1/7/2025")
    assert str(escape(vi("Line %(n)s: %(problem)s", n=2, problem=problem))) in (
        page_of_closing.get_data(as_text=True)
    )
    for line, problem in [
        (5, vi("unknown parent_code %(code)s", code="999")),
        (6, vi("code %(code)s already appears on line %(line)s", code="760", line=2)),
    ]:
        assert str(escape(vi("Line %(n)s: %(problem)s", n=line, problem=problem))) in page
    assert "unknown parent_code" not in page and "already appears" not in page
    over = GOOD.replace("12000", "100000001").encode()
    page = send(signed_in(app, "admin@x.vn", language="vi"), over).get_data(as_text=True)
    assert vi("population must be at most %(most)s", most="100.000.000") in page
    page = send(signed_in(app, "admin@x.vn", language="en"), over).get_data(as_text=True)
    assert "Line 4: population must be at most 100,000,000" in page


def test_a_population_written_as_vietnamese_write_it_is_imported(app, tree, unit_staff, vi):
    client = signed_in(app, "admin@x.vn", language="vi")
    response = send(client, GOOD.replace("210000", "210.000").encode())
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Unit.population).where(Unit.code == "760")) == 210_000
    page = send(client, GOOD.replace("12000", '"12,5"').encode()).get_data(as_text=True)
    problem = vi(
        "population %(value)s is not a whole number written with digits alone (9000000) or "
        "in groups of three (9.000.000, 9,000,000 or 9 000 000)",
        value="'12,5'",
    )
    assert str(escape(vi("Line %(n)s: %(problem)s", n=4, problem=problem))) in page


def test_no_file_an_oversized_one_and_a_forged_token_are_refused(app, tree, unit_staff, vi):
    before = state()
    client = signed_in(app, "admin@x.vn")
    response = send(client, None)
    assert response.status_code == 422 and "Choose a CSV file." in response.get_data(as_text=True)
    forged = send(client, GOOD.encode(), fields=the_form(client) | {"csrf_token": "forged"})
    assert forged.status_code == 422
    assert "This form has expired or was not sent from this site." in forged.get_data(as_text=True)
    app.config["UNITS_IMPORT_MAX_BYTES"] = 1 << 20
    raw = (GOOD + "".join(f"9{i:05},Xã {'x' * 80},Xã,760,\n" for i in range(12000))).encode()
    assert len(raw) > 1 << 20
    message = "The file is too large (%(mb)s MB at most). Split it into several files."
    for language, expected in [("vi", vi(message, mb=1)), ("en", message % {"mb": 1})]:
        response = send(signed_in(app, "admin@x.vn", language=language), raw)
        assert response.status_code == 413 and expected in response.get_data(as_text=True)
    assert state() == before


@pytest.mark.parametrize("email", ["manager@x.vn", "handler@x.vn", "analyst@x.vn"])
def test_only_an_administrator_may_import(app, tree, unit_staff, email):
    client = signed_in(app, email)
    admin_form = the_form(signed_in(app, "admin@x.vn"))
    before = state()
    assert client.get(URL).status_code == 403
    assert send(client, GOOD.encode(), fields=admin_form).status_code == 403
    assert state() == before


# Names, levels and codes a spreadsheet would take for formulas, or that CSV must quote.
TRICKY = [
    ("-5", '=HYPERLINK("http://x","y")', "+Tỉnh", None, 0),
    ("-6", 'Phường "Bến", Nghé', "@Phường", "-5", 15000),
    ("a.b", "'=1+1", "'Xã", "-5", None),
    ("c_d", "''x", "Xã; đặc biệt", "-6", 7),
    ("e", unicodedata.normalize("NFD", "Phường Bến Nghé") + "\u00a0mới", "-", "a.b", 100_000_000),
]


def test_the_download_imports_back_as_it_was(app, tree, unit_staff, runner, tmp_path):
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    for code, name, level, parent, population in TRICKY:
        units[code] = Unit(code=code, name=name, level=level, population=population,
                           parent=units[parent] if parent else None)  # fmt: skip
        db.session.add(units[code])
    units["e"].closed_on = date(2025, 7, 1)  # a commune merged into another
    units["e"].merged_into = units["-6"]  # whose code a spreadsheet takes for a formula
    db.session.flush()
    rebuild_paths()
    db.session.commit()
    client = signed_in(app, "admin@x.vn")
    download = client.get("/staff/units/units.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="units-all-')
    raw = download.get_data()
    header = "\ufeffcode,name,level,parent_code,population,closed_on,merged_into\r\n"
    assert raw.startswith(header.encode())
    cells = [c for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]  # never a formula
    assert '\'=HYPERLINK("http://x","y")' in cells and "''=1+1" in cells and "'-5" in cells
    assert cells.count("2025-07-01") == 1
    assert b",2025-07-01,'-6\r\n" in raw  # the successor's code behind its apostrophe too
    before = state()
    response = send(client, raw, name="units-all.csv")
    assert response.status_code == 303
    page = client.get(URL).get_data(as_text=True)
    assert "Units added: 0; changed: 0; unchanged: 11." in page
    assert state() == before  # not a value changed, not a line of history
    path = tmp_path / "units-all.csv"
    path.write_bytes(raw)
    result = runner.invoke(args=["units", "import", str(path)])
    assert "Imported 11 units: 0 new, 0 changed, 11 unchanged." in result.output
    assert state() == before
    assert client.get("/staff/units/units.csv").get_data() == raw


def test_the_page_names_every_column_a_units_file_may_hold(app, tree, unit_staff):
    """closed_on closes a unit (README, Closed units): an administrator learns of it here."""
    html = signed_in(app, "admin@x.vn").get(URL).get_data(as_text=True)
    about = " ".join(html.split())
    for column in ("code", "name", "level", "parent_code", "population", "closed_on"):
        assert f" {column}" in about
    assert "closed_on (the day from which a unit no longer exists, YYYY-MM-DD)" in about

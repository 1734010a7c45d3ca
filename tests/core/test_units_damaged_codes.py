"""A units file whose codes lost their leading zeros to a spreadsheet ("01" read as 1) is
refused whole, naming the code each probably is, from the command line and the back office."""

import io

from sqlalchemy import func, select

from core.extensions import db
from core.models import Role, Unit, UnitEvent, User
from tests.conftest import FAST_HASH, page_forms, signed_in

URL = "/staff/units/import"
TREE = """code,name,level,parent_code
01,Thành phố Hà Nội,Tỉnh,
001,Quận Ba Đình,Quận,01
00004,Phường Trúc Bạch,Phường,001
00008,Phường Quán Thánh,Phường,001
"""
# The same file opened in a spreadsheet and saved again.
DAMAGED = """code,name,level,parent_code
1,Thành phố Hà Nội,Tỉnh,
1,Quận Ba Đình,Quận,1
4,Phường Trúc Bạch,Phường,1
8,Phường Quán Thánh,Phường,1
"""


def run_import(runner, tmp_path, text):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["units", "import", str(path)])


def counts() -> tuple[int, int]:
    db.session.expire_all()
    units = db.session.scalar(select(func.count()).select_from(Unit))
    return units, db.session.scalar(select(func.count()).select_from(UnitEvent))


def imported(runner, tmp_path):
    result = run_import(runner, tmp_path, TREE)
    assert result.exit_code == 0, result.output
    return counts()


def test_a_code_without_its_zeros_is_refused_naming_the_code(app, runner, tmp_path):
    before = imported(runner, tmp_path)
    text = TREE + "4,Phường Trúc Bạch mới,Phường,001\n26,Xã Mới,Xã,001\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code != 0
    assert (
        "line 6: code 4 is not in the database; it is probably 00004, its leading zeros lost to "
        "a spreadsheet: open the code columns as text, not numbers, and save the file again"
    ) in result.output
    assert "line 7" not in result.output  # 26 is a new code, not a damaged one
    assert counts() == before


def test_a_resaved_file_is_refused_on_every_line_and_adds_nothing(app, runner, tmp_path):
    before = imported(runner, tmp_path)
    result = run_import(runner, tmp_path, DAMAGED)
    assert result.exit_code != 0
    output = result.output
    assert "line 2: code 1 is not in the database; it is probably 01, 001" in output
    assert "line 3: code 1 already appears on line 2" in output
    assert "line 4: code 4 is not in the database; it is probably 00004," in output
    assert "line 4: parent_code 1 is not in the database; it is probably 01, 001," in output
    assert "line 5: code 8 is not in the database; it is probably 00008," in output
    assert "unknown parent_code" not in output  # said once, with the code it probably is
    assert counts() == before


def test_a_number_written_with_a_decimal_point_is_refused(app, runner, tmp_path):
    before = imported(runner, tmp_path)
    result = run_import(
        runner, tmp_path, "code,name,level,parent_code\n00012,Phường X,Phường,1.0\n"
    )
    assert result.exit_code != 0
    assert "line 2: parent_code 1.0 is not in the database; it is probably 01, 001" in result.output
    assert counts() == before


def test_codes_of_the_database_and_new_codes_import_as_before(app, runner, tmp_path):
    imported(runner, tmp_path)
    text = TREE + "00010,Phường Nguyễn Trung Trực,Phường,001\n002,Quận Hoàn Kiếm,Quận,01\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    assert "Imported 6 units: 2 new, 0 changed, 4 unchanged." in result.output
    new = db.session.scalar(select(Unit).where(Unit.code == "00010"))
    assert new.parent.code == "001"


def test_on_an_empty_database_nothing_is_taken_for_damaged(app, runner, tmp_path):
    result = run_import(runner, tmp_path, "code,name,level,parent_code\n1,A,Tỉnh,\n4,B,Xã,1\n")
    assert result.exit_code == 0, result.output
    assert counts()[0] == 2


def admin(app) -> User:
    user = User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH)
    db.session.add(user)
    db.session.commit()
    return user


def send(client, raw: bytes):
    page = client.get(URL)
    fields = next(f for f in page_forms(page.get_data(as_text=True)) if f["action"] == URL)
    data = dict(fields["fields"], file=(io.BytesIO(raw), "don-vi.csv"))
    return client.post(URL, data=data, content_type="multipart/form-data")


def test_the_import_page_refuses_a_damaged_file_in_the_readers_language(app, runner, tmp_path):
    before = imported(runner, tmp_path)
    admin(app)
    client = signed_in(app, "admin@x.vn", language="vi")
    response = send(client, DAMAGED.encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "code 4 không có trong cơ sở dữ liệu; có lẽ đó là 00004" in page
    assert "mở các cột mã dưới dạng văn bản" in page
    assert counts() == before


def test_the_import_page_in_english(app, runner, tmp_path):
    before = imported(runner, tmp_path)
    admin(app)
    client = signed_in(app, "admin@x.vn")
    response = send(client, (TREE + "8,Phường Quán Thánh,Phường,001\n").encode())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "code 8 is not in the database; it is probably 00008, its leading zeros lost" in page
    assert counts() == before

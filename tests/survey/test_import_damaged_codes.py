"""A responses file whose unit codes lost their leading zeros to a spreadsheet: each "unknown
unit" names the code it probably is, from the command line and the back office's import."""

import io

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from core.csvfile import FileProblems
from core.extensions import db
from core.models import Role, Unit, User
from core.unit_codes import DamagedCodes
from core.unit_tree import rebuild_paths
from survey.models import CRITERIA, Response
from survey.response_insert import import_responses
from tests.conftest import FAST_HASH, page_forms, signed_in

URL = "/staff/responses/import"
HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK"


@pytest.fixture
def hanoi(app):
    """Hà Nội (01), Ba Đình (001) and two of its wards, a manager of Ba Đình and an admin."""
    city = Unit(code="01", name="Thành phố Hà Nội", level="Tỉnh")
    district = Unit(code="001", name="Quận Ba Đình", level="Quận", parent=city)
    wards = [
        Unit(code="00004", name="Phường Trúc Bạch", level="Phường", parent=district),
        Unit(code="00008", name="Phường Quán Thánh", level="Phường", parent=district),
    ]
    db.session.add_all([city, district, *wards])
    db.session.flush()
    rebuild_paths()
    for email, role, unit in [
        ("admin@x.vn", Role.ADMIN, None),
        ("ba-dinh@x.vn", Role.MANAGER, district),
    ]:
        db.session.add(User(email=email, role=role, unit=unit, password_hash=FAST_HASH))
    db.session.commit()


def row(unit: str) -> str:
    return f"{unit},2024-03-25 14:30,paper," + ",".join(["4"] * len(CRITERIA)) + ",no"


def csv_text(*units: str) -> str:
    return "\n".join([HEADER, *map(row, units)]) + "\n"


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def test_the_command_names_the_code_each_damaged_one_probably_is(
    app, runner, tmp_path, hanoi, questionnaire
):
    path = tmp_path / "responses.csv"
    path.write_text(csv_text("00004", "4", "8.0", "4", "99999", "1"), encoding="utf-8")
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code != 0
    said = (
        "is not in the database; it is probably {}, its leading zeros lost to a spreadsheet: "
        "open the code columns as text, not numbers, and save the file again"
    )
    assert "line 3: unit_code 4 " + said.format("00004") in result.output
    assert "line 4: unit_code 8.0 " + said.format("00008") in result.output
    assert "line 5: unit_code 4 " + said.format("00004") in result.output
    assert "line 6: unknown unit_code '99999'" in result.output
    assert "line 7: unit_code 1 " + said.format("01, 001") in result.output
    assert "line 2" not in result.output
    assert stored() == 0


def test_each_distinct_code_is_looked_up_once(app, hanoi, questionnaire, monkeypatch):
    looked_up = []
    probable = DamagedCodes.probable

    def counted(self, code):
        looked_up.append(code)
        return probable(self, code)

    monkeypatch.setattr(DamagedCodes, "probable", counted)
    with pytest.raises(FileProblems) as refused:
        import_responses(csv_text(*["4", "8", "4", "99999"] * 40).encode())
    assert len(refused.value.problems) == 160
    assert sorted(looked_up) == ["4", "8", "99999"]


def send(client, text: str):
    page = client.get(URL)
    fields = next(f for f in page_forms(page.get_data(as_text=True)) if f["action"] == URL)
    data = dict(fields["fields"], file=(io.BytesIO(text.encode()), "phieu-giay.csv"))
    data.pop("again", None)
    return client.post(URL, data=data, content_type="multipart/form-data")


def test_the_import_page_names_the_probable_code_in_the_readers_language(
    app, hanoi, questionnaire, vi
):
    client = signed_in(app, "ba-dinh@x.vn", language="vi")
    response = send(client, csv_text("00004", "4"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    problem = vi(
        "%(column)s %(code)s is not in the database; it is probably %(codes)s, its leading "
        "zeros lost to a spreadsheet: open the code columns as text, not numbers, and save the "
        "file again",
        column="unit_code", code="4", codes="00004",
    )  # fmt: skip
    assert str(escape(vi("Line %(n)s: %(problem)s", n=3, problem=problem))) in page
    assert "Line 2" not in page and "Dòng 2" not in page
    assert stored() == 0


def test_a_manager_is_offered_only_codes_of_their_units(app, hanoi, questionnaire):
    client = signed_in(app, "ba-dinh@x.vn")
    response = send(client, csv_text("1", "01"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Line 2: unit_code 1 is not in the database; it is probably 001, its leading" in page
    assert "Line 3: unit_code &#39;01&#39; is not one of your units" in page
    assert stored() == 0

"""A procedure typed in (the paper-form page, `responses import`, the import page) is one of the
questionnaire's: its code, or its Vietnamese or English name in any case and with or without
accents, stored as the code; anything else is refused, and answers stored with free text before
still read as typed."""

import pytest
from sqlalchemy import select

from core.extensions import db
from survey.models import CRITERIA, Response
from tests.conftest import login, page_forms
from tests.survey import test_comments_page as page
from tests.survey.test_import_page import send

pytestmark = pytest.mark.usefixtures("in_english")

world = page.world

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK,procedure"


def csv_of(*procedures: str) -> bytes:
    lines = [f'26734,2024-03-25 14:30,paper,{",".join(["4"] * len(CRITERIA))},no,"{p}"'
             for p in procedures]  # fmt: skip
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def stored_procedures() -> list:
    return db.session.scalars(select(Response.procedure).order_by(Response.id)).all()


NAMED = [
    "cu-tru",
    "  CHUNG-THUC ",
    "Đất đai",
    "dat dai",
    "HỘ TỊCH (khai sinh, kết hôn, khai tử...)",
    "business  registration",
    "lĩnh vực KHAC",
    "",
]
CODES = ["cu-tru", "chung-thuc", "dat-dai", "dat-dai", "ho-tich", "kinh-doanh", "khac", None]


def test_the_import_command_stores_the_code_of_each_name(runner, tmp_path, world):
    path = tmp_path / "paper.csv"
    path.write_bytes(csv_of(*NAMED))
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert stored_procedures() == CODES


def test_the_import_command_refuses_a_file_with_free_text_whole(runner, tmp_path, world):
    path = tmp_path / "paper.csv"
    path.write_bytes(csv_of("cu-tru", "Làm sổ đỏ", "dat dai", "cu tru 2"))
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code != 0
    assert "line 3: procedure 'Làm sổ đỏ' is not one of the questionnaire's" in result.output
    assert "line 5: procedure 'cu tru 2'" in result.output
    assert "line 2" not in result.output and "line 4" not in result.output
    assert "ho-tich, chung-thuc, cu-tru" in result.output  # the codes, to correct the file
    assert stored_procedures() == []


def test_the_import_page_refuses_free_text_and_lists_the_procedures(client, world):
    login(client, "manager@x.vn")
    response = send(client, csv_of("Xây dựng", "nhà ở"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "procedure &#39;nhà ở&#39; is not one of the questionnaire&#39;s" in html
    assert "<code>xay-dung</code>" in html and "Construction" in html
    assert stored_procedures() == []
    assert send(client, csv_of("XAY DUNG")).status_code == 303
    assert stored_procedures() == ["xay-dung"]


def paper_form(client, procedure: str):
    form = page_forms(client.get("/staff/paper").get_data(as_text=True))[-1]["fields"]
    data = form | {"unit": "26734", "day": "2026-01-15", "answers": "4455344455555444-05",
                   "hk": "k", "procedure": procedure}  # fmt: skip
    return client.post("/staff/paper", data=data)


def test_the_paper_form_takes_a_name_and_stores_its_code(client, world):
    login(client, "handler@x.vn")
    assert paper_form(client, "Chứng thực").status_code == 302
    assert paper_form(client, "residence").status_code == 302
    assert paper_form(client, "lao-dong-xa-hoi").status_code == 302
    assert stored_procedures() == ["chung-thuc", "cu-tru", "lao-dong-xa-hoi"]


def test_the_paper_form_says_beside_the_field_that_free_text_is_no_procedure(client, world):
    login(client, "handler@x.vn")
    response = paper_form(client, "Cấp sổ đỏ")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and stored_procedures() == []
    message = "Not a procedure of the list below: type its code or its name as listed."
    assert f'<p class="msg" id="e-procedure-1">{message}</p>' in html
    assert 'aria-describedby="e-procedure-1"' in html and 'value="Cấp sổ đỏ"' in html
    assert "<code>ho-tich</code>" in html and 'list="procedure-list"' in html


def test_an_answer_stored_before_with_free_text_reads_as_typed(client, world):
    page.answer(world, "26734", "Chờ lâu", procedure="Làm giấy tờ nhà")
    page.answer(world, "26734", "Nhanh", procedure="cu-tru")
    login(client, "admin@x.vn")
    html = client.get(page.URL).get_data(as_text=True)
    assert "Làm giấy tờ nhà" in html and "Cư trú" in html

"""A case's staff page shows the latest lines of a long history, and the whole of it on demand."""

import re
from datetime import timedelta

import pytest

from core.extensions import db
from core.models import Role, User
from feedback import history
from feedback.models import CaseEvent
from tests.conftest import FAST_HASH, login, queries_of


@pytest.fixture
def long_case(client, make_case, monkeypatch):
    """A case with 12 notes after its first line, shown 5 at a time; the admin signed in."""
    monkeypatch.setattr(history, "HISTORY_SHOWN", 5, raising=False)
    case = make_case("26734")
    admin = User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH)
    db.session.add(admin)
    for i in range(12):
        db.session.add(CaseEvent(case_id=case.id, actor=admin, action="note",
                                 at=case.received_at + timedelta(minutes=i + 1),
                                 from_state=case.state, to_state=case.state,
                                 note=f"Ghi chú số {i}."))  # fmt: skip
    db.session.commit()
    login(client, "admin@x.vn")
    return case


def notes(html: str) -> list[str]:
    return re.findall(r"Ghi chú số (\d+)\.", html)


def test_the_page_shows_the_latest_lines_oldest_first_and_says_how_many_in_all(client, long_case):
    html = client.get(f"/staff/cases/{long_case.id}").get_data(as_text=True)
    assert notes(html) == ["7", "8", "9", "10", "11"]
    assert "The 5 latest of 13 lines." in html
    assert f'href="/staff/cases/{long_case.id}?history=all#history"' in html


def test_the_whole_history_on_demand(client, long_case):
    html = client.get(f"/staff/cases/{long_case.id}?history=all").get_data(as_text=True)
    assert notes(html) == [str(i) for i in range(12)]
    assert "latest of" not in html and "history=all" not in html


def test_a_short_history_is_shown_whole_without_a_link(client, make_case):
    case = make_case("26734")
    db.session.add(User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH))
    db.session.commit()
    login(client, "admin@x.vn")
    html = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "latest of" not in html and "history=all" not in html


def test_the_page_asks_the_same_queries_for_a_longer_history(client, long_case):
    url = f"/staff/cases/{long_case.id}"
    before = queries_of(client, url)
    admin = db.session.query(User).filter_by(email="admin@x.vn").one()
    for i in range(20):
        db.session.add(CaseEvent(case_id=long_case.id, actor=admin, action="note",
                                 from_state=long_case.state, to_state=long_case.state,
                                 note=f"Thêm {i}"))  # fmt: skip
    db.session.commit()
    assert queries_of(client, url) == before
    assert len(notes(client.get(url).get_data(as_text=True))) == 0  # the 5 latest are the new


def test_the_note_in_vietnamese(client, long_case):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    html = client.get(f"/staff/cases/{long_case.id}").get_data(as_text=True)
    assert "5 dòng mới nhất trong tổng số 13 dòng." in html
    assert "Xem toàn bộ lịch sử" in html

"""The survey points page a page of points at a time, in tree order, counting only its own."""

import re
from datetime import datetime

import pytest

from core.extensions import db
from survey import views_staff
from survey.models import Response
from survey.questionnaires import current_questionnaire
from survey.services import add_point
from tests.conftest import login, queries_of, signed_in


@pytest.fixture
def points(tree, questionnaire, make_user):
    """Four points over three communes, added out of tree order."""
    made = [
        add_point(tree["26800"], "Quầy Thảo Điền", actor=None),
        add_point(tree["26737"], "Quầy Đa Kao 1", actor=None),
        add_point(tree["26734"], "Quầy Bến Nghé", actor=None),
        add_point(tree["26737"], "Quầy Đa Kao 2", actor=None),
    ]
    db.session.commit()
    make_user("admin@x.vn", "admin")
    make_user("manager@x.vn", "manager", tree["760"])
    return {p.label: p for p in made}


def answer(point, how_many: int, flagged: int = 0) -> None:
    questionnaire_id = current_questionnaire().id
    for i in range(how_many):
        db.session.add(Response(
            questionnaire_id=questionnaire_id,
            unit_id=point.unit_id, point_id=point.id, channel="static",
            submitted_at=datetime(2026, 3, 10, 3), hk=False,
            flags="burst" if i < flagged else "", a1=5,
        ))  # fmt: skip
    db.session.commit()


def shown_points(html: str) -> list[str]:
    return re.findall(r'<tr id="point-([\w-]+)">', html)


def counts_shown(html: str, token: str) -> str:
    row = html.split(f'<tr id="point-{token}">')[1].split("</tr>")[0]
    return re.search(r'/responses"[^>]*>([^<]*)</a>', row).group(1)


def test_a_page_shows_its_share_of_the_points_in_tree_order_with_their_counts(
    client, points, monkeypatch
):
    monkeypatch.setattr(views_staff, "POINTS_PER_PAGE", 2, raising=False)
    answer(points["Quầy Đa Kao 2"], 3, flagged=1)
    answer(points["Quầy Thảo Điền"], 2)
    login(client, "admin@x.vn")
    in_order = ["Quầy Bến Nghé", "Quầy Đa Kao 1", "Quầy Đa Kao 2", "Quầy Thảo Điền"]
    tokens = [points[label].token for label in in_order]

    first = client.get("/staff/").get_data(as_text=True)
    second = client.get("/staff/?page=2").get_data(as_text=True)

    assert shown_points(first) == tokens[:2]
    assert shown_points(second) == tokens[2:]
    assert counts_shown(second, tokens[2]) == "3"
    assert counts_shown(second, tokens[3]) == "2"
    assert "Phường Bến Nghé" in first and "Phường Thảo Điền" not in first
    assert "Phường Đa Kao" in first and "Phường Đa Kao" in second  # a unit across two pages
    assert 'href="/staff/?page=2"' in first and 'href="/staff/?page=1"' in second
    assert client.get("/staff/?page=3").status_code == 404


def test_a_commune_s_points_on_one_page_without_links_to_others(client, points):
    login(client, "manager@x.vn")
    html = client.get("/staff/").get_data(as_text=True)
    assert sorted(shown_points(html)) == sorted(
        points[label].token for label in ("Quầy Bến Nghé", "Quầy Đa Kao 1", "Quầy Đa Kao 2")
    )
    assert "?page=" not in html


def test_the_page_asks_as_many_statements_for_many_points_as_for_few(app, points, tree):
    client = signed_in(app, "admin@x.vn")
    few = queries_of(client, "/staff/")
    for i in range(30):
        add_point(tree["26734" if i % 2 else "26800"], f"Quầy thêm {i}", actor=None)
    db.session.commit()
    assert queries_of(client, "/staff/") == few

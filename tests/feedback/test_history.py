"""A case's history in the reader's language: each move's detail said in words."""

import pytest

from core.extensions import db
from feedback.history import detail_lines
from feedback.services import apply_action
from feedback.workflow import Action
from tests.conftest import login, signed_in


@pytest.mark.parametrize(
    ("detail", "lines"),
    [
        ("channel=hotline", ["Channel: 1022 hotline"]),
        ("outcome=outside; due=2025-03-17", ["Classification: Outside this unit's competence",
                                             "Due: 17 Mar 2025"]),
        ("outcome=not_accepted", ["Classification: Not accepted"]),
        ("unit=26734; handler=a@x.vn", ["Unit: 26734", "Handler: a@x.vn"]),
        ("from=26734; to=26737; due=2025-03-17", ["Unit: 26734 → 26737", "Due: 17 Mar 2025"]),
        ("agency=Sở Xây dựng; phòng A=B", ["Competent agency: Sở Xây dựng; phòng A=B"]),
        ("due=2025-03-17; on_time=no; publish_due=2025-03-24",
         ["Due: 17 Mar 2025", "Answered after the due date", "Publish by: 24 Mar 2025"]),
        ("satisfied=False", ["Not satisfied"]),
        ("photo_removed=2 (unreadable)", ["Photo 2 removed: it could not be read"]),
        ("retention_days=365", ["Retention period: 365 days"]),
        ("mail=answered; sent", ["“Answered” sent"]),
        ("mail=received; not sent; attempts=10; reason=attempts",
         ["“Received” not sent: given up after 10 attempts"]),
        ("mail=rejected; not sent; attempts=1; reason=550",
         ["“Not accepted” not sent: the mail server refused it (550)"]),
        ("channel=fax", ["channel=fax"]),  # not one the workflow writes: as recorded
        ("something new", ["something new"]),
        (None, []),
    ],
)  # fmt: skip
def test_each_detail_the_workflow_records_is_said_in_words(i18n, detail, lines):
    assert detail_lines(detail) == lines


def test_the_case_page_says_the_history_in_the_readers_language(app, client, staff, make_case):
    case = make_case()
    manager = staff["manager"]
    apply_action(case, Action.CLASSIFY, manager, case.version, outcome="outside")
    db.session.commit()
    login(client, "manager@x.vn")
    html = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "<small>Channel: Web</small>" in html and "channel=web" not in html
    assert "<small>Classification: Outside this unit&#39;s competence</small>" in html
    assert "outcome=" not in html and "due=" not in html
    vietnamese = signed_in(app, "manager@x.vn", language="vi").get(f"/staff/cases/{case.id}").text
    assert "<small>Kênh: Trang web</small>" in vietnamese
    assert "<small>Phân loại: Ngoài thẩm quyền của đơn vị</small>" in vietnamese

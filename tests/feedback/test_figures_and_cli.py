"""Figures for the analysis module, and the retention command."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import utcnow
from feedback import figures, services
from feedback.cli import purge_personal_data
from feedback.images import Photo
from feedback.models import Case, CasePerson, CasePhoto
from feedback.services import apply_action
from feedback.workflow import Action
from tests.feedback.conftest import handle

pytestmark = pytest.mark.usefixtures("req")
MONDAY = datetime(2025, 3, 3, 2)  # 09:00 in Hà Nội


@pytest.fixture
def cases(staff, make_case):
    h = staff["handler"]
    on_time = make_case(received_at=MONDAY, channel="counter", topic="delay")
    handle(on_time, h, now=MONDAY + timedelta(days=3))  # 3 days, due 17/3
    late = make_case(received_at=MONDAY, channel="phone", topic="attitude")
    handle(late, h, now=datetime(2025, 3, 20, 2))  # 17 days, after the due date
    services.rate(late, False)
    services.rate(on_time, True)
    overdue = make_case(received_at=MONDAY, channel="web")
    apply_action(overdue, Action.CLASSIFY, h, overdue.version, outcome="competent")
    pending = make_case(received_at=datetime(2025, 3, 28, 2))
    apply_action(pending, Action.CLASSIFY, h, pending.version, outcome="competent")
    outside = make_case(received_at=MONDAY)
    apply_action(outside, Action.CLASSIFY, h, outside.version, outcome="outside")
    make_case("26800", received_at=MONDAY)
    db.session.commit()
    return {"on_time": on_time, "late": late}


def test_a_no_counts_against_the_ratio_after_a_reopening_and_a_better_rating(cases, staff, tree):
    unit, march = tree["26734"].id, (date(2025, 3, 1), date(2025, 3, 31))
    late = cases["late"]  # rated "no" in the fixture
    apply_action(late, Action.REOPEN, staff["manager"], late.version, "Chưa đủ.", now=MONDAY)
    apply_action(late, Action.ANSWER, staff["handler"], late.version, answer="Bổ sung.",
                 now=datetime(2025, 3, 21, 2))  # fmt: skip
    services.rate(late, True)
    db.session.commit()
    satisfaction = figures.handling_satisfaction([unit], *march)[unit]
    assert satisfaction == {"n": 2, "dissatisfied": 1, "rated": 2, "ratio": 0.5}
    apply_action(late, Action.REOPEN, staff["manager"], late.version, "Lại.", now=MONDAY)
    apply_action(late, Action.ANSWER, staff["handler"], late.version, answer="Lần ba.",
                 now=datetime(2025, 3, 24, 2))  # fmt: skip
    db.session.commit()  # answered again, not rated yet: its earlier "no" is still counted
    satisfaction = figures.handling_satisfaction([unit], *march)[unit]
    assert satisfaction == {"n": 2, "dissatisfied": 1, "rated": 2, "ratio": 0.5}


def test_received_by_channel_topic_and_outcome(cases, tree):
    units = [tree["26734"].id, tree["26800"].id, tree["760"].id]
    got = figures.received(units, date(2025, 3, 1), date(2025, 3, 31))
    here = got[tree["26734"].id]
    assert here["total"] == 5
    assert here["by_channel"] == {"counter": 1, "phone": 1, "web": 3}
    assert here["by_topic"] == {"delay": 4, "attitude": 1}
    assert here["by_outcome"] == {"competent": 4, "outside": 1}
    assert got[tree["26800"].id]["by_outcome"] == {"unclassified": 1}
    assert got[tree["760"].id] == {"total": 0, "by_channel": {}, "by_topic": {}, "by_outcome": {}}
    assert figures.received(units, date(2025, 4, 1), date(2025, 4, 30))[units[0]]["total"] == 0


def test_decision_766_ratios(cases, tree):
    unit = tree["26734"].id
    march = (date(2025, 3, 1), date(2025, 3, 31))
    # On 1/4/2025: on_time answered in time, late answered late, overdue unanswered and past
    # its due date (17/3), pending received 28/3 not yet due; outside, classified outside the
    # unit's competence, is still not forwarded past its forwarding deadline (10/3): late too.
    on_time = figures.handled_on_time([unit], *march, today=date(2025, 4, 1))[unit]
    assert on_time == {"n": 4, "on_time": 1, "pending": 1, "ratio": 1 / 4}
    satisfaction = figures.handling_satisfaction([unit], *march)[unit]
    assert satisfaction == {"n": 2, "dissatisfied": 1, "rated": 2, "ratio": 0.5}
    assert figures.median_days_to_answer([unit, tree["760"].id], *march) == {
        unit: 10.0,  # (3 + 17) / 2
        tree["760"].id: None,
    }
    assert figures.open_and_overdue([unit], date(2025, 4, 1))[unit] == {"open": 3, "overdue": 2}


def test_a_case_left_unclassified_past_its_due_date_is_late(cases, staff, make_case, tree):
    other, march = tree["26800"].id, (date(2025, 3, 1), date(2025, 3, 31))
    # The fixture's case at 26800 came on 3/3 and was never classified: due 17/3.
    make_case("26800", received_at=datetime(2025, 3, 28, 2))  # unclassified, due in April
    on_time = figures.handled_on_time([other], *march, today=date(2025, 4, 1))[other]
    assert on_time == {"n": 1, "on_time": 0, "pending": 1, "ratio": 0.0}
    assert figures.open_and_overdue([other], date(2025, 4, 1))[other] == {"open": 2, "overdue": 1}
    # Before its due date it is pending, as a classified case is.
    on_time = figures.handled_on_time([other], *march, today=date(2025, 3, 17))[other]
    assert on_time == {"n": 0, "on_time": 0, "pending": 2, "ratio": None}


def test_a_case_forwarded_or_not_accepted_leaves_the_ratio(cases, staff, tree):
    unit, march = tree["26734"].id, (date(2025, 3, 1), date(2025, 3, 31))
    outside = db.session.scalar(select(Case).where(Case.outcome == "outside"))
    apply_action(outside, Action.FORWARD, staff["handler"], outside.version,
                 agency="Sở Tài nguyên và Môi trường")  # fmt: skip
    db.session.commit()
    on_time = figures.handled_on_time([unit], *march, today=date(2025, 4, 1))[unit]
    assert on_time == {"n": 3, "on_time": 1, "pending": 1, "ratio": 1 / 3}


def test_purge_deletes_personal_data_after_retention(app, staff, make_case, runner):
    app.config["FEEDBACK_RETENTION_DAYS"] = 30
    photo = Photo(b"\xff\xd8jpeg", 1, 1)
    old = make_case(person={"name": "Võ E", "email": "e@x.vn"}, photos=[photo])
    recent = make_case(person={"name": "Đỗ F"})
    open_case = make_case(person={"name": "Hồ G"})
    handle(old, staff["handler"], now=utcnow() - timedelta(days=31))
    handle(recent, staff["handler"], now=utcnow() - timedelta(days=5))
    assert purge_personal_data(dry_run=True) == 1
    result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 0 and "Purged the personal data of 1 case." in result.output
    db.session.expire_all()
    assert db.session.scalar(select(CasePerson).where(CasePerson.case_id == old.id)) is None
    assert db.session.scalar(select(CasePhoto)) is None
    kept = db.session.get(Case, old.id)
    assert kept.content and kept.answer and kept.personal_data_purged_at is not None
    assert [e.action for e in kept.events][-1] == "purge" and len(kept.events) == 5
    assert {p.name for p in db.session.scalars(select(CasePerson))} == {"Đỗ F", "Hồ G"}
    again = runner.invoke(args=["feedback", "purge"])  # safe to run again from cron
    assert again.exit_code == 0 and "of 0 cases" in again.output
    assert open_case.person is not None


def test_declare_and_list_days(runner):
    result = runner.invoke(args=["feedback", "declare", "2025-01-24", "--off", "--note", "bù"])
    assert result.exit_code == 0
    listing = runner.invoke(args=["feedback", "days", "2025"]).output
    assert "2025-01-24\toff\tdeclared bù" in listing
    assert "2025-04-26\tworking\tbuilt-in" in listing and "2025-01-29\toff\tbuilt-in" in listing
    bad = runner.invoke(args=["feedback", "declare", "24/1/2025", "--off"])
    assert bad.exit_code != 0


def test_days_and_declare_refuse_bad_input_clearly(runner):
    huge = runner.invoke(args=["feedback", "days", "99999"])
    assert huge.exit_code == 2 and "99999 is not in the range" in huge.output
    usage = runner.invoke(args=["feedback", "declare", "--help"]).output
    assert "declare [OPTIONS] YYYY-MM-DD" in usage
    bad = runner.invoke(args=["feedback", "declare", "2026-13-01", "--off"])
    assert bad.exit_code == 2 and "Invalid value for 'YYYY-MM-DD'" in bad.output
    for flags in ([], ["--off", "--working"], ["--working", "--off"]):
        unsaid = runner.invoke(args=["feedback", "declare", "2026-12-07", *flags])
        assert unsaid.exit_code == 2, flags
        said = "choose one of --off (a day off) and --working (a make-up working day)"
        assert said in unsaid.output
    assert "2026-12-07" not in runner.invoke(args=["feedback", "days", "2026"]).output

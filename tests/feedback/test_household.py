"""Household-register "yes" answers reach staff as cases, and a flood of them stays one case."""

import threading

from sqlalchemy import func, select

from analysis.frame import load_frame
from analysis.indexes import MEASURES, Query, compute
from core.extensions import db
from core.models import local_today
from feedback.household import open_case_for_household_register
from feedback.models import Case, Channel, Topic
from feedback.services import apply_action
from feedback.workflow import Action
from survey.models import CRITERIA, Response
from tests.conftest import new_client, page_forms, signed_in, thanked


def filled_in(client, point, i: int, hk: str = "yes") -> tuple:
    """The client and the public survey form it filled in: answers that differ with i, so that
    none is a resend."""
    page = client.get(f"/s/{point.token}")
    assert page.status_code == 200
    form = page_forms(page.get_data(as_text=True))[-1]
    data = dict(form["fields"]) | {code: "4" for code in CRITERIA} | {"HK": hk}
    data |= {"A1": str(i % 5 + 1), "A2": str(i // 5 % 5 + 1), "A3": str(i // 25 % 5 + 1)}
    return client, {"action": form["action"], "fields": data}


def answer(client, point, i: int, hk: str = "yes"):
    """Post the public survey form: answers that differ with i, so that none is a resend."""
    _client, form = filled_in(client, point, i, hk)
    assert thanked(client.post(form["action"], data=form["fields"]))


def survey_cases() -> list[Case]:
    return list(
        db.session.scalars(select(Case).where(Case.channel == Channel.SURVEY).order_by(Case.id))
    )


def household_register_rate(unit_code: str) -> tuple[int, float]:
    today = local_today()
    table = compute(load_frame(), Query(today.replace(day=1), today))
    u, m = table.tree.codes.index(unit_code), MEASURES.index("household_register_asked")
    return int(table.n[u, m]), float(table.estimate[u, m])


def test_a_yes_opens_a_case_of_its_own(app, point):
    answer(new_client(app), point, 0, hk="no")
    assert survey_cases() == []
    answer(new_client(app), point, 1)
    [case] = survey_cases()
    response = db.session.scalar(select(Response).where(Response.hk.is_(True)))
    assert case.response_id == response.id and case.unit_id == point.unit_id
    assert case.point_id == point.id and case.survey_answers is None
    assert case.topic == Topic.DOCUMENTS_FEES and case.person is None
    assert "104/2022" in case.content and f"(phiếu số {response.id})" in case.content


def test_one_phone_answering_yes_again_and_again_makes_one_more_case(app, point):
    app.config["FEEDBACK_SURVEY_CASES_PER_POINT_DAY"] = 100  # the phone alone counts here
    phone = new_client(app)  # keeps its cookie: the same phone
    for i in range(12):
        answer(phone, point, i)
    flags = db.session.scalars(select(Response.flags).order_by(Response.id)).all()
    assert flags[0] == "" and all("repeat_device" in f for f in flags[1:])
    first, days = survey_cases()
    assert first.survey_answers is None  # the first answer was not flagged
    assert days.survey_answers == 11 and days.point_id == point.id
    first_id = db.session.scalar(select(func.min(Response.id)).where(Response.flags != ""))
    assert days.response_id == first_id and "104/2022" in days.content
    # The survey's figures still count every answer.
    assert household_register_rate("26734") == (12, 1.0)


def test_past_the_days_first_cases_the_counters_answers_join_one(app, point):
    app.config["FEEDBACK_SURVEY_CASES_PER_POINT_DAY"] = 3
    for i in range(8):  # each from a phone of its own: nothing flagged (a burst needs 10)
        answer(new_client(app), point, i)
    assert db.session.scalar(select(func.count()).where(Response.flags != "")) == 0
    cases = survey_cases()
    assert [c.survey_answers for c in cases] == [None, None, None, 5]
    answer(new_client(app), point, 9, hk="no")
    assert household_register_rate("26734") == (9, 8 / 9)


def test_a_burst_joins_the_days_case(app, point):
    app.config["FEEDBACK_SURVEY_CASES_PER_POINT_DAY"] = 100
    for i in range(12):
        answer(new_client(app), point, i)
    flags = db.session.scalars(select(Response.flags).order_by(Response.id)).all()
    assert flags[:9] == [""] * 9 and all("burst" in f for f in flags[9:])
    assert [c.survey_answers for c in survey_cases()] == [None] * 9 + [3]


def test_joining_keeps_the_case_version_and_a_closed_days_case_starts_another(
    app, point, tree, make_user
):
    app.config["FEEDBACK_SURVEY_CASES_PER_POINT_DAY"] = 0  # every answer joins
    phone = new_client(app)
    answer(phone, point, 0)
    [days] = survey_cases()
    version = days.version
    manager = make_user("ql@x.vn", "manager", tree["26734"])
    page = signed_in(app, manager.email)
    answer(phone, point, 1)
    db.session.refresh(days)
    assert (days.survey_answers, days.version) == (2, version)  # a staff form stays valid
    html = page.get(f"/staff/cases/{days.id}").get_data(as_text=True)
    assert "<dt>Survey answers it counts</dt><dd>2</dd>" in html
    apply_action(days, Action.REJECT, manager, days.version, "Trả lời hàng loạt.")
    db.session.commit()
    answer(phone, point, 2)
    assert [c.survey_answers for c in survey_cases()] == [2, 1]


def test_a_response_without_a_counter_opens_its_own_case_once(app, tree, questionnaire):
    # Typed in from paper, or a receipt's: flagged or not, never joined.
    response = Response(
        questionnaire_id=questionnaire.id, unit_id=tree["26734"].id, point_id=None,
        channel="paper", hk=True, flags="repeat_device",
    )  # fmt: skip
    db.session.add(response)
    case = open_case_for_household_register(response)
    db.session.commit()
    assert case.response_id == response.id and case.survey_answers is None
    assert open_case_for_household_register(response) is case


def test_answers_at_the_same_instant_open_one_days_case(app, point, tree, make_user):
    # Two servers' workers each record a "yes" at once, again and again (each round after the
    # day's case was closed): each round opens exactly one case, and counts both answers.
    app.config["FEEDBACK_SURVEY_CASES_PER_POINT_DAY"] = 0  # every answer joins
    manager = make_user("ql@x.vn", "manager", tree["26734"])

    def post_at_once(pair):
        barrier, codes = threading.Barrier(2), []

        def send(client, data):
            barrier.wait()
            codes.append(thanked(client.post(data["action"], data=data["fields"])))

        threads = [threading.Thread(target=send, args=each) for each in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert codes == [True, True]

    for round_ in range(5):
        post_at_once([filled_in(new_client(app), point, 2 * round_ + k) for k in range(2)])
        db.session.expire_all()
        open_ones = [c for c in survey_cases() if c.state == "received"]
        assert [c.survey_answers for c in open_ones] == [2], round_
        apply_action(open_ones[0], Action.REJECT, manager, open_ones[0].version, "Hàng loạt.")
        db.session.commit()

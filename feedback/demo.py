"""The demo province's PAKN: staff of its units and two years of cases, each taken through the
real workflow (feedback.services) at the moments it happened, so that the queue, the deadlines,
the published answers and the Decision 766 ratios all have something to show."""

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from core.accounts import create_account
from core.demo import office_moment
from core.extensions import db
from core.models import LOCAL_OFFSET, AccountEvent, Role, Unit, UnitEvent, User, utcnow
from feedback import services
from feedback.deadlines import Calendar, build_calendar
from feedback.models import Case, Channel, Kind, Topic
from feedback.workflow import ANSWERED_STATES, Action, Outcome, State
from survey.models import ReceiptCode

# What citizens write, by topic; each text a report (phản ánh) or a recommendation (kiến nghị).
TEXTS = {
    Topic.ATTITUDE: [
        (Kind.REPORT, "Cán bộ tiếp nhận hồ sơ trả lời thiếu tôn trọng, không hướng dẫn lại khi "
                      "người dân hỏi chưa rõ."),
        (Kind.REPORT, "Cán bộ bộ phận một cửa nghe điện thoại riêng trong giờ tiếp dân, để người "
                      "dân chờ lâu."),
    ],
    Topic.DELAY: [
        (Kind.REPORT, "Hồ sơ đăng ký khai sinh nộp từ đầu tháng, đã quá ngày hẹn trên giấy hẹn "
                      "mà chưa có kết quả."),
        (Kind.REPORT, "Giấy hẹn ghi trả kết quả chứng thực vào thứ Sáu nhưng đến nay vẫn chưa "
                      "nhận được, cũng không được báo lý do."),
    ],
    Topic.DOCUMENTS_FEES: [
        (Kind.REPORT, "Khi làm thủ tục đăng ký thường trú, cán bộ yêu cầu nộp thêm bản sao giấy "
                      "tờ mà thủ tục không quy định."),
        (Kind.RECOMMENDATION, "Đề nghị niêm yết rõ mức phí, lệ phí chứng thực bản sao tại bộ "
                              "phận một cửa."),
    ],
    Topic.PROCEDURE: [
        (Kind.RECOMMENDATION, "Kiến nghị cho nộp hồ sơ đăng ký kết hôn trực tuyến và nhận kết "
                              "quả qua bưu điện."),
        (Kind.REPORT, "Thủ tục xác nhận tình trạng hôn nhân phải đi lại nhiều lần vì mỗi lần "
                      "chỉ được hướng dẫn một phần giấy tờ."),
    ],
    Topic.FACILITIES: [
        (Kind.REPORT, "Khu vực chờ của bộ phận một cửa thiếu ghế, buổi sáng nhiều người phải "
                      "đứng chờ."),
        (Kind.REPORT, "Máy lấy số thứ tự hỏng nhiều ngày, người dân không biết đến lượt mình."),
        (Kind.RECOMMENDATION, "Đề nghị làm lối đi cho người khuyết tật và người cao tuổi vào "
                              "trụ sở."),
    ],
    Topic.OTHER: [
        (Kind.RECOMMENDATION, "Đề nghị niêm yết số điện thoại đường dây nóng của đơn vị tại "
                              "bảng tin."),
        (Kind.RECOMMENDATION, "Đề nghị tiếp nhận hồ sơ cả sáng thứ Bảy để người đi làm có thể "
                              "nộp."),
    ],
}  # fmt: skip
ANSWERS = {
    Topic.ATTITUDE: "Đơn vị đã kiểm điểm cán bộ có liên quan và nhắc nhở bộ phận một cửa thực "
                    "hiện đúng quy tắc ứng xử khi tiếp công dân.",
    Topic.DELAY: "Hồ sơ đã được giải quyết và trả kết quả. Bộ phận một cửa đã có văn bản xin "
                 "lỗi và rà soát quy trình để không trễ hẹn.",
    Topic.DOCUMENTS_FEES: "Đơn vị đã chấn chỉnh việc yêu cầu giấy tờ ngoài quy định; danh mục "
                          "giấy tờ và mức phí, lệ phí được niêm yết công khai tại quầy.",
    Topic.PROCEDURE: "Đơn vị tiếp thu kiến nghị; thủ tục này đã được cung cấp trực tuyến trên "
                     "Cổng Dịch vụ công quốc gia, có hướng dẫn đầy đủ giấy tờ.",
    Topic.FACILITIES: "Đơn vị đã bổ sung ghế chờ và sửa chữa thiết bị tại khu vực tiếp nhận "
                      "hồ sơ.",
    Topic.OTHER: "Đơn vị tiếp thu và đã niêm yết thông tin tại bảng tin của trụ sở.",
}  # fmt: skip
HOUSEHOLD_REGISTER_ANSWER = (
    "Đơn vị đã xác minh và nhắc nhở cán bộ không yêu cầu xuất trình sổ hộ khẩu giấy; nơi cư trú "
    "được tra cứu trên Cơ sở dữ liệu quốc gia về dân cư."
)
REJECTION = (
    "Nội dung là khiếu nại về quyết định hành chính, không phải phản ánh, kiến nghị về quy định "
    "hành chính: đề nghị gửi theo Luật Khiếu nại."
)
OUTSIDE = (
    "Kiến nghị đẩy nhanh việc cấp giấy chứng nhận quyền sử dụng đất đã nộp hồ sơ từ lâu.",
    "Văn phòng Đăng ký đất đai tỉnh",
)
CHANNELS = (Channel.COUNTER, Channel.COUNTER, Channel.WEB, Channel.WEB, Channel.PHONE,
            Channel.PAPER, Channel.HOTLINE)  # fmt: skip
STAFF_DOMAIN = "an-hoa.example.org"


def load_demo_pakn(seed: int = 2024) -> None:
    """Add the staff and the cases to the demo province survey.demo has loaded."""
    units = db.session.scalars(select(Unit).order_by(Unit.code)).all()
    add_cases(random.Random(seed), units, add_staff(units))


def add_staff(units: list[Unit]) -> dict[int, User]:
    """A manager for the province and each district, a handler for each commune, with no
    password yet: none of them signs in until an administrator invites them or sets one (and no
    slow hash is made for each). Return them by unit."""
    staff, parents = {}, {u.parent_id for u in units}
    # Made when the province set the product up: the moment survey.demo dated its units to
    # (read, not worked out again, which a load across midnight would make another day).
    set_up = db.session.scalar(select(func.min(UnitEvent.at)))
    for unit in units:
        role, prefix = (Role.MANAGER, "lanhdao") if unit.id in parents else (Role.HANDLER, "canbo")
        email = f"{prefix}.{unit.code}@{STAFF_DOMAIN}"
        staff[unit.id] = create_account(email, role, unit, None, actor=None)
        staff[unit.id].created_at = set_up
    db.session.flush()
    made = [user.id for user in staff.values()]
    db.session.execute(update(AccountEvent).where(AccountEvent.user_id.in_(made)).values(at=set_up))
    return staff


def add_cases(rng: random.Random, units: list[Unit], staff: dict[int, User]) -> None:
    """Receive two years of cases at the communes, then take every case, those the survey's
    household-register answers opened included, as far through the workflow as its age allows."""
    now = utcnow()
    parents = {u.parent_id for u in units}
    for commune in (u for u in units if u.id not in parents):
        # Over two years, more of them lately; and a few in the last weeks, still in the queue.
        ages = [rng.triangular(0, 2 * 365, 0) for _ in range(rng.randint(2, 5))]
        ages += [rng.uniform(0, 20) for _ in range(rng.randint(0, 2))]
        for age in ages:
            topic = rng.choice(list(TEXTS))
            kind, content = rng.choice(TEXTS[topic])
            if rng.random() < 0.08:
                topic, kind, content = Topic.OTHER, Kind.RECOMMENDATION, OUTSIDE[0]
            received_at = _received(rng, now - timedelta(days=age), now)
            services.create_case(
                commune, kind=kind, topic=topic, content=content, channel=rng.choice(CHANNELS),
                actor_label="citizen", received_at=received_at,
                receipt=_late_dossier(commune, received_at) if topic == Topic.DELAY else None,
            )  # fmt: skip
    cases = select(Case).where(Case.state == str(State.RECEIVED)).order_by(Case.received_at)
    # Staff act on working days, as the counters' answers come in on them (survey/demo.py).
    calendar = build_calendar(range(now.year - 3, now.year + 2))
    for case in db.session.scalars(cases).all():
        _handle(rng, case, staff[case.unit_id], staff[case.unit.parent_id], now, calendar)


def _late_dossier(commune: Unit, received_at: datetime) -> ReceiptCode | None:
    """The commune's latest dossier before the case: the one a complaint of delay is about."""
    return db.session.scalar(
        select(ReceiptCode)
        .where(ReceiptCode.unit_id == commune.id, ReceiptCode.created_at < received_at)
        .order_by(ReceiptCode.created_at.desc(), ReceiptCode.id.desc())
        .limit(1)
    )


def _received(rng: random.Random, moment: datetime, now: datetime) -> datetime:
    """A moment of the same Vietnam day in office hours, or of the day before if that is still
    to come."""
    day = (moment + LOCAL_OFFSET).date()
    at = office_moment(rng, day)
    return at if at < now else office_moment(rng, day - timedelta(days=1))


def _handle(
    rng: random.Random, case: Case, handler: User, manager: User, now: datetime, calendar: Calendar
) -> None:
    """Make the moves staff would have made on the case by now, each on its day."""
    day = case.received_on
    steps = []  # (days after the last step, actor, action, arguments)
    household = case.channel == Channel.SURVEY
    outside = case.content == OUTSIDE[0]
    if not household and not outside and rng.random() < 0.1:
        steps.append((rng.randint(1, 4), handler, Action.REJECT, {"note": REJECTION}))
    elif outside:
        steps.append((rng.randint(1, 3), handler, Action.CLASSIFY, {"outcome": Outcome.OUTSIDE}))
        forward = {"agency": OUTSIDE[1], "note": "Đã chuyển hồ sơ và báo cho người dân."}
        steps.append((rng.randint(0, 4), handler, Action.FORWARD, forward))
    else:
        outcome = (
            Outcome.DIFFICULTY if household or case.topic == Topic.ATTITUDE else Outcome.COMPETENT
        )
        answer = HOUSEHOLD_REGISTER_ANSWER if household else ANSWERS[Topic(case.topic)]
        steps.append((rng.randint(0, 3), handler, Action.CLASSIFY, {"outcome": outcome}))
        steps.append((rng.randint(0, 2), handler, Action.ASSIGN, {"handler": handler}))
        # Most answers come well within the deadline; some are late, as in real queues.
        late = rng.random() < 0.15
        steps.append((rng.randint(12, 30) if late else rng.randint(2, 9), handler, Action.ANSWER,
                      {"answer": answer}))  # fmt: skip
        if rng.random() < 0.85:
            steps.append((rng.randint(1, 6), manager, Action.PUBLISH,
                          {"summary": case.content, "published_answer": answer}))  # fmt: skip
        else:
            steps.append((rng.randint(1, 6), manager, Action.CLOSE, {}))
    moment = case.received_at
    for days, actor, action, arguments in steps:
        day += timedelta(days=days)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
        # A move on the same day as the one before comes after it.
        at = max(office_moment(rng, day), moment + timedelta(minutes=rng.randint(5, 90)))
        if at >= now:
            break
        moment = at
        services.apply_action(case, action, actor, case.version, now=moment, **arguments)
    # Some citizens say, from the tracking page, whether the answer satisfied them; nobody
    # holds the tracking code of a case a survey answer opened.
    if case.state in ANSWERED_STATES and not household and rng.random() < 0.4:
        rated = moment + timedelta(hours=rng.randint(2, 72))
        if rated < now:
            services.rate(case, satisfied=rng.random() < 0.8, now=rated)

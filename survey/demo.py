"""A demo province: units, counters, a staff login and two years of plausible responses."""

import random
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from core.demo import CLOSING, office_moment, set_up_moment
from core.extensions import db
from core.models import LOCAL_OFFSET, Role, Unit, UnitEvent, User, local_day_start, utcnow
from core.unit_history import record_changes
from core.unit_tree import rebuild_paths
from feedback.household import open_case_for_household_register
from survey.integrity import device_hash, exclude_response, issue_receipts
from survey.models import CRITERIA, Channel, PointEvent, Response
from survey.questionnaires import current_questionnaire, load_questionnaire
from survey.services import add_point, point_url, record_response

# A fictional province with official-looking codes: 2 digits, 3 for a district, 5 for a commune.
PROVINCE = ("97", "Tỉnh An Hòa", 1_250_000)
DISTRICTS = [
    ("980", "Thành phố Tân An Hòa", "Thành phố", [
        ("31001", "Phường Phú Mỹ"), ("31002", "Phường Hòa Lợi"), ("31003", "Xã Tân Định")]),
    ("981", "Huyện Sông Trà", "Huyện", [
        ("31010", "Thị trấn Sông Trà"), ("31011", "Xã Bình Phước"), ("31012", "Xã Long Điền"),
        ("31013", "Xã Mỹ Thạnh")]),
    ("982", "Huyện Đồng Xuân", "Huyện", [
        ("31020", "Thị trấn Đồng Xuân"), ("31021", "Xã Hưng Nhơn"), ("31022", "Xã Quảng Phú"),
        ("31023", "Xã Tịnh Hà"), ("31024", "Xã Ấp Bắc")]),
]  # fmt: skip
DEMO_EMAIL = "quantri@an-hoa.example.org"
# The morning someone filled in one counter's form a dozen times, and why it was left out.
STUFFED = 12
STUFFED_REASON = (
    "Một người điền liên tiếp 12 phiếu giống hệt nhau trong vài phút, không phải ý kiến người dân."
)
# What some citizens write in the comment box, by how the visit went.
PRAISE = (
    "Cán bộ hướng dẫn tận tình, hồ sơ xong đúng hẹn.",
    "Thủ tục nhanh gọn, không phải chờ lâu.",
    "Cảm ơn chị ở quầy đã giải thích rõ ràng từng bước.",
    "Nộp hồ sơ trực tuyến rồi chỉ đến nhận kết quả, rất tiện.",
)
COMPLAINTS = (
    "Phải chờ gần hai tiếng mới đến lượt.",
    "Mỗi lần đến lại được yêu cầu bổ sung một giấy tờ khác.",
    "Khu vực chờ chật, thiếu ghế ngồi.",
    "Trễ hẹn trả kết quả mà không ai báo trước.\nĐề nghị nhắn tin khi hồ sơ có kết quả.",
    "Không biết nộp phí ở đâu, phải hỏi nhiều người.",
)


def has_data() -> bool:
    return db.session.scalar(select(Unit.id).limit(1)) is not None


def load_demo(base_url: str, seed: int = 2024) -> tuple[tuple[str, str], str]:
    """Create the demo data; return ((e-mail, password), the URL of one survey point)."""
    rng = random.Random(seed)
    questionnaire = current_questionnaire() or load_questionnaire()[0]
    code, name, population = PROVINCE
    province = Unit(code=code, name=name, level="Tỉnh", population=population)
    db.session.add(province)
    districts, communes = [], []
    for dcode, dname, dlevel, commune_list in DISTRICTS:
        district = Unit(
            code=dcode,
            name=dname,
            level=dlevel,
            parent=province,
            population=rng.randint(90_000, 250_000),
        )
        db.session.add(district)
        districts.append(district)
        for ccode, cname in commune_list:
            level = cname.split(" ")[0] if not cname.startswith("Thị trấn") else "Thị trấn"
            commune = Unit(
                code=ccode,
                name=cname,
                level=level,
                parent=district,
                population=rng.randint(6_000, 30_000),
            )
            db.session.add(commune)
            communes.append(commune)
    db.session.flush()
    rebuild_paths()
    # As an import from the command line would: each unit added, by no account.
    units = {u.code: u for u in (province, *districts, *communes)}
    record_changes({}, units, units, source="demo", sha256=None, actor=None)
    points = []
    for commune in communes:
        for counter in range(1, rng.choice((1, 2, 2)) + 1):
            points.append(add_point(commune, f"Quầy {counter}", actor=None))
    password = secrets.token_urlsafe(12)
    admin = User(email=DEMO_EMAIL, role=Role.ADMIN)
    admin.set_password(password)
    db.session.add(admin)
    db.session.flush()
    _date_the_set_up(units.values(), points, admin)
    _add_responses(rng, points, questionnaire, admin)
    return (DEMO_EMAIL, password), point_url(points[0], base_url)


def _date_the_set_up(units, points, admin: User) -> None:
    """Date the units' import, the counters and the administrator's account to the day the
    province set the product up (core.demo.set_up_moment), before their two years of answers:
    not to the day `demo load` ran."""
    set_up = set_up_moment(utcnow())
    admin.created_at = set_up
    for point in points:
        point.created_at = set_up
    unit_ids, point_ids = [u.id for u in units], [p.id for p in points]
    db.session.execute(update(UnitEvent).where(UnitEvent.unit_id.in_(unit_ids)).values(at=set_up))
    db.session.execute(
        update(PointEvent).where(PointEvent.point_id.in_(point_ids)).values(at=set_up)
    )


def _add_responses(rng: random.Random, points, questionnaire, admin: User) -> None:
    """Two years of answers at the counters, recorded as the survey page records them (in time
    order, each checked against those before it, so the flags are the real ones), then the
    household-register cases and the dossiers' answers."""
    codes = [c["code"] for c in questionnaire.criteria()]
    procedures = [p["code"] for p in questionnaire.data["procedures"]]
    now = utcnow()
    visits = _visits(rng, points, codes, procedures, now)
    stuffed = _stuffed(rng, points, now)
    secret = current_app.config["SECRET_KEY"]
    for moment, point, channel, phone, answers in sorted(visits + stuffed, key=lambda v: v[0]):
        record_response(
            unit_id=point.unit_id,
            point_id=None if channel is Channel.PAPER else point.id,  # typed in the back office
            questionnaire=questionnaire,
            answers=answers,
            submission_key=f"demo-{rng.getrandbits(128):032x}",
            channel=channel,
            device=device_hash(secret, phone),
            config=None if channel is Channel.PAPER else current_app.config,
            submitted_at=moment,
        )
        db.session.flush()  # the next answer's checks read the answers written before it
    _exclude_stuffed(stuffed, admin)
    breaches = []
    # The communes in the points' order (a set's order would change the draws from run to run).
    for commune in dict.fromkeys(point.unit for point in points):
        breaches += _add_dossiers(rng, commune, questionnaire, codes, procedures, now)
    # Each "yes" to the household-register question opens a case, as a citizen's answer does.
    db.session.flush()
    for response in breaches:
        open_case_for_household_register(response)


def _visits(rng: random.Random, points, codes, procedures, now) -> list[tuple]:
    """Each counter's answers: (moment, point, channel, the phone's cookie or None, answers).
    A year ago the first counter of each commune of the city, and of each district's first
    commune, got a screen showing its changing code (the presence channel); some phones keep no
    cookie; a few citizens answer twice in a visit (before and after collecting their papers):
    the same phone, flagged."""
    city = points[0].unit.parent_id
    firsts = {}
    for point in points:
        firsts.setdefault(
            point.unit_id if point.unit.parent_id == city else point.unit.parent_id, point
        )
    screens = {point.id: now - timedelta(days=365) for point in firsts.values()}
    visits = []
    for point in points:
        quality = rng.uniform(0.55, 0.9)  # how often this counter satisfies
        for _ in range(rng.randint(12, 45)):
            moment = _at_the_counter(rng, now)
            answers = _answers(rng, codes, quality)
            answers["procedure"] = rng.choice(procedures) if rng.random() < 0.7 else None
            if rng.random() < 0.15:
                visits.append((moment, point, Channel.PAPER, None, answers))
                continue
            screen = point.id in screens and moment >= screens[point.id] and rng.random() < 0.8
            channel = Channel.PRESENCE if screen else Channel.STATIC
            phone = None if rng.random() < 0.1 else f"{rng.getrandbits(128):032x}"
            visits.append((moment, point, channel, phone, answers))
            later = moment + timedelta(minutes=rng.randint(20, 90))
            closing = local_day_start((moment + LOCAL_OFFSET).date()) + timedelta(minutes=CLOSING)
            if phone and rng.random() < 0.05 and later < min(now, closing):
                again = _answers(rng, codes, quality) | {"procedure": answers["procedure"]}
                visits.append((later, point, channel, phone, again))
    return visits


def _stuffed(rng: random.Random, points, now) -> list[tuple]:
    """One morning last quarter, someone at a quiet counter filled in the form a dozen times
    in a few minutes, all fives, from phones without cookies (private windows)."""
    point = rng.choice(points)
    day = (now + LOCAL_OFFSET).date() - timedelta(days=rng.randint(20, 90))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    start = local_day_start(day) + timedelta(hours=8, minutes=rng.randint(0, 90))
    codes = [c.lower() for c in CRITERIA]
    answers = {code: 5 for code in codes} | {"hk": False, "comment": None, "procedure": None}
    return [
        (start + timedelta(seconds=35 * i), point, Channel.STATIC, None, dict(answers))
        for i in range(STUFFED)
    ]


def _exclude_stuffed(stuffed: list[tuple], admin: User) -> None:
    """The administrator saw the flags the next day and left the dozen answers out, saying why."""
    moment, point = stuffed[0][0], stuffed[0][1]
    answers = db.session.scalars(
        select(Response)
        .where(Response.point_id == point.id, Response.submitted_at >= moment)
        .where(Response.submitted_at <= stuffed[-1][0], Response.device_hash.is_(None))
    ).all()
    for response in answers:
        exclusion = exclude_response(response, admin, STUFFED_REASON)
        exclusion.excluded_at = moment + timedelta(days=1)


def _at_the_counter(rng: random.Random, now) -> datetime:
    """A moment of the last two years when the counters are open (office_moment) on a working
    day, Monday to Friday; never in the future."""
    while True:
        day = (now + LOCAL_OFFSET).date() - timedelta(days=rng.randint(0, 2 * 365))
        moment = office_moment(rng, day)
        if day.weekday() < 5 and moment < now:
            return moment


def _answers(rng: random.Random, codes: list[str], quality: float) -> dict:
    """A citizen's answers, more often satisfied the better the counter (quality 0-1)."""
    person = min(1.0, max(0.0, rng.gauss(quality, 0.15)))
    answers = {}
    for code in codes:
        if code[0] == "E" and code != "E1" and rng.random() < 0.6:
            answers[code.lower()] = rng.choice((None, 0))  # never gave feedback
        elif rng.random() < 0.03:
            answers[code.lower()] = None
        elif rng.random() < person:
            answers[code.lower()] = rng.choice((4, 5, 5))
        else:
            answers[code.lower()] = rng.choice((1, 2, 3, 3))
    comment = None
    if rng.random() < 0.12:
        pleased = sum(v in (4, 5) for v in answers.values()) > len(codes) / 2
        comment = rng.choice(PRAISE if pleased else COMPLAINTS)
    return answers | {"hk": rng.random() < 0.03, "comment": comment}


def _at_home(rng: random.Random, issued: datetime) -> datetime:
    """When a citizen answers through the code on their receipt: at home, some time in the six
    days after the dossier was received, between 6:00 and 22:00 in Vietnam."""
    day = (issued + LOCAL_OFFSET).date() + timedelta(days=rng.randint(0, 6))
    moment = local_day_start(day) + timedelta(minutes=rng.randint(6 * 60, 22 * 60))
    return max(moment, issued + timedelta(minutes=rng.randint(30, 90)))


def _add_dossiers(rng, commune, questionnaire, codes, procedures, now) -> list[Response]:
    """The commune's dossiers of the last two years: a batch of receipt codes each month, as
    the counter prints them (issued from the command line), a quarter of them answered through
    the code on the receipt. Return the answers that said yes to the household register."""
    quality, answered_by = rng.uniform(0.55, 0.9), []
    today = (now + LOCAL_OFFSET).date()
    for months_ago in range(24, -1, -1):
        day = today - timedelta(days=30 * months_ago + rng.randint(0, 29))
        day -= timedelta(days=max(0, day.weekday() - 4))  # a weekend's batch is Friday's
        issued = office_moment(rng, day)  # printed at the counter, in its hours
        if issued >= now:
            continue
        procedure = rng.choice(procedures)
        for receipt in issue_receipts(
            commune, rng.randint(2, 8), timedelta(days=30), procedure, issued_by=None
        ):
            receipt.created_at, receipt.expires_at = issued, issued + timedelta(days=30)
            answered = _at_home(rng, issued)
            if rng.random() < 0.25 and answered < now:
                answers = _answers(rng, codes, quality)
                response = Response(questionnaire_id=questionnaire.id, **answers)
                response.unit_id, response.submitted_at = commune.id, answered
                response.channel, response.procedure = str(Channel.RECEIPT), procedure
                db.session.add(response)
                receipt.used_at = answered
                answered_by.append((receipt, response))
    db.session.flush()  # the answers' ids, for their receipts
    for receipt, response in answered_by:
        receipt.response_id = response.id
    return [response for _receipt, response in answered_by if response.hk]

"""E-mails to citizens, through a real SMTP server (aiosmtpd) in the test process."""

import threading
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.mail import NO_SMTPUTF8
from core.models import utcnow
from feedback import codes, mailer, outbox
from feedback.cli import purge_personal_data
from feedback.mail import mailable
from feedback.models import Case, CaseEvent, CaseMail, CasePerson
from feedback.services import apply_action
from feedback.workflow import Action
from tests.conftest import free_port, login, page_forms
from tests.feedback.conftest import handle
from tests.feedback.test_citizen import send

ADDRESS = "nguyen.a@dan.vn"
PERSON = {"name": "Nguyễn Thị Á", "email": ADDRESS}


def rows(case=None) -> list[CaseMail]:
    query = select(CaseMail).order_by(CaseMail.id)
    if case is not None:
        query = query.where(CaseMail.case_id == case.id)
    return list(db.session.scalars(query))


def later(minutes=0.0):
    return utcnow() + timedelta(minutes=minutes)


def body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_received_then_answered_each_sends_one_mail_in_vietnamese(mailbox, make_case, staff, req):
    case = make_case(person=PERSON)
    assert [m.event for m in rows()] == ["received"] and rows()[0].locale == "vi"

    run = mailer.send_due(later())
    assert (run.sent, run.retrying, run.dropped, run.given_up) == (1, 0, 0, [])
    sender, recipients, message, envelope = mailbox.only()
    code = codes.display(case.code)
    assert sender == "pakn@hailong.test" and recipients == [ADDRESS]
    assert message["To"] == ADDRESS
    assert message["From"].addresses[0].display_name == "Hài Lòng – PAKN"
    assert message["Subject"] == f"PAKN {code} – Đã tiếp nhận"
    raw_subject = next(line for line in envelope.content.split(b"\r\n") if line.startswith(b"Subj"))
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject  # encoded for the wire
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "vi"
    assert message["Message-ID"].endswith("@hailong.test>")
    assert abs(parsedate_to_datetime(message["Date"]).replace(tzinfo=None) - utcnow()) < timedelta(
        minutes=1
    )
    text = body(message)
    assert text.startswith("Kính gửi ông/bà,\n")  # never the name: see the next test
    assert "Nguyễn Thị Á" not in text and code in text
    assert f"http://survey.test/track/{case.code}\n" in text
    assert "Trạng thái: Đã tiếp nhận, chờ phân loại" in text
    assert "Đơn vị: Phường Bến Nghé" in text
    day = case.received_on
    assert f"Ngày gửi: {day.day}/{day.month}/{day.year}" in text
    assert ADDRESS not in text

    assert mailer.send_due(later(5)).sent == 0 and mailbox.messages == []  # sent once only
    handle(case, staff["handler"], "Đã giải quyết xong.")  # classify, assign: no mail
    assert [m.event for m in rows()] == ["received", "answered"]
    assert mailer.send_due(later()).sent == 1
    _s, _r, message, _e = mailbox.only()
    assert message["Subject"] == f"PAKN {code} – Đã trả lời"
    text = body(message)
    assert f"http://survey.test/track/{case.code}#rating" in text
    assert "Đã giải quyết xong." not in text  # the answer is read on the tracking page
    apply_action(case, Action.PUBLISH, staff["manager"], case.version, summary="Đã xử lý.",
                 published_answer="Đã giải quyết.")  # fmt: skip
    db.session.commit()
    assert len(rows()) == 2 and mailer.send_due(later()).sent == 0
    history = db.session.scalars(
        select(CaseEvent.detail).where(CaseEvent.case_id == case.id, CaseEvent.action == "mail")
    ).all()
    assert history == ["mail=received; sent", "mail=answered; sent"]


def test_a_case_sent_from_an_english_page_is_told_in_english(mailbox, client, point):
    url = f"/pakn/new?point={point.token}"
    html = client.get(url).get_data(as_text=True)
    assert "we will write to you when your PAKN is received and when it is answered" in html
    response = send(client, url, name="Jane Roe", email="jane@example.org", consent="y")
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.locale == "en"
    assert mailer.send_due(later()).sent == 1
    _s, recipients, message, _e = mailbox.only()
    assert recipients == ["jane@example.org"]
    assert message["Subject"] == f"PAKN {codes.display(case.code)} – Received"
    assert message["Content-Language"] == "en"
    text = body(message)
    assert text.startswith("Hello,\n") and "Jane Roe" not in text
    assert "Status: Received, to be classified" in text
    assert f"Sent on: {case.received_on.day} {case.received_on:%b %Y}" in text
    assert "Answer due by:" in text


def test_not_accepted_and_forwarded_say_why_as_the_tracking_page_does(mailbox, make_case, staff,
                                                                      req):  # fmt: skip
    h = staff["handler"]
    rejected = make_case(person=PERSON)
    reason = "Nội dung là khiếu nại, không phải PAKN."
    apply_action(rejected, Action.REJECT, h, rejected.version, reason)
    forwarded = make_case(person={"email": "b@dan.vn"})
    apply_action(forwarded, Action.CLASSIFY, h, forwarded.version, outcome="outside")
    apply_action(forwarded, Action.FORWARD, h, forwarded.version, "Xin liên hệ Sở Xây dựng.",
                 agency="Sở Xây dựng tỉnh")  # fmt: skip
    db.session.commit()
    assert [m.event for m in rows(rejected)] == ["received", "rejected"]
    assert [m.event for m in rows(forwarded)] == ["received", "forwarded"]
    assert mailer.send_due(later()).sent == 4
    by_subject = {m["Subject"]: body(m) for _s, _r, m, _e in mailbox.messages}
    text = by_subject[f"PAKN {codes.display(rejected.code)} – Không tiếp nhận"]
    assert f"Lý do không tiếp nhận:\n{reason}" in text
    assert "Hạn trả lời" not in text  # no longer due: the tracking page does not show it
    text = by_subject[f"PAKN {codes.display(forwarded.code)} – Đã chuyển cơ quan có thẩm quyền"]
    assert "Đã chuyển đến: Sở Xây dựng tỉnh\nXin liên hệ Sở Xây dựng." in text
    assert text.startswith("Kính gửi ông/bà,\n")  # no name was left


def test_a_case_classified_outside_before_its_mail_left_gives_the_forwarding_date(
    mailbox, make_case, staff, req
):
    case = make_case(person=PERSON)
    apply_action(case, Action.CLASSIFY, staff["handler"], case.version, outcome="outside")
    db.session.commit()
    assert mailer.send_due(later()).sent == 1
    text = body(mailbox.only()[2])
    due = f"{case.due_on.day}/{case.due_on.month}/{case.due_on.year}"
    assert "Trạng thái: Đã thụ lý, sẽ chuyển cơ quan có thẩm quyền" in text
    assert f"Sẽ được chuyển đến cơ quan có thẩm quyền trước ngày: {due}\n" in text
    assert "Hạn trả lời" not in text  # the tracking page does not call it the answer's date


def test_anonymous_cases_and_cases_without_an_email_queue_nothing(mailbox, make_case, staff, req):
    anonymous = make_case()
    by_phone = make_case(person={"name": "Trần B", "phone": "0912 345 678"})
    for case in (anonymous, by_phone):
        handle(case, staff["handler"])
    assert rows() == []
    assert mailer.send_due(later()).sent == 0 and mailbox.messages == []


def test_with_mail_off_nothing_is_queued_and_the_page_says_nothing(app, client, point, runner):
    assert not app.config["MAIL_SERVER"]
    html = client.get(f"/pakn/new?point={point.token}").get_data(as_text=True)
    assert "we will write to you" not in html
    assert send(client, f"/pakn/new?point={point.token}", email="a@dan.vn", consent="y")
    assert db.session.scalar(select(Case)).person.email == "a@dan.vn"
    assert rows() == []
    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 0 and "Mail is off" in result.output


def test_purge_deletes_the_rows_and_nothing_is_sent_after(mailbox, make_case, staff, req):
    old = make_case(person=PERSON)
    apply_action(old, Action.REJECT, staff["handler"], old.version, "Không đủ thông tin.")
    db.session.commit()
    mailer.send_due(later())  # both sent: the received one and the rejected one
    open_case = make_case(person={"email": "c@dan.vn"})
    assert len(rows(old)) == 2 and len(rows(open_case)) == 1
    mailbox.messages.clear()
    assert purge_personal_data(now=utcnow() + timedelta(days=400)) == 1
    db.session.commit()
    assert rows(old) == [] and len(rows(open_case)) == 1  # the open case keeps its own
    assert db.session.get(CasePerson, old.id) is None


def test_a_row_whose_address_is_gone_is_dropped_unsent(mailbox, make_case, staff, req):
    case = make_case(person=PERSON)
    case.person = None  # as a purge would leave it
    db.session.commit()
    run = mailer.send_due(later())
    assert (run.sent, run.dropped) == (0, 1)
    assert mailbox.messages == [] and rows() == []


def test_an_answer_undone_before_the_mail_left_is_not_announced(mailbox, make_case, staff, req):
    case = make_case(person=PERSON)
    handle(case, staff["handler"])
    apply_action(case, Action.REOPEN, staff["manager"], case.version, "Chưa đủ.")
    db.session.commit()
    run = mailer.send_due(later())
    assert (run.sent, run.dropped) == (1, 1)  # received is still true; answered no longer
    assert mailbox.only()[2]["Subject"].endswith("Đã tiếp nhận")


def test_server_down_then_up_retries_and_sends_once(mailbox, make_case, app, runner, req):
    make_case(person=PERSON)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    start = utcnow()
    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 1
    assert "the mail server cannot be used: 127.0.0.1:" in result.output
    assert "1 to try again" in result.output
    [mail] = rows()
    assert mail.attempts == 1 and mail.sent_at is None and mail.gave_up_at is None
    assert "unreachable" in mail.last_error
    assert start + timedelta(seconds=50) < mail.next_attempt_at < utcnow() + timedelta(minutes=2)

    app.config["MAIL_PORT"] = mailbox.port
    assert mailer.send_due(later(0.5)).sent == 0  # not due yet
    assert mailer.send_due(later(1.5)).sent == 1
    assert mailer.send_due(later(30)).sent == 0
    assert len(mailbox.messages) == 1
    db.session.expire_all()
    [mail] = rows()
    assert mail.attempts == 2 and mail.sent_at is not None and mail.last_error is None


def test_a_connection_dropped_in_a_run_is_opened_again_for_the_next_mail(mailbox, make_case,
                                                                          req):  # fmt: skip
    """The server hangs up while taking the first e-mail: retried later; the run goes on with a
    new connection and sends the second."""
    make_case(person={"email": "mat.ket.noi@dan.vn"})
    make_case(person=PERSON)
    mailbox.hang_up.add("mat.ket.noi@dan.vn")
    run = mailer.send_due(utcnow())
    assert (run.sent, run.retrying, run.given_up, run.unreachable) == (1, 1, [], None)
    assert [m[1] for m in mailbox.messages] == [[ADDRESS]]
    db.session.expire_all()
    dropped, sent = rows()
    assert dropped.sent_at is None and dropped.last_error.startswith("broken: ")
    assert sent.sent_at is not None
    assert mailer.send_due(later(1.5)).sent == 1
    assert [m[1] for m in mailbox.messages] == [[ADDRESS], ["mat.ket.noi@dan.vn"]]


def test_a_recipient_refused_for_good_is_given_up_at_once(mailbox, make_case, runner, req):
    case = make_case(person={"email": "khong.co@dan.vn"})
    mailbox.refuse.add("khong.co@dan.vn")
    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 0
    assert f"case {case.id}: the 'received' e-mail is given up after 1 try: 550" in result.output
    assert "khong.co@dan.vn" not in result.output
    [mail] = rows()
    assert mail.gave_up_at is not None and mail.attempts == 1
    assert mail.last_error.startswith("550 5.1.1 <<recipient>>")
    assert mailer.send_due(later(600)).sent == 0  # never tried again
    db.session.expire_all()
    assert rows()[0].attempts == 1
    history = db.session.scalar(select(CaseEvent.detail).where(CaseEvent.action == "mail"))
    assert history == "mail=received; not sent; attempts=1; reason=550"


def test_a_temporary_refusal_is_retried_with_a_growing_wait_then_given_up(mailbox, make_case,
                                                                          app, req):  # fmt: skip
    app.config["FEEDBACK_MAIL_ATTEMPTS"] = 4
    make_case(person=PERSON)
    mailbox.later.add(ADDRESS)
    now, waits = utcnow(), []
    for _try in range(4):
        run = mailer.send_due(now)
        db.session.expire_all()
        [mail] = rows()
        if mail.gave_up_at is None:
            waits.append(mail.next_attempt_at - now)
            now = mail.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert mail.attempts == 4 and mail.gave_up_at is not None and run.given_up
    assert mail.last_error.startswith("451")
    assert mailer.send_due(now + timedelta(days=1)).sent == 0 and mailbox.messages == []


def test_a_row_is_claimed_once(mailbox, make_case, req):
    make_case(person=PERSON)
    [mail] = rows()
    now = later()
    assert outbox.claim(mail.id, now)
    db.session.commit()
    assert not outbox.claim(mail.id, now)  # a second run, at the same moment
    db.session.commit()
    assert mailer.send_due(now).sent == 0 and mailbox.messages == []
    # A run that claimed it and died: after the lease another run sends it.
    assert mailer.send_due(now + outbox.LEASE + timedelta(seconds=1)).sent == 1
    assert len(mailbox.messages) == 1


def test_overlapping_runs_send_each_mail_once(mailbox, make_case, app, req):
    for n in range(12):
        make_case(person={"email": f"dan{n}@dan.vn"})
    now, results = later(), []

    def run():
        with app.app_context():
            results.append(mailer.send_due(now).sent)
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(results) == 12 and len(results) == 3
    recipients = sorted(r for _s, (r,), _m, _e in mailbox.messages)
    assert recipients == sorted(f"dan{n}@dan.vn" for n in range(12))
    assert db.session.scalar(select(func.count()).where(CaseMail.sent_at.is_not(None))) == 12


def test_dry_run_says_what_would_be_sent_and_sends_nothing(mailbox, make_case, runner, req):
    case = make_case(person=PERSON)
    result = runner.invoke(args=["feedback", "mail", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"case {case.id}: 'received' in vi to n…@dan.vn, try 1" in result.output
    assert "Would try 1 e-mail." in result.output
    assert mailbox.messages == [] and rows()[0].attempts == 0
    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 e-mail; 0 to try again, 0 given up" in result.output
    assert len(mailbox.messages) == 1


INJECTED = ["a@dan.vn\r\nBcc: x@evil.test", "a@dan.vn\nBcc: x@evil.test", "a@dan.vn\r"]


@pytest.mark.parametrize("address", INJECTED)
def test_an_address_with_a_line_break_is_refused_by_the_citizens_form(mailbox, client, point,
                                                                      address):  # fmt: skip
    response = send(client, f"/pakn/new?point={point.token}", email=address, consent="y")
    assert response.status_code == 422
    assert "This e-mail is not valid." in response.get_data(as_text=True)
    assert db.session.scalar(select(Case)) is None


@pytest.mark.parametrize("address", INJECTED)
def test_an_address_with_a_line_break_is_refused_by_staff_intake(mailbox, client, staff, tree,
                                                                  address):  # fmt: skip
    login(client, "handler@x.vn")
    page = client.get("/staff/cases/new").get_data(as_text=True)
    data = dict(page_forms(page)[-1]["fields"]) | {
        "unit": tree["26734"].id, "kind": "report", "topic": "attitude", "channel": "phone",
        "content": "Cán bộ nói năng thiếu lịch sự.", "email": address, "consent": "y"}  # fmt: skip
    assert client.post("/staff/cases/new", data=data).status_code == 422
    assert db.session.scalar(select(Case)) is None


def test_an_address_stored_with_a_line_break_never_reaches_a_header(mailbox, make_case, req):
    case = make_case(person=PERSON)
    case.person.email = "a@dan.vn\r\nBcc: x@evil.test"  # written by hand, or by an old version
    db.session.commit()
    run = mailer.send_due(later())
    assert (run.sent, run.dropped) == (0, 1) and mailbox.messages == []


@pytest.mark.parametrize(("typed", "sent"), [
    ("nguyen.a@dan.vn", "nguyen.a@dan.vn"),
    ("nguyen@Dân.VN", "nguyen@xn--dn-pia.vn"),  # the domain in IDNA: no SMTPUTF8 needed
    ("nguyễn@dân.vn", "nguyễn@xn--dn-pia.vn"),
    ("nguye\u0302\u0303n@dan.vn", "nguyễn@dan.vn"),  # typed decomposed, sent composed (NFC)
    ("nguyễn@dan", None),
])  # fmt: skip
def test_an_address_is_mailed_with_its_domain_in_idna_and_its_accents_composed(typed, sent):
    assert mailable(typed) == sent


def test_an_address_with_accents_before_the_at_is_sent_with_smtputf8(utf8_mailbox, make_case,
                                                                    req):  # fmt: skip
    case = make_case(person={"name": "Nguyễn Thị Á", "email": "nguyễn@dân.vn"})
    assert mailer.send_due(later()).sent == 1
    sender, recipients, message, envelope = utf8_mailbox.only()
    assert sender == "pakn@hailong.test" and recipients == ["nguyễn@xn--dn-pia.vn"]
    assert envelope.smtp_utf8 and "SMTPUTF8" in envelope.mail_options
    [to] = message["To"].addresses
    assert (to.username, to.domain) == ("nguyễn", "xn--dn-pia.vn")
    assert message["From"].addresses[0].display_name == "Hài Lòng – PAKN"
    assert message["Subject"] == f"PAKN {codes.display(case.code)} – Đã tiếp nhận"
    headers = envelope.content.split(b"\r\n\r\n", 1)[0].decode()
    assert "\r\nTo: nguyễn@xn--dn-pia.vn\r\n" in headers  # as it is, in UTF-8 (RFC 6532)
    assert "=?utf-8?" not in headers.lower()  # no encoded word, where an address may not have one
    assert body(message).startswith("Kính gửi ông/bà,\n")
    assert db.session.scalar(select(CaseEvent.detail).where(CaseEvent.action == "mail")) == (
        "mail=received; sent"
    )


def test_without_smtputf8_such_an_address_is_given_up_with_the_reason(mailbox, make_case, runner,
                                                                     req):  # fmt: skip
    case = make_case(person={"email": "nguyễn@dan.vn"})
    make_case(person=PERSON)  # sent in the same run: the session is still good
    result = runner.invoke(args=["feedback", "mail"])
    assert result.exit_code == 0, result.output
    assert f"case {case.id}: the 'received' e-mail is given up after 1 try: no-SMTPUTF8" in (
        result.output
    )
    assert "Sent 1 e-mail; 0 to try again, 1 given up" in result.output
    assert [r for _s, r, _m, _e in mailbox.messages] == [[ADDRESS]]
    [mail] = rows(case)
    assert mail.gave_up_at is not None and mail.last_error == NO_SMTPUTF8
    history = db.session.scalar(
        select(CaseEvent.detail).where(CaseEvent.case_id == case.id, CaseEvent.action == "mail")
    )
    assert history == "mail=received; not sent; attempts=1; reason=no-SMTPUTF8"
    assert mailer.send_due(later(600)).sent == 0  # never tried again


def test_a_domain_with_accents_needs_no_smtputf8(mailbox, make_case, req):
    make_case(person={"email": "nguyen@dân.vn"})
    assert mailer.send_due(later()).sent == 1
    _s, recipients, message, envelope = mailbox.only()
    assert recipients == ["nguyen@xn--dn-pia.vn"] and message["To"] == "nguyen@xn--dn-pia.vn"
    assert not envelope.smtp_utf8


def test_an_address_with_accents_is_taken_by_the_citizens_form_and_staff_intake(
    mailbox, client, point, staff, tree
):
    url = f"/pakn/new?point={point.token}"
    assert 'type="email"' not in client.get(url).get_data(as_text=True)  # browsers refuse it
    assert send(client, url, email="nguyễn@dân.vn", consent="y").status_code == 303
    login(client, "handler@x.vn")
    page = client.get("/staff/cases/new").get_data(as_text=True)
    data = dict(page_forms(page)[-1]["fields"]) | {
        "unit": tree["26734"].id, "kind": "report", "topic": "attitude", "channel": "phone",
        "content": "Cán bộ nói năng thiếu lịch sự.", "email": "trần@dan.vn",
        "consent": "y"}  # fmt: skip
    assert client.post("/staff/cases/new", data=data).status_code == 303
    emails = db.session.scalars(select(CasePerson.email).order_by(CasePerson.case_id)).all()
    assert emails == ["nguyễn@dân.vn", "trần@dan.vn"]


def test_the_mail_carries_nothing_the_sender_chose(mailbox, client, point):
    # Anyone may type anyone's address: the words they choose must not leave under our name.
    url = f"/pakn/new?point={point.token}"
    bait = "Quý vị trúng thưởng 50 triệu, gọi ngay 0900 123 456"
    lure = "Nhận thưởng tại http://lua-dao.example/nhan-thuong trước ngày mai."
    response = send(client, url, name=bait, email=ADDRESS, consent="y", content=lure)
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.person.name == bait  # staff still see it
    assert mailer.send_due(later()).sent == 1
    _s, recipients, message, envelope = mailbox.only()
    assert recipients == [ADDRESS]
    text = body(message)
    assert text.startswith("Hello,\n")  # the page was read in English
    assert f"http://survey.test/track/{case.code}\n" in text
    for chosen in ("trúng thưởng", "0900", "lua-dao", "Nhận thưởng"):
        assert chosen not in text and chosen not in str(message["Subject"])
    assert b"lua-dao" not in envelope.content and b"0900" not in envelope.content


def test_received_mails_to_one_address_stop_at_the_days_limit(mailbox, client, point, app):
    app.config["FEEDBACK_MAIL_RECEIVED_PER_DAY"] = 2
    url = f"/pakn/new?point={point.token}"
    for email in (ADDRESS, ADDRESS.upper(), ADDRESS, "khac@dan.vn"):
        assert send(client, url, email=email, consent="y").status_code == 303
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert len(cases) == 4  # every PAKN is recorded: only its e-mail is left out
    assert [len(rows(c)) for c in cases] == [1, 1, 0, 1]
    assert mailer.send_due(later()).sent == 3
    sent_to = sorted(r[0].lower() for _s, r, _m, _e in mailbox.messages)
    assert sent_to == ["khac@dan.vn", ADDRESS, ADDRESS]


def test_no_header_can_be_written_through_a_name_or_an_address(mailbox, make_case, req):
    named = make_case(person={"name": "A\r\nBcc: ke.gian@lua.vn\r\n\r\nX", "email": ADDRESS})
    # Stored before the form checked it: an address with a line break is never used.
    broken = make_case(person={"email": "b@dan.vn\r\nBcc: ke.gian@lua.vn"})
    run = mailer.send_due(later())
    assert (run.sent, run.dropped) == (1, 1)
    sender, recipients, message, envelope = mailbox.only()
    assert recipients == [ADDRESS] and message["Bcc"] is None
    assert b"ke.gian" not in envelope.content
    assert rows(named)[0].sent_at is not None and rows(broken) == []

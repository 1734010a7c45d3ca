"""The staff digest: who is told of which cases, in what order, once a working day, by real SMTP."""

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from feedback import codes, digest, digest_mailer
from feedback.digest_mailer import LEASE, claim, send_digests
from feedback.models import DeclaredDay, StaffDigest
from tests.conftest import free_port
from tests.feedback.test_mail import body

NOW = datetime(2026, 3, 5, 1, 0)  # 08:00 on Thursday 5/3/2026 in Vietnam
SATURDAY = datetime(2026, 3, 7, 1, 0)
# Due soon on 5/3: up to Monday 9/3, two working days later.


def put(make_case, unit, state, due, publish_due=None, **kw):
    """A case of that unit, moved by hand to a state and due dates."""
    case = make_case(unit, **kw)
    case.state, case.due_on, case.publish_due_on = state, due, publish_due
    db.session.commit()
    return case


@pytest.fixture
def cases(make_case, staff):
    """Cases of every kind of urgency in the tree's units (tests/conftest.py: tree)."""
    d = date
    return {
        "late": put(make_case, "26734", "classified", d(2026, 3, 3)),
        "today": put(make_case, "26734", "in_progress", d(2026, 3, 5)),
        "monday": put(make_case, "26734", "received", d(2026, 3, 9)),  # due soon, not "new"
        "tuesday": put(make_case, "26734", "in_progress", d(2026, 3, 10)),  # after due soon
        "unpublished": put(make_case, "26734", "answered", d(2026, 2, 20), d(2026, 3, 4)),
        "publish_friday": put(make_case, "26734", "answered", d(2026, 2, 20), d(2026, 3, 6)),
        "published": put(make_case, "26734", "published", d(2026, 2, 1), d(2026, 2, 10)),
        "da_kao": put(make_case, "26737", "received", d(2026, 3, 20)),
        "thao_dien": put(make_case, "26800", "in_progress", d(2026, 3, 2)),
        "thu_duc": put(make_case, "769", "received", d(2026, 3, 20)),
    }


def listed(message) -> list[int]:
    """The case numbers an e-mail lists, in its order."""
    return [int(n) for n in re.findall(r"^#(\d+) ", body(message), re.M)]


def by_recipient(box) -> dict:
    received = {}
    for _sender, (address,), message, _envelope in box.messages:
        assert address not in received  # one e-mail each
        received[address] = message
    box.messages.clear()
    return received


def ids(cases, *names):
    return [cases[n].id for n in names]


def test_each_role_is_told_of_the_cases_in_its_scope_most_urgent_first(mailbox, cases, staff):
    run = send_digests(NOW)
    assert (run.sent, run.already, run.failed, run.unreachable) == (4, 0, [], None)
    got = by_recipient(mailbox)
    # The analyst gets nothing; the administrator only what no handler or manager covers.
    assert set(got) == {"handler@x.vn", "manager@x.vn", "other@x.vn", "admin@x.vn"}
    assert listed(got["handler@x.vn"]) == ids(cases, "late", "today", "monday", "unpublished")
    assert listed(got["manager@x.vn"]) == ids(
        cases, "late", "today", "monday", "da_kao", "unpublished"
    )
    assert listed(got["other@x.vn"]) == ids(cases, "thao_dien")  # not district 760's
    assert listed(got["admin@x.vn"]) == ids(cases, "thu_duc")  # district 769: nobody's
    text = body(got["manager@x.vn"])
    # The counts on top, in the order of the sections (their labels are the queue's tabs).
    counts = "Quá hạn: 1\nSắp đến hạn: 2\nChờ phân loại, giao xử lý: 1\nQuá hạn công khai: 1"
    assert f"\n\n{counts}\n" in text
    assert "Sắp đến hạn: hạn đến 9/3/2026." in text
    assert "\nQuá hạn (1)\n" in text and "\nSắp đến hạn (2)\n" in text
    late = cases["late"]
    assert f"#{late.id} · Chậm trễ · Phường Bến Nghé · Hạn: 3/3/2026\n" in text
    assert f"  http://survey.test/staff/cases/{late.id}\n" in text
    assert f"#{cases['unpublished'].id} · Chậm trễ · Phường Bến Nghé · Hạn công khai: 4/3/2026" in (
        text
    )
    assert f"#{cases['da_kao'].id} · Chậm trễ · Phường Đa Kao · Hạn: 20/3/2026" in text
    message = got["manager@x.vn"]
    assert message["Subject"].endswith(" – 5/3/2026")
    assert message["Content-Language"] == "vi" and message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == f"<digest.{staff['manager'].id}.20260305@hailong.test>"


def test_each_recipient_is_written_to_in_the_language_of_their_account(mailbox, cases, staff):
    staff["handler"].locale = "en"
    staff["manager"].locale = "vi"
    db.session.commit()
    assert send_digests(NOW).sent == 4
    got = by_recipient(mailbox)
    english, vietnamese = got["handler@x.vn"], got["manager@x.vn"]
    assert english["Subject"] == "PAKN cases that need you – 5 Mar 2026"
    assert english["Content-Language"] == "en"
    text = body(english)
    assert text.startswith("The PAKN cases of your units that need action on 5 Mar 2026")
    assert f"#{cases['late'].id} · Delay · Phường Bến Nghé · Due: 3 Mar 2026\n" in text
    assert vietnamese["Subject"] == "PAKN cần bạn xử lý – 5/3/2026"
    assert vietnamese["Content-Language"] == "vi"
    assert f"#{cases['late'].id} · Chậm trễ · Phường Bến Nghé · Hạn: 3/3/2026\n" in body(vietnamese)
    # An account that chose nothing is written to in the default language.
    assert got["admin@x.vn"]["Content-Language"] == "vi"


def test_nobody_with_nothing_to_do_gets_an_email(mailbox, make_case, staff):
    put(make_case, "26734", "in_progress", date(2026, 3, 20))  # not due soon, being handled
    put(make_case, "26734", "published", date(2026, 2, 1), date(2026, 2, 10))
    run = send_digests(NOW)
    assert run.sent == 0 and mailbox.messages == []
    assert db.session.scalars(select(StaffDigest)).all() == []


def test_an_inactive_account_gets_nothing_and_its_unit_falls_to_the_admins(mailbox, cases, staff):
    staff["other_handler"].active = False
    staff["handler"].active = False
    db.session.commit()
    got = by_recipient(mailbox) if send_digests(NOW).sent else {}
    assert set(got) == {"manager@x.vn", "admin@x.vn"}
    # Phường Bến Nghé is still its district manager's; Phường Thảo Điền is nobody's now.
    assert listed(got["admin@x.vn"]) == ids(cases, "thao_dien", "thu_duc")
    assert cases["late"].id in listed(got["manager@x.vn"])


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(mailbox, cases):
    assert send_digests(NOW).sent == 4
    mailbox.messages.clear()
    run = send_digests(NOW + timedelta(hours=2))
    assert (run.sent, run.already) == (0, 4) and mailbox.messages == []
    rows = db.session.scalars(select(StaffDigest)).all()
    assert len(rows) == 4 and all(r.sent_at == NOW and r.day == date(2026, 3, 5) for r in rows)
    assert sorted(r.cases for r in rows) == [1, 1, 4, 5]
    assert send_digests(NOW + timedelta(days=1)).sent == 4  # Friday 6/3


def test_a_day_off_sends_nothing_unless_forced(mailbox, cases, runner, monkeypatch):
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: SATURDAY)
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 0, result.output
    assert "2026-03-07 is not a working day: no digest is sent" in result.output
    assert mailbox.messages == [] and db.session.scalars(select(StaffDigest)).all() == []
    result = runner.invoke(args=["feedback", "digest", "--force"])
    assert result.exit_code == 0, result.output
    assert "Sent 4 digests for 2026-03-07; 0 already sent today, 0 not sent." in result.output
    assert len(mailbox.messages) == 4


def test_the_declared_days_decide_what_a_working_day_is(mailbox, cases, runner, monkeypatch):
    off = DeclaredDay(day=date(2026, 3, 5), working=False, note="nghỉ")
    db.session.add_all([off, DeclaredDay(day=date(2026, 3, 7), working=True, note="làm bù")])
    db.session.commit()
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: NOW)
    result = runner.invoke(args=["feedback", "digest"])
    assert "2026-03-05 is not a working day" in result.output and mailbox.messages == []
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: SATURDAY)  # a make-up working Saturday
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 0 and "Sent 4 digests for 2026-03-07" in result.output


def test_dry_run_says_who_would_get_what_with_masked_addresses(mailbox, cases, runner,
                                                                monkeypatch):  # fmt: skip
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: NOW)
    result = runner.invoke(args=["feedback", "digest", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "h…@x.vn (handler): 1 overdue, 2 due_soon, 0 to_classify, 1 publish_overdue" in lines
    assert "m…@x.vn (manager): 1 overdue, 2 due_soon, 1 to_classify, 1 publish_overdue" in lines
    assert "a…@x.vn (admin): 0 overdue, 0 due_soon, 1 to_classify, 0 publish_overdue" in lines
    assert "Would send 4 digests for 2026-03-05; 0 already sent today." in lines
    assert "handler@x.vn" not in result.output and "analyst" not in result.output
    assert mailbox.messages == [] and db.session.scalars(select(StaffDigest)).all() == []


def test_with_mail_off_the_command_says_so_and_records_nothing(app, cases, runner):
    assert not app.config.get("MAIL_SERVER")
    result = runner.invoke(args=["feedback", "digest", "--force"])
    assert result.exit_code == 0
    assert "Mail is off (MAIL_SERVER is not set): no digest is sent." in result.output
    assert db.session.scalars(select(StaffDigest)).all() == []


def test_a_server_down_fails_the_command_and_the_next_run_sends(mailbox, cases, app, runner,
                                                                monkeypatch):  # fmt: skip
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: NOW)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 1
    assert "Error: the mail server cannot be used: 127.0.0.1:" in result.output
    assert db.session.scalars(select(StaffDigest)).all() == []
    app.config["MAIL_PORT"] = mailbox.port
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 0 and "Sent 4 digests" in result.output
    assert len(mailbox.messages) == 4


def test_a_refused_address_is_not_recorded_and_is_tried_again(mailbox, cases, runner,
                                                              monkeypatch):  # fmt: skip
    monkeypatch.setattr(digest_mailer, "utcnow", lambda: NOW)
    mailbox.refuse.add("handler@x.vn")
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 1
    assert "(h…@x.vn): 550 5.1.1 <<recipient>>" in result.output
    assert "Sent 3 digests for 2026-03-05; 0 already sent today, 1 not sent." in result.output
    mailbox.refuse.clear()
    mailbox.messages.clear()
    result = runner.invoke(args=["feedback", "digest"])
    assert result.exit_code == 0 and "Sent 1 digest for 2026-03-05; 3 already" in result.output
    assert [r for _s, (r,), _m, _e in mailbox.messages] == ["handler@x.vn"]


def test_no_personal_data_of_the_sender_nor_the_content(mailbox, make_case, staff):
    person = {"name": "Lê Văn Tám", "phone": "0912 345 678", "email": "tam.le@dan.vn",
              "address": "12 Lý Tự Trọng"}  # fmt: skip
    content = "Cán bộ một cửa đòi thêm bản sao hộ khẩu."
    case = make_case(person=person, content=content)
    case.due_on = date(2026, 3, 2)
    db.session.commit()
    send_digests(NOW)
    text = body(by_recipient(mailbox)["handler@x.vn"])
    assert f"#{case.id} · " in text
    for private in ("Lê Văn Tám", "Tám", "0912", "345 678", "tam.le@dan.vn", "Lý Tự Trọng",
                    content, "hộ khẩu", case.code, codes.display(case.code)):  # fmt: skip
        assert private not in text


def test_the_words_in_english(app, cases, staff):
    soon = date(2026, 3, 9)
    handler = digest.collect(staff["handler"], NOW.date(), soon, NOW)
    app.config["MAIL_FROM"] = "PAKN <pakn@hailong.test>"
    message = digest.compose(handler, "handler@x.vn", NOW, "en")
    assert message["Subject"] == "PAKN cases that need you – 5 Mar 2026"
    text = message.get_payload(decode=True).decode()
    assert text.startswith("The PAKN cases of your units that need action on 5 Mar 2026, most "
                           "urgent first:\n\nOverdue: 1\nDue soon: 2\nTo classify or assign: 0\n"
                           "Publishing overdue: 1\nDue soon: due by 9 Mar 2026.\n")  # fmt: skip
    assert f"#{cases['late'].id} · Delay · Phường Bến Nghé · Due: 3 Mar 2026\n" in text
    assert "Publish by: 4 Mar 2026" in text
    assert text.endswith("\n-- \nThis e-mail is sent automatically each working morning to staff "
                         "with PAKN cases to act on; replies are not read.\n")  # fmt: skip
    admin = digest.collect(staff["admin"], NOW.date(), soon, NOW)
    text = digest.compose(admin, "admin@x.vn", NOW, "en").get_payload(decode=True).decode()
    assert text.startswith("The PAKN cases of units without an active handler or manager")
    analyst = digest.collect(staff["analyst"], NOW.date(), soon, NOW)
    assert analyst.total == 0 and analyst.cases == {}


def test_a_long_section_lists_the_first_cases_and_links_to_the_queue(app, make_case, staff,
                                                                      monkeypatch):  # fmt: skip
    monkeypatch.setattr(digest, "LINES", 2)
    late = [put(make_case, "26734", "in_progress", date(2026, 3, d)) for d in (4, 2, 3)]
    found = digest.collect(staff["handler"], NOW.date(), date(2026, 3, 9), NOW)
    assert found.counts["overdue"] == 3 and [c.id for c in found.cases["overdue"]] == [
        late[1].id, late[2].id]  # fmt: skip
    app.config["MAIL_FROM"] = "pakn@hailong.test"
    text = digest.compose(found, "h@x.vn", NOW, "en").get_payload(decode=True).decode()
    assert "\nOverdue (3)\n" in text
    assert "… and 1 more: http://survey.test/staff/cases?tab=overdue\n" in text
    assert f"#{late[0].id} " not in text


def test_a_claim_is_taken_once_and_over_only_from_a_run_that_died(app, staff):
    user, day = staff["handler"].id, date(2026, 3, 5)
    assert claim(user, day, NOW, 3)
    assert not claim(user, day, NOW + timedelta(minutes=1), 3)  # another run, at work
    assert claim(user, day, NOW + LEASE + timedelta(minutes=1), 3)  # that run died
    record = db.session.scalar(select(StaffDigest))
    record.sent_at = NOW
    db.session.commit()
    assert not claim(user, day, NOW + timedelta(hours=5), 3)  # sent: never again that day

"""Importing responses from CSV through the CLI: all or nothing, with line numbers."""

import unicodedata
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from survey.models import CRITERIA, Response
from survey.response_rows import parse_time

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK"


def row(unit="26734", when="2024-03-25 14:30", channel="paper", value="4", hk="no", **over):
    values = {code: value for code in CRITERIA} | over
    return f"{unit},{when},{channel}," + ",".join(values[c] for c in CRITERIA) + f",{hk}"


def run_import(runner, tmp_path, lines, header=HEADER):
    path = tmp_path / "responses.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return runner.invoke(args=["responses", "import", str(path)])


def stored():
    return db.session.scalar(select(func.count()).select_from(Response))


def test_import_loads_every_row(runner, tmp_path, tree, questionnaire):
    lines = [
        row(),
        row(unit="26737", value="5", hk="yes", E3="", E2="0"),
        row(when="25/03/2024", channel="static", value="1"),
    ]
    result = run_import(runner, tmp_path, lines)
    assert result.exit_code == 0, result.output
    assert "Imported 3 responses" in result.output
    saved = db.session.scalars(select(Response).order_by(Response.id)).all()
    assert [r.a1 for r in saved] == [4, 5, 1]
    assert saved[1].hk is True and saved[1].e2 == 0 and saved[1].e3 is None
    assert saved[1].unit_id == tree["26737"].id
    assert saved[0].submitted_at == datetime(2024, 3, 25, 7, 30)  # 14:30 in Vietnam is 07:30 UTC
    assert saved[2].channel == "static"
    assert all(r.questionnaire_id == questionnaire.id and r.point_id is None for r in saved)


def test_import_of_one_row_says_one_response(runner, tmp_path, tree, questionnaire):
    result = run_import(runner, tmp_path, [row()])
    assert result.exit_code == 0, result.output
    assert "Imported 1 response from " in result.output and stored() == 1


def test_optional_columns_and_missing_criteria(runner, tmp_path, tree, questionnaire):
    header = "unit_code,submitted_at,channel,A1,HK,procedure,comment"
    result = run_import(
        runner,
        tmp_path,
        ['26734,2024-01-02T08:00:00+07:00,paper,5,có,cu-tru,"Tốt, nhanh"'],
        header=header,
    )
    assert result.exit_code == 0, result.output
    saved = db.session.scalars(select(Response)).one()
    assert (saved.a1, saved.a2, saved.hk) == (5, None, True)
    assert saved.comment == "Tốt, nhanh" and saved.procedure == "cu-tru"
    assert saved.submitted_at == datetime(2024, 1, 2, 1, 0)


def test_any_bad_row_refuses_the_whole_file(runner, tmp_path, tree, questionnaire):
    lines = [
        row(),
        row(),
        row(unit="99999"),
        row(A3="6"),
        row(hk=""),
        row(channel="fax"),
        row(when="2024-13-45"),
        row(when="2999-01-01"),
    ]
    result = run_import(runner, tmp_path, lines)
    assert result.exit_code != 0
    out = result.output
    assert "line 2" not in out and "line 3" not in out
    for expected in (
        "line 4: unknown unit_code '99999'",
        "line 5: A3 must be 1-5",
        "line 6: HK must be yes or no",
        "line 7: channel 'fax'",
        "line 8: submitted_at '2024-13-45'",
        "line 9: submitted_at 2999-01-01",
    ):
        assert expected in out, out
    assert stored() == 0


def test_a_bad_row_after_many_good_ones_loses_nothing_already_recorded(
    runner, tmp_path, tree, questionnaire
):
    assert run_import(runner, tmp_path, [row()]).exit_code == 0
    lines = [row() for _ in range(25_000)] + [row(B1="x")]
    result = run_import(runner, tmp_path, lines)
    assert result.exit_code != 0 and "line 25002" in result.output
    assert stored() == 1


def test_header_problems(runner, tmp_path, tree, questionnaire):
    result = run_import(runner, tmp_path, [row()], header=HEADER.replace(",HK", ""))
    assert result.exit_code != 0 and "missing column(s): HK" in result.output
    result = run_import(runner, tmp_path, [row() + ",1"], header=HEADER + ",X9")
    assert result.exit_code != 0 and "unknown column(s): X9" in result.output
    result = run_import(runner, tmp_path, [])
    assert result.exit_code != 0 and "no responses" in result.output
    assert stored() == 0


def test_hostile_text_is_stored_verbatim_not_executed(runner, tmp_path, tree, questionnaire):
    header = HEADER + ",comment"
    evil = (
        row() + ',"=HYPERLINK(""http://x"");<script>alert(1)</script>\'); DROP TABLE response;--"'
    )
    assert run_import(runner, tmp_path, [evil], header=header).exit_code == 0
    saved = db.session.scalars(select(Response)).one()
    assert saved.comment.startswith("=HYPERLINK") and "DROP TABLE" in saved.comment


def test_a_comment_is_kept_as_the_survey_form_keeps_it(runner, tmp_path, tree, questionnaire):
    """Direction controls removed and line breaks counted once before the length is checked,
    as on the survey form; accents typed as combining marks (NFD) stay as written."""
    nfd = unicodedata.normalize("NFD", "Cán bộ nhiệt tình")
    written = f"\u202eSĐT 0912\u2066 345\u2069 678\u200f\r\n{nfd}\u061c\u202a\u202c\u202d\u200e"
    lines = [
        row() + f',"{written}"',
        row() + ',"' + "x" * 999 + '\r\n"',  # 1,000 once the CRLF counts one
        row() + ',"' + "y" * 1000 + "\u202e" * 50 + '"',
        row() + ",\u2067\u2068 \u202b",  # nothing left: no comment
    ]
    result = run_import(runner, tmp_path, lines, header=HEADER + ",comment")
    assert result.exit_code == 0, result.output
    comments = db.session.scalars(select(Response.comment).order_by(Response.id)).all()
    assert comments == [f"SĐT 0912 345 678\n{nfd}", "x" * 999, "y" * 1000, None]


def test_a_comment_too_long_once_cleaned_refuses_the_file(runner, tmp_path, tree, questionnaire):
    lines = [row() + ',"' + "x" * 1000 + '\r\n"', row() + ",\u202e" + "z" * 1001]
    result = run_import(runner, tmp_path, lines, header=HEADER + ",comment")
    assert result.exit_code != 0
    assert "line 2: comment is longer than 1000 characters" in result.output
    assert "line 4: comment is longer than 1000 characters" in result.output  # line 2 runs on
    assert stored() == 0


def test_a_nul_character_refuses_the_file_with_its_lines(runner, tmp_path, tree, questionnaire):
    lines = [row() + ",tốt", row() + ",chờ\x00lâu", row() + ",ok", row() + ",\x00"]
    result = run_import(runner, tmp_path, lines, header=HEADER + ",comment")
    assert result.exit_code != 0
    assert "line 3: holds a NUL character" in result.output
    assert "line 5: holds a NUL character" in result.output and "line 4" not in result.output
    assert stored() == 0


def test_the_same_file_twice_is_refused_unless_asked_for(runner, tmp_path, tree, questionnaire):
    assert run_import(runner, tmp_path, [row(), row(value="5")]).exit_code == 0
    again = run_import(runner, tmp_path, [row(), row(value="5")])
    assert again.exit_code != 0
    assert "the same file (responses.csv) was imported on" in again.output
    assert "with 2 responses" in again.output and "--again" in again.output
    assert stored() == 2
    # Another file (one row more) is not the same file.
    assert run_import(runner, tmp_path, [row(), row(value="5"), row(value="3")]).exit_code == 0
    assert stored() == 5
    # Asked for, the same file is imported once more.
    path = tmp_path / "responses.csv"
    result = runner.invoke(args=["responses", "import", str(path), "--again"])
    assert result.exit_code == 0 and stored() == 8


def test_a_refused_file_is_not_remembered(runner, tmp_path, tree, questionnaire):
    bad = [row(), row(unit="99999")]
    assert run_import(runner, tmp_path, bad).exit_code != 0
    assert "unknown unit_code" in run_import(runner, tmp_path, bad).output  # for its rows again
    assert stored() == 0


def test_household_register_answers_open_cases_when_asked(runner, tmp_path, tree, questionnaire):
    lines = [row(hk="yes"), row(), row(unit="26737", hk="có"), row(value="5")]
    result = run_import(runner, tmp_path, lines)
    assert result.exit_code == 0, result.output
    assert "2 of them say a paper household register was asked for" in result.output
    assert "give --open-cases" in result.output
    assert db.session.scalars(select(Case)).all() == []  # an old file's would all be overdue
    path = tmp_path / "responses.csv"
    opened = runner.invoke(args=["responses", "import", str(path), "--again", "--open-cases"])
    assert opened.exit_code == 0 and "a PAKN case was opened for each" in opened.output
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    yes = db.session.scalars(
        select(Response).where(Response.hk.is_(True)).order_by(Response.id)
    ).all()
    assert len(yes) == 4  # two from each import
    # One case for each "yes" of the second import, at its unit, from its answer's time.
    assert [c.response_id for c in cases] == [r.id for r in yes[2:]]
    assert [c.unit.code for c in cases] == ["26734", "26737"]
    assert {(c.channel, c.received_at) for c in cases} == {("survey", yes[2].submitted_at)}


def test_parse_time_formats():
    assert parse_time("2024-03-25") == datetime(2024, 3, 24, 17, 0)
    assert parse_time("5/1/2024 08:15") == datetime(2024, 1, 5, 1, 15)
    assert parse_time("2024-03-25T10:00:00Z") == datetime(2024, 3, 25, 10, 0)


def test_unclosed_quote_is_refused_at_the_line_it_opens(runner, tmp_path, tree, questionnaire):
    # The open quote swallows the rest of the file, more than the csv module's field limit.
    lines = [row() + ',"Rất tốt', *[row() + ",ok"] * 3000]
    result = run_import(runner, tmp_path, lines, header=HEADER + ",comment")
    assert result.exit_code != 0
    assert "line 2: " in result.output and "closing quote" in result.output, result.output
    assert stored() == 0


@pytest.mark.parametrize(
    "when",
    ["0001-01-01", "9999-12-31T23:00:00-05:00", "1999-12-31 23:59", "2026-01-17 00:00"],
)
def test_dates_outside_2000_to_tomorrow_are_refused(
    runner, tmp_path, tree, questionnaire, monkeypatch, when
):
    monkeypatch.setattr("survey.response_insert.local_today", lambda: date(2026, 1, 15))
    result = run_import(runner, tmp_path, [row(), row(when=when)])
    assert result.exit_code == 1
    assert f"line 3: submitted_at {when} is not between 2000-01-01 and 2026-01-16" in result.output
    assert stored() == 0


def test_dates_from_2000_to_tomorrow_are_accepted(
    runner, tmp_path, tree, questionnaire, monkeypatch
):
    # Tomorrow in Vietnam too: a day's grace for a clock that runs fast.
    monkeypatch.setattr("survey.response_insert.local_today", lambda: date(2026, 1, 15))
    lines = [row(when="2000-01-01 00:00"), row(when="16/01/2026 23:59")]
    result = run_import(runner, tmp_path, lines)
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Response.submitted_at).order_by(Response.id)).all() == [
        datetime(1999, 12, 31, 17, 0),
        datetime(2026, 1, 16, 16, 59),
    ]


def test_a_two_digit_year_is_refused(runner, tmp_path, tree, questionnaire):
    result = run_import(runner, tmp_path, [row(when="25/03/24 14:30")])
    assert result.exit_code == 1
    assert "line 2: submitted_at '25/03/24 14:30' is not a date and time like" in result.output
    assert "four-digit year" in result.output
    assert stored() == 0


def test_excel_trailing_empty_columns_are_ignored(runner, tmp_path, tree, questionnaire):
    result = run_import(runner, tmp_path, [row() + ",,", ",,,,"], header=HEADER + ",,")
    assert result.exit_code == 0, result.output
    assert stored() == 1


def test_a_column_without_a_name_must_be_empty(runner, tmp_path, tree, questionnaire):
    lines = [row() + ",,", row() + ",, x"]
    result = run_import(runner, tmp_path, lines, header=HEADER + ",,")
    assert result.exit_code != 0
    assert "line 3: column 25 has no name in line 1 but holds ' x'" in result.output
    assert stored() == 0


def test_semicolon_separated_file_is_read(runner, tmp_path, tree, questionnaire):
    lines = [row().replace(",", ";") + ";Tốt, nhanh", row().replace(",", ";") + ';"a; b"']
    header = HEADER.replace(",", ";") + ";comment"
    result = run_import(runner, tmp_path, lines, header=header)
    assert result.exit_code == 0, result.output
    comments = db.session.scalars(select(Response.comment).order_by(Response.id)).all()
    assert comments == ["Tốt, nhanh", "a; b"]

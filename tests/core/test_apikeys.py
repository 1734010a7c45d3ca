"""API keys on the command line: a key for every unit, or for one unit and the units under it."""

from datetime import datetime

from sqlalchemy import func, select

from core.apikeys import ApiKey, Scope, check_key, create_key
from core.extensions import db


def test_a_key_for_a_unit_covers_its_subtree_only(tree):
    record, _key = create_key("Quận 1", Scope.RECEIPTS, tree["760"])
    everywhere, _key = create_key("Tỉnh", Scope.RECEIPTS)
    db.session.commit()
    inside = [code for code, unit in tree.items() if record.covers(unit)]
    assert sorted(inside) == ["26734", "26737", "760"]
    assert all(everywhere.covers(unit) for unit in tree.values())


def test_create_with_a_unit_stores_it_and_list_shows_it(runner, tree):
    result = runner.invoke(
        args=["apikeys", "create", "Một cửa Quận 1", "--scope", "receipts", "--unit", "760"]
    )
    assert result.exit_code == 0, result.output
    record = check_key(result.output.strip(), Scope.RECEIPTS)
    assert record is not None and record.unit.code == "760"
    assert runner.invoke(args=["apikeys", "create", "Sở", "--scope", "analysis"]).exit_code == 0
    lines = runner.invoke(args=["apikeys", "list"]).output.splitlines()
    assert [line.split("\t")[0::5] for line in lines] == [
        ["Một cửa Quận 1", "760"],
        ["Sở", "all units"],
    ]
    assert [line.split("\t")[4] for line in lines] == ["active", "active"]


def test_create_with_an_unknown_unit_fails_and_stores_nothing(runner, tree):
    for code in ("99999", "7601", "76", "", "760\n"):
        result = runner.invoke(args=["apikeys", "create", "Nhầm", "--scope", "receipts",
                                     "--unit", code])  # fmt: skip
        assert result.exit_code == 1, (code, result.output)
        assert "Error: no unit with code" in result.output, code
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def test_a_revoked_key_with_a_unit_is_refused_and_listed_as_revoked(runner, tree):
    created = runner.invoke(args=["apikeys", "create", "Quận 1", "--scope", "receipts",
                                  "--unit", "760"])  # fmt: skip
    assert runner.invoke(args=["apikeys", "revoke", "Quận 1"]).exit_code == 0
    assert check_key(created.output.strip(), Scope.RECEIPTS) is None
    (line,) = runner.invoke(args=["apikeys", "list"]).output.splitlines()
    assert line.split("\t")[4] != "active" and line.endswith("\t760")


def test_create_help_names_the_unit_option(runner):
    result = runner.invoke(args=["apikeys", "create", "--help"])
    assert result.exit_code == 0 and "--unit CODE" in result.output


def test_list_gives_its_times_in_vietnam(runner, tree):
    assert runner.invoke(args=["apikeys", "create", "Sở", "--scope", "analysis"]).exit_code == 0
    key = db.session.scalar(select(ApiKey))
    key.created_at = datetime(2026, 3, 1, 17, 30)  # 00:30 on 2 March in Vietnam
    key.revoked_at = datetime(2026, 3, 1, 18, 5)
    db.session.commit()
    (line,) = runner.invoke(args=["apikeys", "list"]).output.splitlines()
    assert line.split("\t")[3:5] == ["2026-03-02", "2026-03-02 01:05"]

"""The fast path equals the slow, obvious one on random data; and a wrong figure is caught."""

import json
import math
from dataclasses import replace
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from analysis import indexes, verify
from analysis.frame import load_frame
from analysis.indexes import Query
from core.extensions import db
from core.models import LOCAL_OFFSET, Unit
from core.unit_file import import_units
from feedback.models import Channel as CaseChannel
from feedback.models import Kind, Topic
from feedback.services import create_case
from survey.integrity import new_receipt_code
from survey.models import CRITERIA, Channel, Exclusion, ReceiptCode, Response
from survey.questionnaires import DEFAULT_QUESTIONNAIRE, load_questionnaire
from tests.analysis.test_indexes import MARCH, hand_example, import_rows

CHANNELS = [c.value for c in Channel]
HALF = Query(date(2024, 1, 1), date(2024, 6, 30))


def random_tree(rng) -> list[str]:
    """Load a province, 4 districts and 5 communes under each; return the codes with answers."""
    lines = ["code,name,level,parent_code,population", "P,Tỉnh Thử,Tỉnh,,900000"]
    for d in range(1, 5):
        lines.append(f"D{d},Huyện {d},Huyện,P,{rng.integers(50_000, 200_000)}")
        for c in range(1, 6):
            lines.append(f"D{d}C{c},Xã {d}.{c},Xã,D{d},{rng.integers(2_000, 30_000)}")
    import_units("\n".join(lines).encode(), "units.csv", actor=None)
    db.session.commit()
    communes = [f"D{d}C{c}" for d in range(1, 5) for c in range(1, 6)]
    return ["P", "D1", *communes[:-1]]  # a parent with its own answers; one commune with none


def random_rows(rng, codes, count, criteria=CRITERIA) -> list[dict]:
    """Return responses with blanks, no-opinion answers and every channel, some at midnight."""
    # Each unit its own leaning, so that units differ; a few units get only 1-3 answers.
    lean = {code: rng.uniform(0.3, 0.95) for code in codes}
    weights = np.array([0.2 if code in ("D1C2", "D2C1") else 1.0 for code in codes])
    units = rng.choice(codes, size=count, p=weights / weights.sum())
    rows = []
    for unit in units:
        day = date(2024, 1, 1).toordinal() + int(rng.integers(0, 182))
        when = date.fromordinal(day).strftime("%d/%m/%Y")  # local midnight
        if rng.random() < 0.8:
            when += f" {rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}"
        row = {"unit_code": unit, "submitted_at": when, "channel": rng.choice(CHANNELS)}
        for code in CRITERIA:
            draw = rng.random()
            if code not in criteria or draw < 0.1:
                row[code] = ""
            elif draw < 0.15:
                row[code] = "0"
            else:
                row[code] = str(
                    rng.choice([4, 5]) if rng.random() < lean[unit] else rng.integers(1, 4)
                )
        row["HK"] = "yes" if rng.random() < 0.2 else "no"
        rows.append(row)
    return rows


@pytest.fixture
def random_data(app, tmp_path):
    """About 1,500 responses over two questionnaire versions; v2 leaves out E3."""
    rng = np.random.default_rng(20240301)
    codes = random_tree(rng)
    load_questionnaire()
    db.session.commit()
    import_rows(random_rows(rng, codes, 900))
    data = json.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))
    data["elements"][-1]["criteria"] = data["elements"][-1]["criteria"][:2]
    second = tmp_path / "questionnaire-v2.json"
    second.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    version2, new = load_questionnaire(second)
    assert new and version2.version == 2
    db.session.commit()
    import_rows(random_rows(rng, codes, 600, criteria=CRITERIA[:-1]))
    return version2


def assert_same(query: Query, units: int = 25) -> None:
    problems, checked, responses = verify.differences(query)
    assert problems == [], "\n".join(problems[:20])
    assert checked == units * 27 and responses > 0


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"weighting": "population"},
        {"channels": ("paper", "presence")},
        {"first": date(2024, 3, 1), "last": date(2024, 3, 31)},
        {"first": date(2024, 2, 10), "last": date(2024, 2, 10), "channels": ("static",)},
    ],
)
def test_fast_path_equals_slow_path(random_data, changes):
    assert_same(replace(HALF, **changes))


def test_questionnaire_version_filter(random_data):
    assert_same(replace(HALF, questionnaire_ids=(random_data.id,), weighting="population"))


def test_excluded_responses_left_out_by_both(random_data, make_user):
    admin = make_user("admin@example.vn", "admin")
    counted = verify.differences(HALF)[2]
    ids = list(db.session.scalars(select(Response.id).limit(40)))
    db.session.add_all(
        Exclusion(response_id=i, reason="test", excluded_by_id=admin.id) for i in ids
    )
    db.session.commit()
    assert_same(HALF)
    assert verify.differences(HALF)[2] == counted - 40


def test_parent_with_own_answers_and_no_answers_below(tree, questionnaire):
    # Only the districts and the province have answers: at no depth below do children have any.
    rows = [
        {"unit_code": code, "submitted_at": "2024-03-05 10:00", "channel": "paper",
         "A1": str(1 + i % 5), "B1": str(1 + (i * 3) % 5), "HK": "no"}
        for code in ("79", "760") for i in range(40)
    ]  # fmt: skip
    import_rows(rows)
    assert_same(Query(date(2024, 3, 1), date(2024, 3, 31)), units=6)


def test_an_aggregate_of_few_respondents_is_flagged_alike_by_both(tree, questionnaire):
    # Quận 1 pools 20 respondents whose composite n_eff is above 30 (test_indexes.py): both
    # paths must call it few answers, the slow one by its own rule.
    hand_example()
    table = indexes.compute(load_frame(), MARCH)
    overall = indexes.MEASURES.index("overall")
    district = table.tree.codes.index("760")
    assert (table.n[district, overall], table.flag[district, overall]) == (20, "few_answers")
    assert_same(MARCH, units=6)


def test_verify_command(runner, random_data):
    result = runner.invoke(
        args=["analysis", "verify", "--from", "2024-01-01", "--to", "2024-06-30",
              "--channel", "paper", "--channel", "receipt", "--weighting", "population"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "No differences." in result.output and "675 figures" in result.output


def test_verify_reports_a_wrong_figure(runner, random_data, monkeypatch):
    compute = indexes.compute

    def perturbed(frame, query, tree=None):
        table = compute(frame, query, tree)
        table.estimate[table.tree.codes.index("D3"), 0] *= 1 + 1e-6
        return table

    monkeypatch.setattr(indexes, "compute", perturbed)
    result = runner.invoke(
        args=["analysis", "verify", "--preset", "year", "--anchor", "2024-05-01"]
    )
    assert result.exit_code == 1
    assert "D3 overall estimate (period): fast" in result.output
    assert "D3 overall estimate (blocks): fast" in result.output
    assert "D3 overall estimate (months): fast" in result.output
    assert "4 differences" in result.output  # one per reading of the fast path


def test_verify_command_errors(runner, app):
    for args, message in [
        (["--from", "2024-02-30", "--to", "2024-03-01"], "--from: '2024-02-30' is not a date"),
        (["--from", "2024-03-02", "--to", "2024-03-01"], "--to: 2024-03-01 is before from"),
        (["--to", "2024-03-01"], "--from: is required"),
        (["--preset", "year", "--from", "2024-01-01"], "--preset: give either"),
        (["--preset", "week"], "Invalid value for '--preset'"),
        (["--from", "2024-01-01", "--to", "2024-03-01", "--questionnaire", "7"], "no version '7'"),
    ]:
        result = runner.invoke(args=["analysis", "verify", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"compare": "previous"},
        {"level": "Xã"},
        {"query": replace(HALF, weighting="population", channels=("paper",))},
        {"ranks": True},
    ],
)
def test_a_units_rows_from_its_subtree_equal_those_from_the_whole_tree(random_data, options,
                                                                       monkeypatch):  # fmt: skip
    from analysis import tables
    from analysis.compare import sibling_ranks
    from analysis.frame import load_frame
    from analysis.indexes import UnitTree

    frame = load_frame()
    for code in ["P", "D1", "D2", "D1C1", "D4C5"]:
        request = tables.Request(**{"query": HALF, **options, "unit_code": code})
        narrowed = tables.build_rows(request, frame)
        with monkeypatch.context() as m:
            m.setattr(UnitTree, "subtree", lambda tree, root: tree)  # every unit computed
            m.setattr(tables, "sibling_ranks", lambda t, parents: sibling_ranks(t))  # all ranked
            whole = tables.build_rows(request, frame)
        assert narrowed == whole and len(whole[1]) > 0, code
        if options.get("ranks") and code == "D1":
            assert any(row["rank"] for row in narrowed[1])  # D1 and its communes ranked


def test_procedure_satisfaction_from_random_dossiers(random_data, make_user):
    """Receipts around the period's edges, half answered (some excluded), some named by PAKN."""
    rng = np.random.default_rng(766)
    admin = make_user("admin@example.vn", "admin")
    units = list(db.session.scalars(select(Unit).where(Unit.code != "D4C5")))
    topics = list(Topic)
    for _ in range(400):
        unit = units[int(rng.integers(len(units)))]
        local = datetime(2023, 12, 25) + timedelta(minutes=int(rng.integers(0, 200 * 24 * 60)))
        receipt = ReceiptCode(code=new_receipt_code(), unit_id=unit.id,
                              created_at=local - LOCAL_OFFSET, expires_at=local)  # fmt: skip
        db.session.add(receipt)
        if rng.random() < 0.5:
            answers = {c.lower(): rng.choice([None, 0, 1, 2, 3, 4, 5]) for c in CRITERIA}
            response = Response(
                questionnaire_id=random_data.id, unit_id=unit.id, channel="receipt", hk=False,
                submitted_at=receipt.created_at + timedelta(hours=1),
                **{k: None if v is None else int(v) for k, v in answers.items()},
            )  # fmt: skip
            db.session.add(response)
            db.session.flush()
            receipt.response_id = response.id
            if rng.random() < 0.1:
                db.session.add(Exclusion(response_id=response.id, reason="x",
                                         excluded_by_id=admin.id))  # fmt: skip
        for _ in range(int(rng.random() < 0.3) + int(rng.random() < 0.1)):
            topic = topics[int(rng.integers(len(topics)))]
            create_case(unit, kind=Kind.REPORT, topic=topic, channel=CaseChannel.WEB,
                        content="Hồ sơ có vấn đề.", receipt=receipt)  # fmt: skip
    db.session.commit()
    for query in (HALF, replace(HALF, first=date(2024, 3, 1), last=date(2024, 3, 31))):
        assert_same(query)
    slow = verify.slow_procedure_satisfaction(HALF)
    assert 300 < slow["P"].n < 400 and 0.2 < slow["P"].estimate < 0.9
    assert slow["D4C5"].n == 0


def test_the_slow_path_flags_a_parent_of_few_respondents_whatever_its_n_eff():
    # D4's criterion:E3 in March above: 27 answers, n_eff 33.2, an interval 0.31 wide.
    parent = verify.Figure(27, 0.6296, 0.0070, 0.4600, 0.7723, n_eff=33.17)
    assert parent.flag == "few_answers"
    assert replace(parent, n=40).flag == "imprecise"
    assert replace(parent, n=40, n_eff=math.nan).flag == "imprecise"

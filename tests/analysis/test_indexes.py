"""A hand-worked example through the database: import, index table, roll-up, flags, changes."""

import csv
import io
import math
from datetime import date

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analysis import verify
from analysis.compare import earlier_query
from analysis.frame import load_frame
from analysis.indexes import MEASURES, Query, compute
from analysis.stats import beta_binomial_eb
from analysis.tables import Request, _numbers, build_rows
from core.extensions import db
from core.models import Unit
from survey.response_insert import import_responses
from tests.conftest import add_units

Z = 1.959963984540054
MARCH = Query(date(2024, 3, 1), date(2024, 3, 31))
POPULATION = {"26734": 30000, "26737": 10000, "26800": 50000, "760": 40000, "769": 50000}


def import_rows(rows: list[dict]) -> int:
    """Import responses through the CSV importer (all rows share the keys of the first)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    count = import_responses(out.getvalue().encode())
    db.session.commit()
    return count


def response(unit, a1, b1, hk=False, when="2024-03-15 09:00", channel="paper"):
    blank = "" if a1 is None else str(a1)
    return {"unit_code": unit, "submitted_at": when, "channel": channel, "A1": blank,
            "B1": "" if b1 is None else str(b1), "HK": "yes" if hk else "no"}  # fmt: skip


def hand_example() -> None:
    """Import the example: three communes answering A1 and B1 only (so overall = mean of two)."""
    # Bến Nghé, 12 responses. A1: 9 satisfied of 11 answers (the 0 is "no opinion").
    # B1: 7 of 10 (two blank). HK: 3 of 12. Two at the edges of March, local time.
    a1 = [5, 5, 4, 4, 4, 4, 4, 4, 4, 2, 1, 0]
    b1 = [4, 4, 4, 4, 4, 4, 3, 3, 2, None, None, 5]
    rows = [response("26734", a, b, hk=i < 3) for i, (a, b) in enumerate(zip(a1, b1, strict=True))]
    rows[0]["submitted_at"] = "01/03/2024"  # local midnight that starts March
    rows[1]["submitted_at"] = "2024-03-31 23:59:59.9996"  # the last instant of March
    # Outside March by a hair on each side: never counted.
    rows.append(response("26734", 1, 1, when="2024-02-29 23:59:59"))
    rows.append(response("26734", 1, 1, when="01/04/2024"))
    # Đa Kao, 8 responses: A1 8 of 8, B1 4 of 8, HK 0 of 8 -> suppressed (n < 10).
    rows += [response("26737", 5, 4 if i < 4 else 1) for i in range(8)]
    # Thảo Điền, 30 responses: A1 24 of 30, B1 15 of 30, HK 6 of 30.
    rows += [response("26800", 4 if i < 24 else 2, 5 if i < 15 else 3, hk=i < 6) for i in range(30)]
    import_rows(rows)


def wilson(x, n):
    """docs/methods.md: centre (p + z²/2n)/(1 + z²/n), half z·sqrt(p(1−p)/n + z²/4n²)/(1 + z²/n)."""
    p = x / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (0.0 if x == 0 else centre - half, 1.0 if x == n else centre + half)


def figure(table, code, measure):
    u, m = table.tree.codes.index(code), MEASURES.index(measure)
    return (table.n[u, m], table.estimate[u, m], table.ci_low[u, m], table.ci_high[u, m],
            str(table.flag[u, m]))  # fmt: skip


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_criteria_and_household_register_by_hand(tree, questionnaire):
    hand_example()
    table = compute(load_frame(), MARCH)
    # Bến Nghé A1: 9/11 = 0.8182, Wilson 0.5230-0.9486; n = 11 < 30: few answers.
    n, p, low, high, flag = figure(table, "26734", "criterion:A1")
    assert (n, flag) == (11, "few_answers") and close(p, 9 / 11)
    assert close(low, wilson(9, 11)[0]) and close(high, wilson(9, 11)[1])
    assert round(low, 4) == 0.5230 and round(high, 4) == 0.9486
    # B1: 7/10 = 0.70, Wilson 0.3968-0.8922 (blanks are not answers).
    assert figure(table, "26734", "criterion:B1")[:2] == (10, 0.7)
    # HK: every response counts; 3/12 = 0.25, Wilson 0.0889-0.5323.
    n, p, low, high, _ = figure(table, "26734", "household_register_asked")
    assert (n, p) == (12, 0.25) and close(low, wilson(3, 12)[0]) and close(high, wilson(3, 12)[1])
    # Đa Kao A1: 8/8, Wilson 0.6756-1 exactly; but n = 8 < 10: suppressed, and so hidden.
    n, p, low, high, flag = figure(table, "26737", "criterion:A1")
    assert (n, p, high, flag) == (8, 1.0, 1.0, "suppressed") and round(low, 4) == 0.6756
    # Thảo Điền A1: 24/30, 0.6269-0.9049, 0.28 wide: no flag. B1: 15/30, 0.3315-0.6685,
    # 0.337 wide: imprecise.
    assert figure(table, "26800", "criterion:A1")[4] == ""
    n, p, low, high, flag = figure(table, "26800", "criterion:B1")
    assert (n, p, flag) == (30, 0.5, "imprecise") and close(high - low, 2 * (0.5 - low))
    assert round(low, 4) == 0.3315
    rows = {(r["unit_code"], r["measure"]): r for r in build_rows(Request(MARCH), load_frame())[1]}
    hidden = rows["26737", "criterion:A1"]
    assert (hidden["n"], hidden["estimate"], hidden["ci_low"], hidden["flag"]) == (
        8, None, None, "suppressed"
    )  # fmt: skip
    assert rows["26734", "criterion:A1"]["estimate"] == round(9 / 11, 6)


def test_composite_by_hand(tree, questionnaire):
    hand_example()
    table = compute(load_frame(), MARCH)
    # Overall of Bến Nghé = (9/11 + 7/10)/2 = 0.7591 (only A and B asked: E = 2, K_e = 1).
    # u_i = ½·r_iA1·(y_iA1 − 9/11)/11 + ½·r_iB1·(y_iB1 − 0.7)/10; V = n/(n−1)·Σu², n = 12
    # (everyone answered A1 or B1), V = 0.009145; logit interval with t(11) = 2.2010:
    # 0.4992-0.9088.
    a1 = [5, 5, 4, 4, 4, 4, 4, 4, 4, 2, 1, 0]
    b1 = [4, 4, 4, 4, 4, 4, 3, 3, 2, None, None, 5]
    u = [
        (0.5 * (a >= 4) - 0.5 * 9 / 11) / 11 * (a >= 1)
        + ((0.5 * (b >= 4) - 0.5 * 0.7) / 10 if b is not None else 0)
        for a, b in zip(a1, b1, strict=True)
    ]
    estimate, variance = (9 / 11 + 0.7) / 2, 12 / 11 * sum(x * x for x in u)
    half = scipy_stats.t.isf(0.025, 11) * math.sqrt(variance) / (estimate * (1 - estimate))
    logit = math.log(estimate / (1 - estimate))
    n, p, low, high, flag = figure(table, "26734", "overall")
    assert (n, flag) == (12, "few_answers") and close(p, estimate)
    assert close(table.variance[table.tree.codes.index("26734"), 0], variance)
    assert close(low, 1 / (1 + math.exp(-(logit - half))))
    assert close(high, 1 / (1 + math.exp(-(logit + half))))
    assert (round(low, 4), round(high, 4)) == (0.4992, 0.9088)
    # The element indexes are the criteria themselves here, with their own n.
    assert figure(table, "26734", "element:A")[:2] == (11, 9 / 11)
    assert figure(table, "26734", "element:B")[:2] == (10, 0.7)
    assert math.isnan(figure(table, "26734", "element:C")[1])


def stratified(parts):
    """Combine (weight, p, V) strata: p = ΣWp/ΣW, V = ΣW²V/(ΣW)², n_eff = p(1−p)/V."""
    total = sum(w for w, _p, _v in parts)
    p = sum(w * p for w, p, _v in parts) / total
    v = sum(w * w * v for w, _p, v in parts) / total**2
    return p, v, p * (1 - p) / v


def test_roll_up_with_respondent_weights(tree, questionnaire):
    hand_example()
    table = compute(load_frame(), MARCH)
    # Quận 1 A1 = (11·9/11 + 8·1)/19 = 17/19 = 0.8947; V = 11²·(9/11·2/11/11)/19² = 0.004533,
    # n_eff = 20.8; Wilson on (p·n_eff, n_eff). The suppressed Đa Kao still counts.
    p760, v760, n_eff = stratified([(11, 9 / 11, 9 / 11 * 2 / 11 / 11), (8, 1.0, 0.0)])
    assert close(p760, 17 / 19) and round(n_eff, 2) == 20.78
    n, p, low, high, flag = figure(table, "760", "criterion:A1")
    assert (n, flag) == (19, "few_answers") and close(p, p760)
    assert close(low, wilson(p760 * n_eff, n_eff)[0]) and close(
        high, wilson(p760 * n_eff, n_eff)[1]
    )
    # Thủ Đức has one child: its figure is Thảo Điền's, n_eff = 30.
    assert figure(table, "769", "criterion:A1")[:2] == (30, 0.8)
    # The province: (19·17/19 + 30·0.8)/49 = 41/49 = 0.8367.
    p79, v79, n_eff79 = stratified([(19, p760, v760), (30, 0.8, 0.8 * 0.2 / 30)])
    n, p, low, high, flag = figure(table, "79", "criterion:A1")
    assert n == 49 and close(p, 41 / 49) and close(p79, 41 / 49)
    assert close(table.variance[0, MEASURES.index("criterion:A1")], v79)
    assert close(low, wilson(p79 * n_eff79, n_eff79)[0])
    assert flag == ("few_answers" if n_eff79 < 30 else "")
    # Overall: the communes' composites weighted by their respondents, 12 and 8.
    overall = MEASURES.index("overall")
    commune = [table.tree.codes.index(c) for c in ("26734", "26737")]
    parts = [(table.n[c, overall], table.estimate[c, overall], table.variance[c, overall])
             for c in commune]  # fmt: skip
    assert [w for w, _p, _v in parts] == [12, 8]
    assert close(figure(table, "760", "overall")[1], stratified(parts)[0])


def test_a_parent_with_one_stratum_has_that_strata_interval(tree, questionnaire):
    # April: only Thảo Điền answered, 12 people, all satisfied with A1; B1 left blank by 4.
    rows = [response("26800", 5, 5 if i < 8 else None, when="2024-04-10 10:00") for i in range(12)]
    import_rows(rows)
    table = compute(load_frame(), Query(date(2024, 4, 1), date(2024, 4, 30)))
    # Its overall index is 1.0: Wilson on n = min_k n_k = 8 (STATS.md), low = 8/(8 + z²).
    n, p, low, high, _flag = figure(table, "26800", "overall")
    assert (n, p, high) == (12, 1.0, 1.0) and close(low, 8 / (8 + Z * Z))
    # Thủ Đức has nothing but Thảo Điền, the province nothing but Thủ Đức: the same figure
    # and interval, not Wilson on the 12 respondents (0.7575), narrower than the ward's own.
    for parent in ("769", "79"):
        assert figure(table, parent, "overall")[:4] == (12, 1.0, low, 1.0), parent
    # In March Thủ Đức again has Thảo Điền alone, whose composite has a Student t interval on
    # the logit scale: every measure of Thủ Đức is its ward's, interval included.
    table = compute(load_frame(), MARCH)
    ward, district = table.tree.codes.index("26800"), table.tree.codes.index("769")
    for values in (table.estimate, table.ci_low, table.ci_high):
        assert np.array_equal(values[ward], values[district], equal_nan=True)


def test_a_parent_of_strata_at_one_is_no_narrower_than_their_fewest_answers(tree, questionnaire):
    # April: Bến Nghé and Đa Kao, 12 people each, all satisfied with A1; B1 left blank by 4.
    import_rows(
        [response(code, 5, 5 if i < 8 else None, when="2024-04-10 10:00")
         for code in ("26734", "26737") for i in range(12)]
    )  # fmt: skip
    query = Query(date(2024, 4, 1), date(2024, 4, 30))
    table = compute(load_frame(), query)
    # Each ward: Wilson on its fewest answers to a criterion, B1's 8: low = 8/(8 + z²).
    for ward in ("26734", "26737"):
        assert close(figure(table, ward, "overall")[2], 8 / (8 + Z * Z)), ward
    # Quận 1's two strata are at 1, so p(1-p)/V has no value: Wilson on their 8 + 8 answers
    # to B1, 0.8064, not on their 24 respondents (0.8620), which no criterion had.
    n, p, low, high, _flag = figure(table, "760", "overall")
    assert (n, p, high) == (24, 1.0, 1.0) and close(low, 16 / (16 + Z * Z))
    assert close(figure(table, "760", "element:B")[2], 16 / (16 + Z * Z))
    # A1, answered by all 24, and element A have their 24.
    for measure in ("criterion:A1", "element:A"):
        assert close(figure(table, "760", measure)[2], 24 / (24 + Z * Z)), measure
    # The province has Quận 1 alone: the same interval. The slow path agrees.
    assert figure(table, "79", "overall")[2] == low
    problems, _checked, responses = verify.differences(query)
    assert problems == [] and responses == 24


def test_an_aggregate_of_few_respondents_is_flagged_whatever_its_n_eff(tree, questionnaire):
    hand_example()
    table = compute(load_frame(), MARCH)
    # Quận 1's overall index pools 12 + 8 = 20 respondents; its composite's p(1-p)/V is larger
    # than 30, but 20 respondents are few answers all the same.
    overall = MEASURES.index("overall")
    commune = [table.tree.codes.index(c) for c in ("26734", "26737")]
    parts = [(table.n[c, overall], table.estimate[c, overall], table.variance[c, overall])
             for c in commune]  # fmt: skip
    assert stratified(parts)[2] > 30
    n, _p, _low, _high, flag = figure(table, "760", "overall")
    assert (n, flag) == (20, "few_answers")


def test_roll_up_with_population_weights(tree, questionnaire):
    for code, population in POPULATION.items():
        tree[code].population = population
    db.session.commit()
    hand_example()
    table = compute(load_frame(), Query(MARCH.first, MARCH.last, weighting="population"))
    # Quận 1: Bến Nghé has 30,000 people and Đa Kao 10,000, so shares 3/4 and 1/4 of the 19
    # respondents: A1 = 0.75·9/11 + 0.25·1 = 0.8636; V = 0.75²·(9/11·2/11)/11 = 0.007607.
    share = [(19 * 3 / 4, 9 / 11, 9 / 11 * 2 / 11 / 11), (19 / 4, 1.0, 0.0)]
    p760, v760, n_eff = stratified(share)
    assert close(p760, 0.75 * 9 / 11 + 0.25) and round(p760, 4) == 0.8636
    n, p, low, _high, _flag = figure(table, "760", "criterion:A1")
    assert n == 19 and close(p, p760) and close(low, wilson(p760 * n_eff, n_eff)[0])
    # The province: Quận 1 40,000 and Thủ Đức 50,000 people: 4/9 and 5/9 of 49.
    p79, _v, _n = stratified([(49 * 4 / 9, p760, v760), (49 * 5 / 9, 0.8, 0.16 / 30)])
    assert close(figure(table, "79", "criterion:A1")[1], p79)
    assert close(p79, 4 / 9 * p760 + 5 / 9 * 0.8)


def test_unknown_population_falls_back_to_respondents(tree, questionnaire):
    tree["26734"].population = 30000  # Đa Kao's is unknown
    db.session.commit()
    hand_example()
    by_population = compute(load_frame(), Query(MARCH.first, MARCH.last, weighting="population"))
    by_respondents = compute(load_frame(), MARCH)
    assert close(figure(by_population, "760", "criterion:A1")[1], 17 / 19)
    assert close(figure(by_respondents, "760", "criterion:A1")[1], 17 / 19)


def test_change_between_periods(tree, questionnaire):
    hand_example()
    # February at Thảo Điền: A1 10 of 20.
    import_rows([response("26800", 4 if i < 10 else 1, 4, when="2024-02-10 10:00")
                 for i in range(20)])  # fmt: skip
    request = Request(MARCH, unit_code="26800", compare="previous",
                      measures=("criterion:A1", "criterion:B1"))  # fmt: skip
    rows = {r["measure"]: r for r in build_rows(request, load_frame())[1]}
    a1 = rows["criterion:A1"]
    # 0.8 − 0.5 = +0.30 ± 1.96·sqrt(0.8·0.2/30 + 0.5·0.5/20) = ±0.257: significant.
    half = Z * math.sqrt(0.8 * 0.2 / 30 + 0.5 * 0.5 / 20)
    assert a1["previous_estimate"] == 0.5 and a1["change"] == pytest.approx(0.3, abs=1e-6)
    assert a1["change_ci_low"] == pytest.approx(0.3 - half, abs=1e-6)
    assert a1["change_ci_high"] == pytest.approx(0.3 + half, abs=1e-6)
    assert a1["significant"] is True
    # B1: 0.5 in March against 1.0 in February; the interval excludes zero as well.
    b1 = rows["criterion:B1"]
    assert b1["change"] == pytest.approx(-0.5, abs=1e-6) and b1["significant"] is True
    for row in rows.values():
        assert row["significant"] == (row["change_ci_low"] > 0 or row["change_ci_high"] < 0)


def test_change_not_significant_and_hidden(tree, questionnaire):
    hand_example()
    import_rows([response("26800", 4 if i < 22 else 1, 4, when="2024-02-10 10:00")
                 for i in range(30)])  # fmt: skip
    import_rows([response("26737", 5, 5, when="2024-02-10 10:00") for _ in range(12)])
    request = Request(MARCH, compare="previous", measures=("criterion:A1",))
    rows = {r["unit_code"]: r for r in build_rows(request, load_frame())[1]}
    # 24/30 against 22/30: +0.067, interval about ±0.21: includes zero.
    assert rows["26800"]["significant"] is False
    assert rows["26800"]["change_ci_low"] < 0 < rows["26800"]["change_ci_high"]
    # Đa Kao's March figure is suppressed: no change is shown for it.
    assert rows["26737"]["change"] is None and rows["26737"]["significant"] is None


def test_ranks_only_on_overall_rows(tree, questionnaire):
    hand_example()
    rows = build_rows(Request(MARCH, ranks=True, shrink=True), load_frame())[1]
    ranked = [r for r in rows if r["rank"] is not None]
    assert ranked and {r["measure"] for r in ranked} == {"overall"}
    assert all(r["shrunk_estimate"] is None for r in rows if r["measure"] != "overall")
    # Quận 1 and Thủ Đức are the province's two ranked children, each with a rank interval.
    districts = {r["unit_code"]: r for r in ranked if r["level"] != "Phường"}
    assert set(districts) == {"760", "769"}
    for row in districts.values():
        assert row["rank_among"] == 2 and 1 <= row["rank_low"] <= row["rank"] <= row["rank_high"]


def overall_row(rows, code):
    return next(r for r in rows if r["unit_code"] == code and r["measure"] == "overall")


def test_a_unit_where_everyone_was_satisfied_is_ranked_first(tree, questionnaire):
    # Bến Nghé 40 of 40 (variance 0), Đa Kao 20 of 40: far apart, so each rank is known.
    rows = [response("26734", 5, 5) for _ in range(40)]
    rows += [response("26737", 5 if i < 20 else 1, 5 if i < 20 else 1) for i in range(40)]
    import_rows(rows)
    request = Request(MARCH, unit_code="760", measures=("overall",), ranks=True)
    out = build_rows(request, load_frame())[1]
    best, other = overall_row(out, "26734"), overall_row(out, "26737")
    assert (best["estimate"], best["flag"]) == (1.0, "")
    ranks = [(r["rank"], r["rank_low"], r["rank_high"], r["rank_among"]) for r in (best, other)]
    assert ranks == [(1, 1, 1, 2), (2, 2, 2, 2)]


def test_twelve_satisfied_of_twelve_are_not_known_to_beat_or_fall_to_ninety_percent(
    tree, questionnaire
):
    # Bến Nghé 12 of 12 in February, 36 of 40 in March; Đa Kao 36 of 40 in March. Taken as
    # certain (variance 0), 12 of 12 would be a significant fall and a known first rank; its
    # Wilson interval, 0.76-1, says neither is known.
    rows = [response("26734", 5, 5, when="2024-02-10 10:00") for _ in range(12)]
    rows += [response("26734", 5 if i < 36 else 1, 5 if i < 36 else 1) for i in range(40)]
    rows += [response("26737", 5 if i < 36 else 1, 5 if i < 36 else 1) for i in range(40)]
    import_rows(rows)
    request = Request(MARCH, unit_code="26734", measures=("overall",), compare="previous")
    fall = overall_row(build_rows(request, load_frame())[1], "26734")
    assert (fall["previous_estimate"], fall["change"]) == (1.0, pytest.approx(-0.1, abs=1e-6))
    assert fall["change_ci_low"] < 0 < fall["change_ci_high"] and fall["significant"] is False
    february = Query(date(2024, 2, 1), date(2024, 2, 29))
    import_rows([response("26737", 5 if i < 36 else 1, 5 if i < 36 else 1,
                          when="2024-02-10 10:00") for i in range(40)])  # fmt: skip
    request = Request(february, unit_code="760", measures=("overall",), ranks=True)
    out = build_rows(request, load_frame())[1]
    ranks = [(r["rank"], r["rank_low"], r["rank_high"]) for r in
             (overall_row(out, "26734"), overall_row(out, "26737"))]  # fmt: skip
    assert ranks == [(1, 1, 2), (2, 1, 2)]


def test_a_small_unit_where_everyone_was_satisfied_is_shrunk(tree, questionnaire):
    add_units(Unit(code="26740", name="Phường Tân Định", level="Phường", parent=tree["760"]))
    rows = [response("26734", 5, 5) for _ in range(12)]  # 12 of 12: few answers
    rows += [response("26737", 5 if i < 20 else 1, 5 if i < 20 else 1) for i in range(40)]
    rows += [response("26740", 5 if i < 30 else 1, 5 if i < 30 else 1) for i in range(40)]
    import_rows(rows)
    request = Request(MARCH, unit_code="760", measures=("overall",), shrink=True)
    out = build_rows(request, load_frame())[1]
    small = overall_row(out, "26734")
    assert (small["estimate"], small["flag"]) == (1.0, "few_answers")
    # Shrunk with its 12 respondents as its sample, between the pooled mean and its own 1.0. The
    # others' samples are their n_eff = p(1 - p)/V = n - 1, as V = p(1 - p)/(n - 1) for answers
    # alike on every criterion.
    n = np.array([12, 39, 39.0])
    x = np.array([1, 0.5, 0.75]) * n
    posterior = beta_binomial_eb(x, n).posterior
    assert small["shrunk_estimate"] == pytest.approx(posterior[0])
    assert x.sum() / n.sum() < small["shrunk_estimate"] < 1.0


@pytest.mark.parametrize(
    ("first", "last", "mode", "earlier"),
    [
        ("2024-03-01", "2024-03-31", "previous", ("2024-02-01", "2024-02-29")),
        ("2024-01-01", "2024-03-31", "previous", ("2023-10-01", "2023-12-31")),
        ("2024-01-01", "2024-12-31", "previous", ("2023-01-01", "2023-12-31")),
        ("2024-03-05", "2024-03-11", "previous", ("2024-02-27", "2024-03-04")),
        ("2024-02-01", "2024-02-29", "year", ("2023-02-01", "2023-02-28")),
        ("2025-02-01", "2025-02-28", "year", ("2024-02-01", "2024-02-29")),
        ("2024-03-01", "2025-02-28", "year", ("2023-03-01", "2024-02-29")),
        ("2025-02-10", "2025-02-28", "year", ("2024-02-10", "2024-02-28")),
        ("2024-02-29", "2024-03-31", "year", ("2023-02-28", "2023-03-31")),
    ],
)
def test_earlier_periods(first, last, mode, earlier):
    query = earlier_query(Query(date.fromisoformat(first), date.fromisoformat(last)), mode)
    assert (query.first.isoformat(), query.last.isoformat()) == earlier


def test_february_against_a_year_earlier_counts_the_29th(tree, questionnaire):
    rows = [response("26800", 5, 5, when="2024-02-28 10:00") for _ in range(20)]
    rows += [response("26800", 1, 1, when="2024-02-29 10:00") for _ in range(20)]
    rows += [response("26800", 5, 5, when="2025-02-10 10:00") for _ in range(20)]
    import_rows(rows)
    query = Query(date(2025, 2, 1), date(2025, 2, 28))
    request = Request(query, unit_code="26800", measures=("criterion:A1",), compare="year")
    [row] = [r for r in build_rows(request, load_frame())[1] if r["unit_code"] == "26800"]
    assert row["previous_estimate"] == pytest.approx(20 / 40)  # the 28th's 20 and the 29th's 20


def test_row_numbers_are_pythons_round_to_six_places():
    rng = np.random.default_rng(5)
    ties = np.arange(1, 641) / 640  # 401/640 = 0.6265625: half-way at the 7th decimal
    values = np.concatenate([rng.random(20_000), -rng.random(2_000), ties, [0.0, 1.0, -0.0]])
    expected = [round(v, 6) for v in values.tolist()]
    assert _numbers(values) == expected
    assert any(np.round(v, 6) != e for v, e in zip(values, expected, strict=True))  # not numpy's
    shown = np.arange(len(values)) % 3 > 0
    hidden = _numbers(np.append(values, [np.nan, np.inf]), np.append(shown, [True, True]))
    assert hidden == [e if s else None for e, s in zip(expected, shown, strict=True)] + [None] * 2


def test_a_child_with_one_respondent_counts_in_its_parents_figures(tree, questionnaire):
    """A commune with a single answer (common in a month) is in its district's figure as in n."""
    import_rows([response("26734", 1, 1)] + [response("26737", 5, 5) for _ in range(20)])
    table = compute(load_frame(), MARCH)
    district = table.tree.codes.index("760")
    for measure in ("criterion:A1", "element:A", "overall"):
        m = MEASURES.index(measure)
        # 20 of 21 respondents satisfied, on A1 and on B1 alike.
        assert table.n[district, m] == 21, measure
        assert table.estimate[district, m] == pytest.approx(20 / 21), measure


def test_a_population_of_0_counts_as_unknown_not_as_no_weight(tree, questionnaire):
    # Đa Kao (8 answers) and Thảo Điền (30, Thủ Đức's only commune) say 0 people: weighing them
    # by 0 would drop their answers from Quận 1's figure and leave Thủ Đức none at all.
    for code, population in POPULATION.items():
        tree[code].population = population
    tree["26737"].population = tree["26800"].population = 0
    db.session.commit()
    hand_example()
    table = compute(load_frame(), Query(MARCH.first, MARCH.last, weighting="population"))
    by_respondents = compute(load_frame(), MARCH)
    for code in ("760", "769"):
        assert figure(table, code, "criterion:A1") == figure(by_respondents, code, "criterion:A1")
    assert close(figure(table, "760", "criterion:A1")[1], 17 / 19)
    assert figure(table, "769", "criterion:A1")[:2] == (30, 0.8)
    # The province still weighs its districts by their population, 4/9 and 5/9.
    p79 = 4 / 9 * 17 / 19 + 5 / 9 * 0.8
    assert close(figure(table, "79", "criterion:A1")[1], p79)

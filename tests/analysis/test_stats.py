import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis.stats import (
    beta_binomial_eb,
    centred_sums,
    clopper_pearson,
    comparison_variance,
    composite_from_rows,
    composite_from_sums,
    cross_products,
    difference,
    element_weights,
    flag,
    grouped_products,
    overall_weights,
    point_ranks,
    rank_bounds,
    rank_critical_value,
    rank_intervals,
    rollup,
    wilson,
    wilson_cc,
)

# Newcombe (1998), Statistics in Medicine 17:857-872, table I, as quoted in docs/methods.md
# ("Criterion index and household-register rate").
NEWCOMBE = [
    (81, 263, (0.2553, 0.3662), (0.2535, 0.3682), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0598, 0.1644), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.2005), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0018, 0.1963), (0.0009, 0.1776)),
]
SIZES = {"A": 4, "B": 4, "C": 4, "D": 4, "E": 3}  # 19 criteria, as in the survey form
CODES = [f"{element}{i}" for element, size in SIZES.items() for i in range(1, size + 1)]


@pytest.mark.parametrize(("x", "n", "plain", "corrected", "exact"), NEWCOMBE)
def test_intervals_match_newcombe(x, n, plain, corrected, exact):
    assert np.round(wilson(x, n), 4).tolist() == list(plain)
    assert np.round(wilson_cc(x, n), 4).tolist() == list(corrected)
    assert np.round(clopper_pearson(x, n), 4).tolist() == list(exact)


@pytest.mark.parametrize(("ours", "method"), [(wilson, "wilson"), (clopper_pearson, "beta")])
def test_intervals_match_statsmodels(ours, method):
    rng = np.random.default_rng(20240501)
    n = rng.integers(1, 500, 3000)
    x = rng.integers(0, n + 1)
    x[:300], x[300:600] = 0, n[300:600]
    low, high = ours(x, n)
    expected_low, expected_high = proportion_confint(x, n, alpha=0.05, method=method)
    np.testing.assert_allclose(low, expected_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, rtol=0, atol=1e-12)


@pytest.mark.parametrize("interval", [wilson, wilson_cc, clopper_pearson])
def test_intervals_are_exact_at_the_edges_and_empty_without_answers(interval):
    low, high = interval([0, 7, 0, 3], [7, 7, 0, 10])
    assert (low[0], high[1]) == (0.0, 1.0)
    assert 0 < high[0] < 0.5 < low[1] < 1
    assert np.isnan([low[2], high[2]]).all()
    assert 0 < low[3] < 0.3 < high[3] < 1


def test_weights_follow_elements_and_present_criteria():
    codes = ["A1", "A2", "B1", "C1", "C2", "C3"]
    np.testing.assert_allclose(overall_weights(codes), [1 / 6, 1 / 6, 1 / 3, 1 / 9, 1 / 9, 1 / 9])
    weights = element_weights(codes)
    assert list(weights) == ["A", "B", "C"]
    np.testing.assert_allclose(weights["A"], [0.5, 0.5, 0, 0, 0, 0])
    # A unit where B1 and C3 were not asked: two elements, C over its two criteria.
    present = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0]], bool)
    np.testing.assert_allclose(overall_weights(codes, present)[1], [0.25, 0.25, 0, 0.25, 0.25, 0])
    np.testing.assert_allclose(element_weights(codes, present)["B"][1], 0)


def random_units(rng, count):
    """Yield (answered, satisfied) rows for units of varied size, blank rate and satisfaction."""
    for _ in range(count):
        size = rng.integers(2, 60)
        answered = rng.random((size, len(CODES))) > rng.uniform(0, 0.5)
        satisfied = (rng.random((size, len(CODES))) < rng.uniform(0.2, 0.95)) & answered
        yield answered, satisfied


def test_composite_from_sums_equals_the_per_respondent_computation():
    rng = np.random.default_rng(7)
    units = list(random_units(rng, 150))
    # Edge units: everyone satisfied, no-one satisfied, one criterion never answered, one row.
    full = np.ones((20, len(CODES)), bool)
    never_a3 = full & (np.arange(19) != 2)
    units += [(full, full), (full, ~full), (never_a3, full), (full[:1], full[:1])]
    answered = np.concatenate([a for a, _ in units])
    satisfied = np.concatenate([s for _, s in units])
    unit = np.repeat(np.arange(len(units)), [len(a) for a, _ in units])
    sums = cross_products(answered, satisfied, unit)
    shared = centred_sums(*sums)  # what the overall index and the elements have in common
    for weights in [overall_weights(CODES), *element_weights(CODES).values()]:
        used = weights > 0
        n = np.bincount(unit, answered[:, used].any(1), len(units))
        batch = composite_from_sums(*sums, n=n, weights=weights)
        for i, (a, s) in enumerate(units):
            one = composite_from_rows(a, s, weights)
            np.testing.assert_allclose([f[i] for f in batch], one, rtol=1e-9, atol=1e-15)
        with_shared = composite_from_sums(*sums, n=n, weights=weights, centred=shared)
        for field, again in zip(batch, with_shared, strict=True):
            np.testing.assert_array_equal(field, again)
    full_n = np.bincount(unit, answered.any(1))
    overall = composite_from_sums(*sums, n=full_n, weights=overall_weights(CODES))
    assert overall.estimate[-4:-2].tolist() == [1.0, 0.0]
    assert np.isnan(overall.estimate[-2])  # a weighted criterion nobody answered
    # One respondent: variance 0, as a criterion's p(1 - p)/n; Wilson on 1 of 1, whose lower
    # bound is 1/(1 + z^2).
    assert (overall.estimate[-1], overall.variance[-1]) == (1.0, 0.0)
    z = stats.norm.ppf(0.975)
    assert overall.ci_low[-1] == pytest.approx(1 / (1 + z * z)) and overall.ci_high[-1] == 1.0


def test_cross_products_in_any_row_order_equal_sums_by_hand():
    rng = np.random.default_rng(3)
    answered = rng.random((500, len(CODES))) < 0.8
    satisfied = rng.random((500, len(CODES))) < 0.6
    unit = np.sort(rng.integers(0, 7, 500))
    unit[unit == 4] = 6  # unit 4 has no rows; 5 and 6 follow it
    y = answered & satisfied
    for order in [np.arange(500), rng.permutation(500)]:  # one run per unit, then shuffled
        sums = cross_products(answered[order], satisfied[order], unit[order], 8)
        for u in range(8):
            r, s = answered[unit == u].astype(int), y[unit == u].astype(int)
            assert np.array_equal(sums.rr[u], r.T @ r)
            assert np.array_equal(sums.yr[u], s.T @ r)
            assert np.array_equal(sums.yy[u], s.T @ s)
    assert not sums.rr[4].any() and not sums.rr[7].any()


@pytest.mark.parametrize("width", [1, 8, 13, 46])
def test_grouped_products_of_packed_rows_equal_products_by_hand(width):
    rng = np.random.default_rng(width)
    x = (rng.random((300, width)) < 0.5).astype(np.uint8)
    starts, ends = np.array([0, 40, 41, 170]), np.array([40, 41, 170, 300])
    groups = np.array([2, 0, 2, 3])  # group 2 holds two slices, group 1 none
    expected = np.zeros((4, width, width))
    for g, start, end in zip(groups, starts, ends, strict=True):
        rows = x[start:end].astype(int)
        expected[g] += rows.T @ rows
    for packed, w in [(np.packbits(x, axis=1), width), (x, None)]:
        got = grouped_products(packed, starts, ends, groups, 4, w)
        assert got.shape == (4, width, width) and np.array_equal(got, expected)


def test_composite_without_blanks_is_the_variance_of_the_respondent_score():
    rng = np.random.default_rng(3)
    satisfied = rng.random((80, len(CODES))) < 0.7
    weights = overall_weights(CODES)
    result = composite_from_rows(np.ones_like(satisfied), satisfied, weights)
    score = satisfied @ weights
    assert result.estimate == pytest.approx(score.mean())
    assert result.variance == pytest.approx(np.var(score, ddof=1) / 80)
    # Logit interval with Student t on 79 df, worked from the estimate and variance.
    o, se = score.mean(), np.sqrt(np.var(score, ddof=1) / 80)
    half = stats.t.ppf(0.975, 79) * se / (o * (1 - o))
    expected = 1 / (1 + np.exp(-(np.log(o / (1 - o)) + np.array([-half, half]))))
    np.testing.assert_allclose([result.ci_low, result.ci_high], expected)


def test_composite_at_one_falls_back_to_wilson_on_the_smallest_criterion():
    answered = np.ones((40, 3), bool)
    answered[:15, 2] = False  # n_3 = 25
    result = composite_from_rows(answered, answered, [1 / 3] * 3)
    assert (result.estimate, result.variance) == (1.0, 0.0)
    np.testing.assert_allclose([result.ci_low, result.ci_high], wilson(25, 25))


def test_linearised_se_matches_the_bootstrap_and_exceeds_the_naive_se():
    rng = np.random.default_rng(150)
    size, weights = 150, overall_weights(CODES)
    latent = rng.standard_normal((size, 1))  # one satisfaction factor behind all 19 criteria
    answered = rng.random((size, 19)) > 0.1
    satisfied = (latent + rng.standard_normal((size, 19)) > rng.uniform(-1.5, 0, 19)) & answered
    linearised = np.sqrt(composite_from_rows(answered, satisfied, weights).variance)
    draws = rng.integers(0, size, (2000, size))
    replicates = (satisfied[draws].sum(1) / answered[draws].sum(1)) @ weights
    assert replicates.std(ddof=1) == pytest.approx(linearised, rel=0.10)
    n_k = answered.sum(0)
    p = satisfied.sum(0) / n_k
    naive = np.sqrt(np.sum(weights**2 * p * (1 - p) / n_k))
    assert naive < 0.8 * linearised


def test_rollup_by_hand():
    # W = 100/400, 300/400 = 0.25, 0.75; p = 0.25*0.8 + 0.75*0.6 = 0.65
    # V = 0.25²*0.0016 + 0.75²*0.0024 = 0.0001 + 0.00135 = 0.00145
    # n_eff = 0.65*0.35/0.00145 = 156.897; Wilson on x = 0.65*156.897 of 156.897:
    # z²/n = 0.024484, centre = 0.662242/1.024484 = 0.64642, half = 1.96*sqrt(0.001489)/1.024484
    # = 0.07382, so 0.5726 to 0.7202.
    result = rollup([0.8, 0.6], [0.0016, 0.0024], [100, 300])
    assert result.estimate == pytest.approx(0.65)
    assert result.variance == pytest.approx(0.00145)
    assert result.n_eff == pytest.approx(156.897, abs=1e-3)
    assert result.ci_low == pytest.approx(0.5726, abs=1e-4)
    assert result.ci_high == pytest.approx(0.7202, abs=1e-4)


def test_rollup_groups_skip_children_without_data_and_nest():
    p = np.array([0.8, 0.6, np.nan, 0.5, 0.9, 1.0, 1.0])
    v = np.array([0.0016, 0.0024, np.nan, 0.004, 0.002, 0.0, 0.0])
    n = np.array([100, 300, 0, 60, 40, 20, 30])
    district = np.array([0, 0, 0, 1, 1, 2, 2])
    result = rollup(p, v, n, parent=district, n=n)
    assert result.estimate[0] == pytest.approx(0.65)  # the NaN commune is left out
    assert result.variance[0] == pytest.approx(0.00145)
    assert result.estimate[1] == pytest.approx(0.66)
    assert result.variance[1] == pytest.approx(0.6**2 * 0.004 + 0.4**2 * 0.002)
    assert (result.n_eff[2], result.ci_high[2]) == (50, 1.0)  # V = 0: n_eff is the answers
    # Province from districts, weighted by their answers, equals province from communes directly.
    province = rollup(result.estimate, result.variance, np.bincount(district, n))
    direct = rollup(p, v, n)
    assert province.estimate == pytest.approx(direct.estimate)
    assert province.variance == pytest.approx(direct.variance)


def test_difference_by_hand():
    # Change 0.60 -> 0.70, SE = sqrt(0.0016 + 0.0009) = 0.05, CI 0.1 ± 0.098 = 0.002 to 0.198.
    change = difference([0.60, 0.60], [0.0016, 0.0016], [0.70, 0.65], [0.0009, 0.0009])
    assert change.difference == pytest.approx([0.10, 0.05])
    assert change.ci_low[0] == pytest.approx(0.0020, abs=1e-4)
    assert change.ci_high[0] == pytest.approx(0.1980, abs=1e-4)
    assert change.significant.tolist() == [True, False]
    assert difference(0.7, 0.0009, 0.6, 0.0016).significant  # a significant fall


def test_a_figure_at_0_or_1_is_compared_with_the_variance_its_interval_implies():
    # 0/20: Wilson 0.0000-0.1611 (Newcombe's table): one-sided, so SE = 0.1611 / 1.96.
    v = comparison_variance([0.0, 0.0016], [0.0, 0.1], [0.1611, 0.3])
    assert np.sqrt(v[0]) == pytest.approx(0.1611 / 1.959964, abs=1e-4)
    assert v[1] == 0.0016  # any other figure keeps its own variance


def _boundary_changes():
    """Every x2/n2 against 0/n1 and n1/n1, for small n1: (x1, n1, x2, n2) as arrays."""
    cases = [(x1, n1, x2, n2) for n1 in (10, 12, 15, 20, 30, 50, 80) for x1 in (0, n1)
             for n2 in (10, 15, 20, 30, 50, 100, 300) for x2 in range(n2 + 1)]  # fmt: skip
    return (np.array(column, dtype=float) for column in zip(*cases, strict=True))


def test_no_change_from_0_or_1_is_significant_unless_newcombes_interval_says_so_too():
    x1, n1, x2, n2 = _boundary_changes()
    p1, p2 = x1 / n1, x2 / n2

    def variance(x, n):
        return comparison_variance(x / n * (1 - x / n) / n, *wilson(x, n))

    ours = difference(p1, variance(x1, n1), p2, variance(x2, n2)).significant
    # Newcombe (1998) method 10, the hybrid score interval, as statsmodels computes it.
    low, high = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff")
    newcombe = (low > 0) | (high < 0)
    assert len(p1) > 7000 and not (ours & ~newcombe).any()
    assert (ours == newcombe).mean() > 0.98  # and it misses few that Newcombe finds (1 %)
    # Taken as 0, p(1-p)/n would have called some 960 of these significant wrongly.
    plain = difference(p1, p1 * (1 - p1) / n1, p2, p2 * (1 - p2) / n2).significant
    assert (plain & ~newcombe).sum() > 900


@pytest.mark.parametrize("size", [3, 4, 5, 6])
def test_rank_bounds_match_a_double_loop(size):
    rng = np.random.default_rng(size)
    theta, v = rng.uniform(0.4, 0.9, size), rng.uniform(1e-4, 3e-3, size)
    c = 2.5
    lower, upper = np.ones(size, int), np.full(size, size)
    for k in range(size):
        for j in range(size):
            sd = np.sqrt(v[j] + v[k])
            lower[k] += theta[j] - theta[k] > c * sd
            upper[k] -= theta[k] - theta[j] > c * sd
    got_lower, got_upper = rank_bounds(theta, v, c)
    assert got_lower.tolist() == lower.tolist() and got_upper.tolist() == upper.tolist()
    assert np.all(got_lower <= point_ranks(theta)) and np.all(point_ranks(theta) <= got_upper)


def test_stepdown_critical_value_matches_a_plain_implementation():
    theta, v = np.array([0.5, 0.55, 0.62, 0.8, 0.81]), np.full(5, 0.02**2)
    draws = np.random.default_rng(11).standard_normal((400, 5)) * 0.02
    active = {(j, k) for j in range(5) for k in range(5) if j != k}
    while True:
        worst = [max((d[j] - d[k]) / np.sqrt(v[j] + v[k]) for j, k in active) for d in draws]
        c = np.quantile(worst, 0.95)
        rejected = {(j, k) for j, k in active if theta[j] - theta[k] > c * np.sqrt(v[j] + v[k])}
        active -= rejected
        if not rejected or not active:
            break
    assert rank_critical_value(theta, v, n_sim=400, seed=11) == pytest.approx(c)
    assert c < rank_critical_value(theta, v, method="bonferroni") == pytest.approx(2.8070, abs=1e-4)


@pytest.mark.parametrize("exact", [0, 5])
def test_stepdown_keeps_the_critical_value_of_recomputing_every_draw_each_round(exact):
    """rank_critical_value computes again only the draws whose largest pair was rejected; the
    plain way computes every draw over the pairs still active, round after round. Exact
    figures (variance 0) differ by 0 from each other in every draw."""
    rng = np.random.default_rng(3)
    size = 40
    theta, v = rng.uniform(0.6, 0.95, size), rng.uniform(5e-5, 5e-3, size)
    v[:exact] = 0
    draws = np.random.default_rng(0).standard_normal((1000, size)) * np.sqrt(v)
    sd = np.sqrt(v[:, None] + v[None, :])
    with np.errstate(invalid="ignore"):
        z = np.nan_to_num((draws[:, :, None] - draws[:, None, :]) / sd)  # 0 / 0 -> 0
    active, rounds = ~np.eye(size, dtype=bool), 0
    while True:
        rounds += 1
        c = np.quantile(np.where(active, z, -np.inf).max(axis=(1, 2)), 0.95)
        rejected = active & (theta[:, None] - theta[None, :] > c * sd)
        active &= ~rejected
        if not rejected.any():
            break
    assert rounds >= 3  # rejections after the first round: draws were computed again
    assert rank_critical_value(theta, v) == c


def test_stepdown_with_every_figure_exact():
    """Every simulated difference is 0: the critical value is 0 and only ties share ranks."""
    assert rank_critical_value([0.5, 0.7, 0.7], [0.0] * 3) == 0
    lower, upper = rank_intervals([0.5, 0.7, 0.7], [0.0] * 3)
    assert lower.tolist() == [3, 1, 1] and upper.tolist() == [3, 2, 2]


def test_rank_intervals_are_points_when_separated_and_full_when_tied():
    lower, upper = rank_intervals([0.3, 0.9, 0.5, 0.7], [1e-4] * 4)
    assert lower.tolist() == upper.tolist() == [4, 1, 3, 2]
    lower, upper = rank_intervals([0.5] * 4, [1e-3] * 4)
    assert lower.tolist() == [1] * 4 and upper.tolist() == [4] * 4
    assert [b.tolist() for b in rank_intervals([0.5], [0.1])] == [[1], [1]]


def test_rank_intervals_use_bonferroni_above_200_units():
    theta = np.linspace(0, 1, 300)
    assert rank_critical_value(theta, np.ones(300)) == pytest.approx(4.8702, abs=1e-4)


def test_rank_intervals_cover_all_true_ranks_jointly():
    rng = np.random.default_rng(5)
    theta, sd = np.array([0.5, 0.52, 0.6, 0.7, 0.71]), 0.02
    truth = point_ranks(theta)
    covered = 0
    for trial in range(300):
        lower, upper = rank_intervals(theta + sd * rng.standard_normal(5), [sd**2] * 5, seed=trial)
        covered += np.all((lower <= truth) & (truth <= upper))
    assert covered / 300 >= 0.93


def test_shrinkage_lies_between_raw_and_pooled_and_is_stronger_for_small_units():
    rng = np.random.default_rng(9)
    n = np.concatenate([[10, 200], rng.integers(10, 150, 40)])
    x = np.concatenate([[5, 100], rng.binomial(n[2:], rng.beta(6, 3, 40))])
    result = beta_binomial_eb(x, n)
    raw, pooled = x / n, x.sum() / n.sum()
    assert result.shrunk and 0 < result.a < np.inf
    assert np.all(np.minimum(raw, pooled) - 1e-12 <= result.posterior)
    assert np.all(result.posterior <= np.maximum(raw, pooled) + 1e-12)
    assert abs(result.posterior[0] - 0.5) > 3 * abs(result.posterior[1] - 0.5)


def test_shrinkage_recovers_beta_parameters():
    rng = np.random.default_rng(2024)
    n = rng.integers(20, 200, 3000)
    result = beta_binomial_eb(rng.binomial(n, rng.beta(8, 2, 3000)), n)
    assert result.a == pytest.approx(8, rel=0.15) and result.b == pytest.approx(2, rel=0.15)


def test_shrinkage_degenerate_cases():
    same = beta_binomial_eb([8, 16, 40], [10, 20, 50])  # no spread: everyone to the pooled 0.8
    assert same.shrunk and same.a == np.inf and same.posterior == pytest.approx([0.8] * 3)
    few = beta_binomial_eb([3, 9], [10, 10])
    assert not few.shrunk and few.posterior.tolist() == [0.3, 0.9]
    assert not beta_binomial_eb([0, 0, 0], [5, 8, 9]).shrunk


@pytest.mark.parametrize(
    ("n", "n_eff", "low", "high", "expected"),
    [
        (9, None, 0.5, 0.6, "suppressed"),
        (10, None, 0.5, 0.6, "few_answers"),
        (29, None, 0.5, 0.6, "few_answers"),
        (30, None, 0.5, 0.6, ""),
        (30, None, 0.4, 0.6999, ""),
        (30, None, 0.4, 0.7, "imprecise"),
        (100, 29.5, 0.5, 0.6, "few_answers"),
        (100, 30.0, 0.5, 0.6, ""),
        # A composite's n_eff outgrows its respondents: 11 are still few answers.
        (11, 112.0, 0.72, 0.88, "few_answers"),
        (30, 112.0, 0.72, 0.88, ""),
        (20, None, 0.3, 0.9, "few_answers"),
        (5, None, np.nan, np.nan, "suppressed"),
    ],
)
def test_flags_at_the_edges(n, n_eff, low, high, expected):
    assert flag(n, n_eff, low, high) == expected
    many = flag([n, 500], None if n_eff is None else [n_eff, 500], [low, 0.5], [high, 0.55])
    assert many.tolist() == [expected, ""]

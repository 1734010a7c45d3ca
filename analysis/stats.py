"""Intervals, composites, roll-ups, comparisons, ranks and flags for satisfaction indexes.

Pure numpy, vectorised over units; the formulas and references are in docs/methods.md.

Composites are computed from per-unit sufficient statistics, never from stored rows. For the
criteria k, l of a unit, with r_ik = 1 when respondent i answered k and y_ik = 1 when they were
satisfied (y implies r):

    rr[..., k, l] = sum_i r_ik r_il    (diagonal: n_k, the answers to k)
    yr[..., k, l] = sum_i y_ik r_il    (diagonal: x_k, the satisfied answers to k)
    yy[..., k, l] = sum_i y_ik y_il

`cross_products` builds all three with one matrix product per unit (`grouped_products`); the
caller also keeps n, the respondents who answered at least one of a composite's criteria.
Weights are (K,) or (units, K).

Choices: an aggregate's interval is Wilson on n_eff with x = p·n_eff; a composite with zero
variance inside (0, 1) also falls back to Wilson on min n_k; `difference` is p2 - p1; rank
simulations use a fixed seed so a page shows the same intervals each time; `flag` gives the single
most severe flag.
"""

from typing import NamedTuple

import numpy as np

from analysis.quantiles import expit, logit, normal_quantile, t_quantile

Z95 = 1.959963984540054
EXACT_FLOAT32_ROWS = 1 << 24
# Below this a variance counts as 0: the figure is 0 or 1 up to rounding.
FLAT_VARIANCE = 1e-14
# Flags (docs/methods.md, "Flags"): fewer answers than SUPPRESS_BELOW withhold a figure, fewer
# than FEW_ANSWERS_BELOW (or an effective sample as small) mark it, and an interval at least
# IMPRECISE_WIDTH wide marks it too.
SUPPRESS_BELOW = 10
FEW_ANSWERS_BELOW = 30
IMPRECISE_WIDTH = 0.30
# Rank intervals: the max-t stepdown up to this many siblings, Bonferroni above.
STEPDOWN_MAX_UNITS = 200


class Composite(NamedTuple):
    estimate: np.ndarray
    variance: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


class CrossProducts(NamedTuple):
    rr: np.ndarray
    yr: np.ndarray
    yy: np.ndarray


class Rollup(NamedTuple):
    estimate: np.ndarray
    variance: np.ndarray
    n_eff: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


class Difference(NamedTuple):
    difference: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    significant: np.ndarray


class Shrinkage(NamedTuple):
    a: float
    b: float
    posterior: np.ndarray
    shrunk: bool
    # The between-unit variance was estimated at 0 (rho <= 0): every unit is at the pooled mean.
    pooled: bool = False


def _z(alpha):
    return -normal_quantile(alpha / 2)


def _bounded(low, high, x, n):
    # Exact 0 at x = 0 and 1 at x = n, where rounding would leave 1e-17; nothing without answers.
    low = np.where(x <= 0, 0.0, np.clip(low, 0.0, 1.0))
    high = np.where(x >= n, 1.0, np.clip(high, 0.0, 1.0))
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def wilson(x, n, z=Z95):
    """Return the Wilson score interval (low, high) for x successes out of n."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, z2n = x / n, z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z * np.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return _bounded(centre - half, centre + half, x, n)


def wilson_cc(x, n, z=Z95):
    """Return the continuity-corrected Wilson interval (Newcombe 1998, method 4)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, z2 = x / n, z * z
        low = 2 * x + z2 - 1 - z * np.sqrt(z2 - 2 - 1 / n + 4 * p * (n * (1 - p) + 1))
        high = 2 * x + z2 + 1 + z * np.sqrt(z2 + 2 - 1 / n + 4 * p * (n * (1 - p) - 1))
        return _bounded(low / (2 * (n + z2)), high / (2 * (n + z2)), x, n)


def clopper_pearson(x, n, alpha=0.05):
    """Return the exact Clopper-Pearson interval (low, high) for x successes out of n."""
    # Imported here: scipy costs a tenth of a second, and only this rarely used interval needs it.
    from scipy import special

    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    inner, below = x > 0, x < n  # the other arguments only keep beta.ppf away from a = 0 or b = 0
    low = special.betaincinv(np.where(inner, x, 1), np.where(inner, n - x + 1, 1), alpha / 2)
    high = special.betaincinv(np.where(below, x + 1, 1), np.where(below, n - x, 1), 1 - alpha / 2)
    return _bounded(low, high, x, n)


def element_weights(codes, present=None):
    """Return {element: w} with w_k = 1/K_e over the element's present criteria, 0 elsewhere."""
    letters = np.array([code[0].upper() for code in codes])
    present = np.ones(len(codes), bool) if present is None else np.asarray(present, bool)
    weights = {}
    for element in sorted(set(letters.tolist())):  # not np.unique: see indexes._roll_up
        inside = present & (letters == element)
        with np.errstate(invalid="ignore"):
            weights[str(element)] = np.nan_to_num(inside / inside.sum(-1, keepdims=True))
    return weights


def overall_weights(codes, present=None):
    """Return overall-index weights w_k = 1/(E·K_e) over the elements and criteria present."""
    per_element = list(element_weights(codes, present).values())
    n_elements = np.asarray(sum(w.sum(-1) > 0 for w in per_element))
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(sum(per_element) / n_elements[..., None])


def cross_products(answered, satisfied, unit, n_units=None):
    """Return per-unit sums rr, yr, yy (units × K × K) of respondents' rows in any order."""
    r = np.asarray(answered, bool)
    k = r.shape[1]
    x = np.concatenate([r, np.asarray(satisfied, bool) & r], axis=1)
    unit = np.asarray(unit, np.intp)
    order = np.argsort(unit, kind="stable")
    starts, ends = runs(unit[order])
    n_units = int(unit.max(initial=-1)) + 1 if n_units is None else n_units
    sums = grouped_products(x[order], starts, ends, unit[order][starts], n_units)
    return CrossProducts(sums[:, :k, :k], sums[:, k:, :k], sums[:, k:, k:])


def runs(values):
    """Return (starts, ends) of the runs of equal values in an array of non-negative integers."""
    starts = np.flatnonzero(np.diff(values, prepend=-1))
    return starts, np.append(starts[1:], len(values))[: len(starts)]


def grouped_products(x, starts, ends, groups, n_groups, width=None):
    """Return sum of x[s:e].T @ x[s:e] per group (n_groups × W × W) for 0/1 rows x.

    Slice i runs from starts[i] to ends[i] and belongs to groups[i]. With width, x holds the
    rows' W = width columns eight to a byte (np.packbits along axis 1), unpacked slice by slice.
    """
    w = x.shape[1] if width is None else width
    sums = np.zeros((n_groups, w, w))
    slices = (np.asarray(a).tolist() for a in (groups, starts, ends))
    for g, start, end in zip(*slices, strict=True):
        # float32 sums of 0/1 products are exact up to 2^24 rows: longer slices go in parts.
        for part in range(start, end, EXACT_FLOAT32_ROWS):
            rows = x[part : min(end, part + EXACT_FLOAT32_ROWS)]
            if width is None:
                block = rows.astype(np.float32)
            else:  # every bit of the bytes, padding too (zeros): 48 columns multiply faster than 46
                block = np.take(_BITS, rows, axis=0).reshape(len(rows), -1)
            sums[g] += (block.T @ block)[:w, :w]
    return sums


_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)


def _composite(estimate, sum_u2, n, n_min, undefined, alpha):
    # Logit interval with Student t on n - 1 df; Wilson on min n_k where the variance vanishes.
    n = np.asarray(n, dtype=float)
    estimate = np.where(np.abs(estimate - np.round(estimate)) < 1e-12, np.round(estimate), estimate)
    estimate = np.where(undefined | (n < 1), np.nan, estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        # One respondent: u = 0, and n/(n-1) has no value; the variance is taken as 0, as a
        # criterion's p(1-p)/n is, so that a parent counts such a child in its figure as in n.
        factor = np.where(n > 1, n / (n - 1), 1.0)
        variance = np.where((n >= 1) & ~np.isnan(estimate), factor * sum_u2, np.nan)
        log_odds = logit(estimate)
        half = -t_quantile(n - 1, alpha / 2) * np.sqrt(variance) / (estimate * (1 - estimate))
        w_low, w_high = wilson(estimate * n_min, n_min, _z(alpha))
        flat = (variance < FLAT_VARIANCE) | (estimate == 0) | (estimate == 1)
    low = np.where(flat, w_low, expit(log_odds - half))
    high = np.where(flat, w_high, expit(log_odds + half))
    ok = np.isfinite(variance)
    return Composite(estimate, variance, np.where(ok, low, np.nan), np.where(ok, high, np.nan))


def centred_sums(rr, yr, yy):
    """Return n_k, p_k and sum_i r_ik r_il (y_ik - p_k)(y_il - p_l) per unit from its sums.

    Every weighting of the same criteria (the overall index, each element) shares them: compute
    them once and hand them to composite_from_sums for each.
    """
    rr, yr, yy = (np.ascontiguousarray(s, dtype=float) for s in (rr, yr, yy))
    n_k, x_k = np.diagonal(rr, axis1=-2, axis2=-1), np.diagonal(yr, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_k > 0, x_k / n_k, 0.0)
    # sum_i r_ik r_il (y_ik - p_k)(y_il - p_l) = yy_kl - p_l yr_kl - p_k yr_lk + p_k p_l rr_kl
    yr_p = yr * p[..., None, :]
    centred = yy - yr_p - np.swapaxes(yr_p, -1, -2) + p[..., :, None] * p[..., None, :] * rr
    return n_k, p, centred


def composite_from_sums(rr, yr, yy, n, weights, alpha=0.05, centred=None):
    """Return composite indexes, linearised variances and logit intervals from per-unit sums.

    centred: centred_sums(rr, yr, yy), when several weightings of the same sums are computed.
    """
    n_k, p, centred = centred_sums(rr, yr, yy) if centred is None else centred
    w = np.broadcast_to(np.asarray(weights, dtype=float), n_k.shape)
    used = w > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(used & (n_k > 0), w / n_k, 0.0)
    sum_u2 = np.einsum("...k,...kl,...l->...", a, centred, a)
    undefined = np.any(used & (n_k == 0), -1) | ~np.any(used, -1)
    return _composite(np.sum(w * p, -1), sum_u2, n, fewest_answers(n_k, w), undefined, alpha)


def fewest_answers(n_k, weights):
    """Return the fewest answers any weighted criterion of a composite had, min_k n_k: its
    Wilson n where it is 0 or 1; inf where no criterion is weighted."""
    n_k = np.asarray(n_k, dtype=float)
    used = np.broadcast_to(np.asarray(weights, dtype=float), n_k.shape) > 0
    return np.min(np.where(used, n_k, np.inf), -1)


def composite_from_rows(answered, satisfied, weights, alpha=0.05):
    """Return the composite for one unit from its respondents' rows (the test oracle)."""
    r = np.asarray(answered, bool)
    y = np.asarray(satisfied, bool) & r
    w = np.asarray(weights, dtype=float)
    used = w > 0
    n_k = r.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_k > 0, y.sum(0) / n_k, 0.0)
        a = np.where(used & (n_k > 0), w / n_k, 0.0)
    u = (r * (y - p)) @ a
    n = np.count_nonzero(r[:, used].any(1))
    undefined = bool(np.any(n_k[used] == 0) or not used.any())
    n_min = n_k[used].min() if used.any() else 0
    return _composite(np.sum(w * p), np.sum(u * u), n, n_min, undefined, alpha)


def rollup(estimates, variances, weights, parent=None, n=None, alpha=0.05, intervals=None):
    """Combine children into parents: weighted mean, stratified variance, n_eff, Wilson on n_eff.

    intervals: the strata's own (low, high); a parent with a single stratum takes its interval,
    as it takes its estimate and variance, where Wilson on n_eff would be narrower (at 0 or 1,
    or for a composite's Student t on the logit scale).
    n: each stratum's Wilson n at 0 or 1 (a composite's min_k n_k); where every stratum is at
    0 or 1, so that p(1-p)/V has no value, n_eff is their sum.
    """
    arrays = (np.asarray(a, dtype=float) for a in (estimates, variances, weights))
    p, v, w = np.broadcast_arrays(*arrays)
    group = np.zeros(p.shape, np.intp) if parent is None else np.asarray(parent, np.intp)
    size = int(group.max()) + 1 if group.size else 0
    ok = np.isfinite(p) & np.isfinite(v) & (w > 0)
    w = np.where(ok, w, 0.0)
    total = np.bincount(group, w, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.bincount(group, w * np.where(ok, p, 0.0), size) / total
        variance = np.bincount(group, w * w * np.where(ok, v, 0.0), size) / total**2
        n_eff = estimate * (1 - estimate) / variance
    if n is not None:  # a zero variance (every child at 0 or 1) leaves p(1-p)/V undefined
        pooled = np.bincount(group, np.where(ok, n, 0.0), size)
        n_eff = np.where(np.isfinite(n_eff) & (n_eff > 0), n_eff, pooled)
    low, high = wilson(estimate * n_eff, n_eff, _z(alpha))
    if intervals is not None:
        single = np.bincount(group, ok, size) == 1
        own_low, own_high = (
            np.bincount(group, np.where(ok, np.asarray(a, dtype=float), 0.0), size)
            for a in intervals
        )
        low, high = np.where(single, own_low, low), np.where(single, own_high, high)
    result = Rollup(estimate, variance, n_eff, low, high)
    return Rollup(*(field[0] for field in result)) if parent is None else result


def difference(p1, v1, p2, v2, alpha=0.05, shown=None):
    """Return the change p2 - p1 with its normal interval and whether zero lies outside it;
    where shown is False (either figure hidden), NaN and not significant."""
    change = np.asarray(p2, dtype=float) - np.asarray(p1, dtype=float)
    half = _z(alpha) * np.sqrt(np.asarray(v1, dtype=float) + np.asarray(v2, dtype=float))
    low, high = change - half, change + half
    significant = (low > 0) | (high < 0)
    if shown is None:
        return Difference(change, low, high, significant)
    hidden = ~np.asarray(shown, dtype=bool)
    return Difference(
        *(np.where(hidden, np.nan, a) for a in (change, low, high)),
        np.where(hidden, False, significant),
    )


def comparison_variance(variance, low, high, alpha=0.05):
    """Return the variance to compare figures with: V, or at 0 or 1 the one its interval implies.

    p(1-p)/n, and the composite variance, are 0 where every answer is satisfied (or none is):
    taken as is, a change or a rank against 12 answers of 12 would be as certain as against a
    census. There the figure's interval lies on one side of it, and its length over z is the
    standard error on that side: V = ((high - low) / z)^2. Over the changes from 0/n and n/n
    in tests/analysis/test_stats.py, every one so found significant is also significant by
    Newcombe's hybrid score interval.
    """
    variance, low, high = (np.asarray(a, dtype=float) for a in (variance, low, high))
    implied = ((high - low) / _z(alpha)) ** 2
    return np.where((variance < FLAT_VARIANCE) & np.isfinite(implied), implied, variance)


def point_ranks(theta):
    """Return ranks with 1 for the highest value; ties share the better rank."""
    values = -np.asarray(theta, dtype=float)
    return np.searchsorted(np.sort(values), values, side="left") + 1


def _pairs(theta, variances):
    theta, v = np.asarray(theta, dtype=float), np.asarray(variances, dtype=float)
    return theta[:, None] - theta[None, :], np.sqrt(v[:, None] + v[None, :])


def rank_bounds(theta, variances, c):
    """Return rank intervals (lower, upper) for critical value c, rank 1 the highest theta."""
    diff, sd = _pairs(theta, variances)
    with np.errstate(invalid="ignore"):
        above = diff > c * sd  # above[j, k]: unit j is credibly above unit k
    return 1 + above.sum(0), len(diff) - above.sum(1)


def _max_t(draws, scale, active=None):
    """Return, per draw, the largest standardised difference over the active ordered pairs
    (every pair when active is None), and where it is (the pair's position in the flattened
    size x size array)."""
    # In chunks, every pair at once by broadcasting (picking the active pairs' columns cost
    # 1.5 times more); the others get -inf added, which costs less than assigning it. A chunk
    # of about 200,000 numbers (1.6 MB) stays in the processor's cache through the passes over
    # it: with 2,000,000 it took 1.3 to 2 times as long for 50 to 200 units.
    # With every pair active nothing is added: the diagonal's zeros never beat the largest
    # difference, which is >= 0 as both orders of a pair count. Where every difference of a
    # draw is 0 its position may be on the diagonal; the stepdown then computes it again.
    size = draws.shape[1]
    inverse = 1 / scale
    penalty = None if active is None else np.where(active, 0.0, -np.inf)
    step = max(1, 200_000 // (size * size))
    largest, where = np.empty(len(draws)), np.empty(len(draws), np.intp)
    for start in range(0, len(draws), step):
        d = draws[start : start + step]
        z = d[:, :, None] - d[:, None, :]
        z *= inverse
        if penalty is not None:
            z += penalty
        z = z.reshape(len(d), -1)
        where[start : start + step] = z.argmax(1)
        largest[start : start + step] = z[np.arange(len(d)), where[start : start + step]]
    return largest, where


def rank_critical_value(theta, variances, alpha=0.05, method="auto", n_sim=1000, seed=0):
    """Return c for simultaneous rank intervals: max-t stepdown (K <= 200) or Bonferroni."""
    theta, v = np.asarray(theta, dtype=float), np.asarray(variances, dtype=float)
    size = theta.size
    if method == "auto":
        method = "stepdown" if size <= STEPDOWN_MAX_UNITS else "bonferroni"
    if method not in ("stepdown", "bonferroni"):
        raise ValueError(f"unknown method {method!r}")
    if size < 2:
        return np.inf
    if method == "bonferroni":
        return float(-normal_quantile(alpha / (size * (size - 1))))
    diff, sd = _pairs(theta, v)
    draws = np.random.default_rng(seed).standard_normal((n_sim, size)) * np.sqrt(v)
    scale = np.where(sd > 0, sd, np.inf)  # two exact figures: their simulated difference is 0
    active = ~np.eye(size, dtype=bool)
    largest, where = _max_t(draws, scale)
    while True:
        c = float(np.quantile(largest, 1 - alpha))
        rejected = active & (diff > c * sd)
        active &= ~rejected
        if not rejected.any() or not active.any():
            return c
        # The active pairs only ever shrink: a draw whose largest pair is still active keeps
        # its maximum, and only the others are computed again (a third of the work, or less).
        stale = ~active.reshape(-1)[where]
        largest[stale], where[stale] = _max_t(draws[stale], scale, active)


def rank_intervals(theta, variances, alpha=0.05, method="auto", n_sim=1000, seed=0):
    """Return simultaneous rank intervals (lower, upper) covering all true ranks at 1 - alpha."""
    c = rank_critical_value(theta, variances, alpha, method, n_sim, seed)
    return rank_bounds(theta, variances, c)


def beta_binomial_eb(x, n):
    """Shrink sibling units' proportions towards their pooled mean by beta-binomial EB.

    The between-unit variance is estimated by the method of moments (ANOVA estimator of the
    intraclass correlation rho); where it is 0 or less the units differ no more than chance,
    and each is given the pooled mean (pooled=True): identical values, which is the estimate.
    """
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = x / n
    seen = n > 0
    units, total = np.count_nonzero(seen), n[seen].sum()
    mean = x[seen].sum() / total if total > 0 else np.nan
    if units < 3 or total <= units or not 0 < mean < 1:
        return Shrinkage(np.nan, np.nan, raw, False)
    # ANOVA (method of moments) estimate of the intraclass correlation rho = 1 / (a + b + 1)
    p, m = raw[seen], n[seen]
    between = np.sum(m * (p - mean) ** 2) / (units - 1)
    within = np.sum(m * p * (1 - p)) / (total - units)
    n0 = (total - np.sum(m * m) / total) / (units - 1)
    rho = (between - within) / (between + (n0 - 1) * within)
    if rho <= 0:  # no spread beyond sampling noise: the limit a + b -> inf is the pooled mean
        return Shrinkage(np.inf, np.inf, np.full(x.shape, mean), True, pooled=True)
    strength = 1 / rho - 1
    a, b = mean * strength, (1 - mean) * strength
    with np.errstate(invalid="ignore"):
        return Shrinkage(float(a), float(b), (x + a) / (n + a + b), True)


def flag(n, n_eff, low, high):
    """Return the most severe flag per figure: 'suppressed', 'few_answers', 'imprecise' or ''."""
    n = np.asarray(n, dtype=float)
    # An aggregate is flagged when either its respondents or its effective sample are few: a
    # composite's n_eff = p(1-p)/V is often ten times its respondents (19 correlated criteria
    # vary less than one), and alone it let a district of 11 respondents pass unflagged.
    size = n if n_eff is None else np.where(np.isnan(n_eff), n, np.fmin(n, n_eff))
    wide = np.asarray(high, dtype=float) - np.asarray(low, dtype=float) >= IMPRECISE_WIDTH - 1e-9
    return np.select(
        [n < SUPPRESS_BELOW, size < FEW_ANSWERS_BELOW, wide],
        ["suppressed", "few_answers", "imprecise"],
        "",
    )

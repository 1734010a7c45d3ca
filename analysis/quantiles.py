"""Normal and Student t quantiles, logit and expit with numpy alone.

The interval code in ``analysis/stats.py`` needs only a handful of special functions: the
normal quantile, the Student t quantile and the logit/expit pair. Getting them from
``scipy.special`` means importing scipy, which costs about a tenth of a second at the start of
every fresh ``flask`` command (it pulls in scipy's array-API layer, ``numpy.testing``,
``numpy.f2py`` and more). The analysis export must start fast, so this module computes the
same values with numpy and the Python standard library only. It must never import scipy, not
even lazily; the tests compare it with scipy instead.

Accuracy: ``t_quantile`` is within about 2e-15 (relative) of the exact quantile for any
df >= 1 and p in [1e-6, 1 - 1e-6] (checked against 40-digit values), and within 1e-13 of
``scipy.special.stdtrit`` there, except very close to the median where scipy itself loses
digits (at df = 4, p = 0.4999 it is off by 1.6e-9). It works in three regimes:

* df = 1 and df = 2 have closed forms;
* for large df (df >= 20, and larger when p is far in a tail) a transformed Cornish-Fisher
  expansion, to 16 orders in 1/(df - 1/2), is exact to double precision by itself;
* otherwise Newton's method, started from Hill's (1970) approximation, solves
  CDF(t) = p with the t distribution's CDF written as an incomplete beta function and
  evaluated by its continued fraction.

A single (df, p) pair is computed in plain Python floats, which is much faster than numpy on
one element (tens of microseconds); arrays go through the same code with numpy.
"""

import math
from types import SimpleNamespace

import numpy as np

__all__ = ["expit", "logit", "normal_quantile", "t_quantile"]

# Wichura (1988), algorithm AS241 (PPND16), the same coefficients as statistics.NormalDist.
# Each tuple is (numerator, denominator), highest power first.
_AS241_CENTRAL = (
    (
        2.5090809287301226727e3,
        3.3430575583588128105e4,
        6.7265770927008700853e4,
        4.5921953931549871457e4,
        1.3731693765509461125e4,
        1.9715909503065514427e3,
        1.3314166789178437745e2,
        3.3871328727963666080e0,
    ),
    (
        5.2264952788528545610e3,
        2.8729085735721942674e4,
        3.9307895800092710610e4,
        2.1213794301586595867e4,
        5.3941960214247511077e3,
        6.8718700749205790830e2,
        4.2313330701600911252e1,
        1.0,
    ),
)
_AS241_NEAR = (
    (
        7.74545014278341407640e-4,
        2.27238449892691845833e-2,
        2.41780725177450611770e-1,
        1.27045825245236838258e0,
        3.64784832476320460504e0,
        5.76949722146069140550e0,
        4.63033784615654529590e0,
        1.42343711074968357734e0,
    ),
    (
        1.05075007164441684324e-9,
        5.47593808499534494600e-4,
        1.51986665636164571966e-2,
        1.48103976427480074590e-1,
        6.89767334985100004550e-1,
        1.67638483018380384940e0,
        2.05319162663775882187e0,
        1.0,
    ),
)
_AS241_FAR = (
    (
        2.01033439929228813265e-7,
        2.71155556874348757815e-5,
        1.24266094738807843860e-3,
        2.65321895265761230930e-2,
        2.96560571828504891230e-1,
        1.78482653991729133580e0,
        5.46378491116411436990e0,
        6.65790464350110377720e0,
    ),
    (
        2.04426310338993978564e-15,
        1.42151175831644588870e-7,
        1.84631831751005468180e-5,
        7.86869131145613259100e-4,
        1.48753612908506148525e-2,
        1.36929880922735805310e-1,
        5.99832206555887937690e-1,
        1.0,
    ),
)

# Cornish-Fisher type expansion of the t quantile. With a = df - 1/2 and z the normal quantile,
# Hill's variable w = sqrt(a * log(1 + t^2 / df)) has the expansion
#     w = z + h2(z) / a^2 + h4(z) / a^4 + ... + h16(z) / a^16
# (the odd powers of 1/a vanish; h2 = -(z^3 + 3 z) / 48 is the term in Hill 1970), and then
# t = sqrt(df * expm1(w^2 / a)). The polynomials were derived exactly (rational arithmetic) by
# solving dt/dz = phi(z) / f_df(t) order by order in 1/df; each row below lists the
# coefficients of h_2k for z^(4k-1), z^(4k-3), ..., z. Together with _EXPANSION_OK this keeps
# the truncation error below 1e-16 relative (checked against 40-digit values).
_W_EXPANSION = (
    (-0.020833333333333332, -0.0625),
    (0.00017361111111111112, 0.002734375, 0.015625, 0.041015625),
    (
        -2.7557319223985893e-06,
        -7.00989307760141e-05,
        -0.0008560422867063492,
        -0.0062744140625,
        -0.0299072265625,
        -0.0819091796875,
    ),
    (
        5.166997354497355e-08,
        1.8622719631834216e-06,
        3.4189375620039684e-05,
        0.00041762861625227346,
        0.0037490118117559524,
        0.025217437744140626,
        0.12068684895833333,
        0.34393882751464844,
    ),
    (
        -1.043837849393405e-09,
        -4.937570493849429e-08,
        -1.2192420238436226e-06,
        -2.0865961828859235e-05,
        -0.0002767898716451802,
        -0.002974230524093386,
        -0.025887378056844077,
        -0.17562317848205566,
        -0.8554970026016235,
        -2.4912861585617065,
    ),
    (
        2.201745891119789e-11,
        1.3002266046345128e-09,
        4.0596982730496576e-08,
        8.967792135267881e-07,
        1.5777460540447976e-05,
        0.00023339629769526191,
        0.0029511156507614086,
        0.03158487136322985,
        0.2778064973297573,
        1.9084892816841603,
        9.39584568142891,
        27.665356937795877,
    ),
    (
        -4.779477332387385e-13,
        -3.402689143326544e-11,
        -1.2904008165629388e-09,
        -3.503134025173227e-08,
        -7.694140362650363e-07,
        -1.4512863152788828e-05,
        -0.00024086383297094421,
        -0.0035227653141145445,
        -0.04481964681124177,
        -0.48456075920812075,
        -4.300965012044513,
        -29.761499296640977,
        -147.33878513914533,
        -436.4199626853224,
    ),
    (
        1.0592750926008071e-14,
        8.861009384508041e-13,
        3.9669557393505146e-11,
        1.2806005324943193e-09,
        3.377474714324168e-08,
        7.751823765080636e-07,
        1.5936144193955138e-05,
        0.0002956367298448705,
        0.00492259285330887,
        0.0726202046606831,
        0.9317134635245228,
        10.140640200714298,
        90.46311896634066,
        628.399251464878,
        3120.4512152593816,
        9275.143324930168,
    ),
)


def _expansion_ok(df, z):
    """Where the expansion above is accurate to double precision: df >= max(20, 1.2 z^2 + 8)."""
    return (df >= 20.0) & (df >= 1.2 * z * z + 8.0)


# log(Gamma(a + 1/2) / Gamma(a) / sqrt(a)) ~ sum c_k / a^(2k - 1), from the Bernoulli numbers.
_LOG_GAMMA_RATIO = (
    -1 / 8,
    1 / 192,
    -1 / 640,
    17 / 14336,
    -31 / 18432,
    691 / 180224,
    -5461 / 425984,
    929569 / 15728640,
    -3202291 / 8912896,
)
_GAMMA_RATIO_SHIFT = 10  # the series above is used for a >= 10, to about 1e-17

_CF_TOL = 5e-16  # continued fraction: stop when the last factor is within this of 1
_CF_MAX_TERMS = 400
_NEWTON_TOL = 1e-9  # Newton converges quadratically: a step this small leaves ~1e-18
_NEWTON_MAX_STEPS = 30
_T_START_MAX = 1e300  # a finite start; Newton may still step to inf, meaning overflow


def _horner(coeffs, x):
    """Evaluate the polynomial with the given coefficients (highest power first) at x."""
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc


def _ndtri(p):
    """AS241 normal quantile of an array of probabilities (no special values handled)."""
    q = p - 0.5
    r = 0.180625 - q * q
    num, den = _AS241_CENTRAL
    central = q * _horner(num, r) / _horner(den, r)
    r = np.sqrt(-np.log(np.minimum(p, 1.0 - p)))
    num, den = _AS241_NEAR
    near = _horner(num, r - 1.6) / _horner(den, r - 1.6)
    num, den = _AS241_FAR
    far = _horner(num, r - 5.0) / _horner(den, r - 5.0)
    tail = np.where(r <= 5.0, near, far)
    return np.where(np.abs(q) <= 0.425, central, np.where(q < 0.0, -tail, tail))


def _ndtri_scalar(p):
    """AS241 for one probability in (0, 1), in plain Python (much faster than numpy here)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num, den = _AS241_CENTRAL
        return q * _horner(num, r) / _horner(den, r)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        (num, den), r = _AS241_NEAR, r - 1.6
    else:
        (num, den), r = _AS241_FAR, r - 5.0
    x = _horner(num, r) / _horner(den, r)
    return -x if q < 0.0 else x


def normal_quantile(p):
    """Standard normal quantile (inverse CDF), like ``scipy.special.ndtri``.

    Returns a float for a scalar ``p`` and an array otherwise: -inf at 0, inf at 1 and nan
    outside [0, 1]. Uses Wichura's AS241, accurate to about 1e-16 relative.
    """
    if np.ndim(p) == 0:
        p = float(p)
        if 0.0 < p < 1.0:
            return _ndtri_scalar(p)
        if p == 0.0:
            return -math.inf
        return math.inf if p == 1.0 else math.nan
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        x = _ndtri(p)
        x = np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, x))
        return np.where((p >= 0.0) & (p <= 1.0), x, np.nan)


# The numerical code below is written once for both numpy arrays and plain floats: a single
# value goes through Python's math module, which is many times faster than numpy's per-call
# overhead on tiny arrays. Only these functions differ between the two.
_ARRAYS = SimpleNamespace(
    log=np.log, log1p=np.log1p, exp=np.exp, expm1=np.expm1, sqrt=np.sqrt, tan=np.tan, where=np.where
)
_FLOATS = SimpleNamespace(
    log=math.log,
    log1p=math.log1p,
    exp=math.exp,
    expm1=math.expm1,
    sqrt=math.sqrt,
    tan=math.tan,
    where=lambda condition, yes, no: yes if condition else no,
)


def _gamma_half_ratio(a, xp):
    """Gamma(a + 1/2) / Gamma(a) for a > 0, to a few units in the last place."""
    # Shift a up past _GAMMA_RATIO_SHIFT with Gamma(a + 1) = a Gamma(a), then use the series.
    # For integer and half-integer a the products below are exact.
    num = den = 1.0
    b = a
    for _ in range(_GAMMA_RATIO_SHIFT):
        low = b < _GAMMA_RATIO_SHIFT
        num = xp.where(low, num * b, num)
        den = xp.where(low, den * (b + 0.5), den)
        b = xp.where(low, b + 1.0, b)
    series = _horner(_LOG_GAMMA_RATIO[::-1], 1.0 / (b * b)) / b
    return num / den * xp.sqrt(b) * xp.exp(series)


def _cf_terms(a, b, x, m, c, d):
    """The continued fraction's terms 2m - 1 and 2m by modified Lentz, for arrays or floats.

    Returns (factor, step, c, d): the fraction's value is multiplied by factor * step, and
    step alone says whether it has converged.
    """
    m2 = 2 * m
    aa = m * (b - m) * x / ((a + (m2 - 1.0)) * (a + m2))
    d = 1.0 / (1.0 + aa * d)
    c = 1.0 + aa / c
    factor = d * c
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + (m2 + 1.0)))
    d = 1.0 / (1.0 + aa * d)
    c = 1.0 + aa / c
    return factor, d * c, c, d


def _beta_cf(a, b, x):
    """Continued fraction of the incomplete beta function (modified Lentz), for arrays.

    I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * _beta_cf(a, b, x); it converges fast for
    x < (a + 1) / (a + b + 2) (Numerical Recipes, section 6.4).
    """
    h = 1.0 / (1.0 - (a + b) * x / (a + 1.0))
    c = np.ones_like(x)
    d = h
    todo = np.arange(x.size)  # entries still converging; the others are left alone
    for m in range(1, _CF_MAX_TERMS + 1):
        factor, step, c, d = _cf_terms(a, b, x, m, c, d)
        h[todo] *= factor * step
        going = np.abs(step - 1.0) > _CF_TOL  # false for nan
        if not going.all():
            if not going.any():
                break
            todo, a, b, x, c, d = todo[going], a[going], b[going], x[going], c[going], d[going]
    return h


def _beta_cf_float(a, b, x):
    """_beta_cf for plain floats."""
    h = d = 1.0 / (1.0 - (a + b) * x / (a + 1.0))
    c = 1.0
    for m in range(1, _CF_MAX_TERMS + 1):
        factor, step, c, d = _cf_terms(a, b, x, m, c, d)
        h *= factor * step
        if not abs(step - 1.0) > _CF_TOL:
            break
    return h


def _t_start(df, q, z, a, rr, xp):
    """Starting point for Newton: Hill's (1970, CACM algorithm 396) approximation for df >= 1;
    below that, the t solving P(T > t) = q for the tail's leading term rr df^(a - 1) t^(-df).

    q is the one-sided tail probability (< 1/2), z = normal_quantile(q) < 0, a = df / 2 and
    rr = 1 / B(a, 1/2).
    """
    tail_term = xp.exp((xp.log(rr) + (a - 1.0) * xp.log(df) - xp.log(q)) / df)
    df = xp.where(df < 1.0, 1.5, df)  # Hill's formulas need df > 1/2
    p2 = 2.0 * q
    ia = 1.0 / (df - 0.5)
    b = 48.0 / (ia * ia)
    c = ((20700.0 * ia / b - 98.0) * ia - 16.0) * ia + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * xp.sqrt(ia * (math.pi / 2)) * df
    log_y = (2.0 / df) * (xp.log(d) + xp.log(p2))
    y = xp.exp(log_y)
    # Near the centre: an expansion about the normal quantile.
    zz = z * z
    cn = c + xp.where(df < 5.0, 0.3 * (df - 4.5) * (z + 0.6), 0.0)
    cn = (((0.05 * d * z - 5.0) * z - 7.0) * z - 2.0) * z + b + cn
    yn = (((((0.4 * zz + 6.3) * zz + 36.0) * zz + 94.5) / cn - zz - 3.0) / b + 1.0) * z
    near = xp.sqrt(df * xp.expm1(ia * yn * yn))
    # In the tail: a series in y = (d p2)^(2/df); for tiny y only its leading term 1/y.
    yt = (
        (1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0))
        * y
        - 1.0
    ) * (df + 1.0) / (df + 2.0) + 1.0 / y
    far = xp.where(log_y < -36.0, xp.sqrt(df) * xp.exp(-0.5 * log_y), xp.sqrt(df * yt))
    hill = xp.where(y > 0.05 + ia, near, far)
    return xp.where(a < 0.5, tail_term, hill)


def _newton_step(t, df, a, rr, boundary, q, xp, beta_cf):
    """Newton's step for log t towards the upper t quantile for tail probability q.

    It solves, in log-log coordinates, either the tail equation P(T > t) = q, with
    P(T > t) = I_x(a, 1/2) / 2 and x = df / (df + t^2), or the central one
    P(|T| < t) = 1 - 2q, with P(|T| < t) = I_y(1/2, a) and y = t^2 / (df + t^2), whichever
    continued fraction converges faster at this t. Both are computed without cancellation, so
    the root is found to about machine precision. a = df / 2, rr = 1 / B(a, 1/2) and
    boundary = (a + 1) / (a + 5/2).
    """
    t2 = t * t
    s = df + t2
    big = s == math.inf  # t^2 overflows: only for p below about 1e-150
    x = df / s
    y = xp.where(big, 1.0, t2 / s)
    sqrt_y = xp.where(big, 1.0, t / xp.sqrt(s))
    log1p_u = xp.where(big, 2.0 * xp.log(t) - xp.log(df), xp.log1p(t2 / df))  # -log(x)
    tail = x < boundary
    h = beta_cf(xp.where(tail, a, 0.5), xp.where(tail, 0.5, a), xp.where(tail, x, y))
    # The probability is x^a * scale; delta = log(probability / target). In the tail x^a is
    # taken as a power, accurate to about an ulp, rather than as exp(a log x), whose error
    # grows with |a log x| ~ |log q|; near the centre a log(x) is small and exact enough.
    scale = sqrt_y * rr * h * xp.where(tail, 1.0 / df, 2.0)
    target = xp.where(tail, q, 1.0 - 2.0 * q)
    x_a = x**a
    direct = tail & (x_a > 1e-280) & (q > 1e-280)
    ratio = scale / target  # overflows only if q < 1e-280 or so
    log_ratio = xp.where(target > 1e-280, xp.log(ratio), xp.log(scale) - xp.log(target))
    delta = xp.where(direct, xp.log(xp.where(direct, x_a * ratio, 1.0)), log_ratio - a * log1p_u)
    # d log P / d log t is -df / h in the tail and 1 / h at the centre.
    return xp.where(tail, delta * h / df, -delta * h)


def _t_newton(df, q, z):
    """Upper t quantile (> 0) for tail probabilities 0 < q < 1/2, 1-d arrays, by Newton."""
    a = 0.5 * df
    rr = _gamma_half_ratio(a, _ARRAYS) / math.sqrt(math.pi)  # 1 / B(a, 1/2)
    t = np.minimum(_t_start(df, q, z, a, rr, _ARRAYS), _T_START_MAX)
    # Per-element constants, one row each; columns are dropped as their elements converge.
    consts = np.stack([df, a, rr, (a + 1.0) / (a + 2.5), q])
    todo = np.arange(t.size)
    for _ in range(_NEWTON_MAX_STEPS):
        tt = t[todo]
        step = _newton_step(tt, *consts, _ARRAYS, _beta_cf)
        tt = tt + tt * np.expm1(step)
        t[todo] = tt
        going = (np.abs(step) > _NEWTON_TOL) & (tt < np.inf)  # beyond the largest float: done
        if not going.any():
            break
        todo = todo[going]
        consts = consts[:, going]
    return t


def _t_newton_float(df, q, z):
    """_t_newton for one value, in plain floats."""
    a = 0.5 * df
    rr = _gamma_half_ratio(a, _FLOATS) / math.sqrt(math.pi)
    t = min(_t_start(df, q, z, a, rr, _FLOATS), _T_START_MAX)
    boundary = (a + 1.0) / (a + 2.5)
    for _ in range(_NEWTON_MAX_STEPS):
        step = _newton_step(t, df, a, rr, boundary, q, _FLOATS, _beta_cf_float)
        t += t * math.expm1(step)
        if not abs(step) > _NEWTON_TOL or t == math.inf:
            break
    return t


def _t_expansion(df, z, xp):
    """Upper t quantile from the expansion in 1/(df - 1/2); z = normal quantile (any sign)."""
    z2 = z * z
    terms = [z * _horner(coeffs, z2) for coeffs in _W_EXPANSION]
    inv_a = 1.0 / (df - 0.5)
    inv_a2 = inv_a * inv_a
    acc = terms[-1]
    for term in terms[-2::-1]:
        acc = acc * inv_a2 + term
    w = z + acc * inv_a2
    return xp.sqrt(df * xp.expm1(w * w * inv_a))


def _t_closed_form(df, q, xp):
    """Upper t quantile for df = 1 (Cauchy) and df = 2, tail probability 0 < q <= 1/2."""
    cauchy = xp.where(q < 0.25, 1.0 / xp.tan(math.pi * q), xp.tan(math.pi * (0.5 - q)))
    return xp.where(df == 1.0, cauchy, (1.0 - 2.0 * q) / xp.sqrt(2.0 * q * (1.0 - q)))


def _t_quantile_float(df, p):
    """t_quantile for one df and one p, in plain floats; may raise on extreme arguments."""
    if not (df > 0.0 and 0.0 <= p <= 1.0):  # also catches nan
        return math.nan
    q = min(p, 1.0 - p)
    if q == 0.0:
        t = math.inf
    elif q == 0.5:
        t = 0.0
    elif df == math.inf:
        t = -_ndtri_scalar(q)
    elif df == 1.0 or df == 2.0:
        t = _t_closed_form(df, q, _FLOATS)
    else:
        z = _ndtri_scalar(q)
        t = _t_expansion(df, z, _FLOATS) if _expansion_ok(df, z) else _t_newton_float(df, q, z)
    return t if p >= 0.5 else -t


def t_quantile(df, p):
    """Quantile of Student's t distribution with ``df`` degrees of freedom, at probability ``p``.

    The numpy equivalent of ``scipy.special.stdtrit(df, p)``: ``df`` and ``p`` broadcast
    against each other; ``df`` may be any positive real, and infinite for the normal
    distribution. Returns nan where df is nan or <= 0 or p is nan or outside [0, 1], and
    -inf / inf at p = 0 / 1. Relative accuracy is about 1e-15.
    Returns an array, or a numpy float when both arguments are scalars.
    """
    if np.ndim(df) == 0 and np.ndim(p) == 0:
        try:
            return np.float64(_t_quantile_float(float(df), float(p)))
        except (ArithmeticError, ValueError):
            pass  # extreme arguments overflow in floats: the array code copes with them
    df = np.asarray(df, dtype=float)
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        q = np.minimum(p, 1.0 - p)  # the smaller tail; 1 - p is exact for p >= 1/2
        z = _ndtri(q)  # <= 0
        t = _t_expansion(df, z, _ARRAYS)  # the quantile's magnitude, where it is accurate
        df_b, q_b, z_b, t = np.broadcast_arrays(df, q, z, t)
        t = t.copy()
        inside = (df_b > 0.0) & (df_b < np.inf) & (q_b > 0.0) & (q_b < 0.5)
        closed = inside & ((df_b == 1.0) | (df_b == 2.0))
        if closed.any():
            t[closed] = _t_closed_form(df_b[closed], q_b[closed], _ARRAYS)
        newton = inside & ~closed & ~_expansion_ok(df_b, z_b)
        if newton.any():
            t[newton] = _t_newton(df_b[newton], q_b[newton], z_b[newton])
        t = np.where(df_b == np.inf, -z_b, t)
        t = np.where(q_b == 0.0, np.inf, np.where(q_b == 0.5, 0.0, t))
        t = np.where(p >= 0.5, t, -t)
        t = np.where((df_b > 0.0) & (p >= 0.0) & (p <= 1.0), t, np.nan)  # false for nan
    return t[()] if t.ndim == 0 else t


def logit(p):
    """log(p / (1 - p)), like ``scipy.special.logit``: -inf at 0, inf at 1, nan outside."""
    p = np.asarray(p, dtype=float)
    with np.errstate(all="ignore"):
        # As scipy does: near 1/2, where p / (1 - p) loses precision, use log1p.
        s = 2.0 * (p - 0.5)
        out = np.where((p < 0.3) | (p > 0.65), np.log(p / (1.0 - p)), np.log1p(s) - np.log1p(-s))
        out = np.where((p >= 0.0) & (p <= 1.0), out, np.nan)
    return out[()] if out.ndim == 0 else out


def expit(x):
    """The logistic function 1 / (1 + exp(-x)), like ``scipy.special.expit``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        out = 1.0 / (1.0 + np.exp(-x))
    return out[()] if out.ndim == 0 else out

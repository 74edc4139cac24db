"""BG/NBD and Gamma-Gamma models for customer lifetime value, fitted by maximum likelihood.

The formulas are the published ones:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an
  alternative to the Pareto/NBD model", Marketing Science 24(2). While alive, a customer
  buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop out with
  probability p ~ Beta(a, b).
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for
  customer base analysis", Journal of Marketing Research 42(4), and Fader & Hardie's note
  "The Gamma-Gamma model of monetary value". The spend of one purchase is
  Gamma(p, nu), nu ~ Gamma(q, gamma) across customers.

Inputs per customer: ``x`` repeat purchases (purchases - 1), ``t_x`` the time from the
first to the last purchase and ``T`` the time from the first purchase to the end of the
calibration period, all in one time unit (the kit uses weeks); ``m`` the mean spend of
the repeat purchases. Parameters are fitted on their logarithms (they are all positive)
within ``LOG_BOUNDS``; an optimum on a bound is a *boundary optimum*, reported in plain
words in :attr:`Fit.notes` with the best parameters found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

LOG_BOUNDS = (-12.0, 12.0)  # ln of every parameter: about 6e-6 .. 1.6e5
_AT_BOUND = 0.05  # a log-parameter this close to a bound is "at" it
_FLAT = 1e-7  # mean log-likelihood change below which moving to the bound is "no worse"

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")

# What a parameter at its lower / upper bound means, in plain words.
_EDGE_WORDS = {
    ("r", "low"): "r -> 0: purchase rates differ enormously between customers",
    ("r", "high"): "r -> infinity: every customer buys at about the same rate",
    ("alpha", "low"): "alpha -> 0: purchase rates are extremely high relative to the time unit",
    ("alpha", "high"): "alpha -> infinity: every customer buys at about the same rate",
    ("a", "low"): "a -> 0: nobody drops out (the drop-out probability after a purchase is 0), "
    "so P(alive) is about 1 for every customer and the model is a plain NBD",
    ("a", "high"): "a -> infinity: customers drop out right after their first repeat purchase",
    ("b", "low"): "b -> 0: most customers drop out right after a purchase",
    ("b", "high"): "b -> infinity: nobody drops out, so P(alive) is about 1 for every customer",
    ("p", "low"): "p -> 0: the spend of one purchase varies enormously",
    ("p", "high"): "p -> infinity: every purchase of a customer costs the same",
    ("q", "low"): "q -> 0: mean spend differs enormously between customers (q <= 1 gives "
    "no finite mean spend for a customer without repeat purchases)",
    ("q", "high"): "q -> infinity: every customer has about the same mean spend",
    ("gamma", "low"): "gamma -> 0: mean spends are tiny against the data's scale",
    ("gamma", "high"): "gamma -> infinity: every customer has about the same mean spend",
}


@dataclass
class Fit:
    """The result of one maximum-likelihood fit.

    ``params``: name -> value; ``mean_log_likelihood``: per customer; ``converged``: the
    optimiser's own success flag; ``notes``: boundary optima and other warnings in words.
    """

    params: dict[str, float]
    mean_log_likelihood: float
    converged: bool
    customers: int
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- BG/NBD


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """BG/NBD log-likelihood of each customer (Fader, Hardie & Lee 2005, eq. 6).

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)),

    computed as ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
    + logaddexp(-(r+x) ln(alpha+T), ln(a/(b+x-1)) - (r+x) ln(alpha+t_x)), the second term
    only for x > 0 (B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1)).

    A one-time buyer (x = 0) seen for T: ln L = r ln(alpha/(alpha+T)); with r = alpha = 1,
    T = 1: ln(1/2).

    >>> float(bgnbd_log_likelihood(1, 1, 1, 1, np.array([0]), np.array([0]), np.array([1]))[0])
    -0.6931471805599453
    """
    return bgnbd_with_gradient(r, alpha, a, b, x, t_x, T)[0]


def bgnbd_gradient(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """d ln L / d(r, alpha, a, b) of each customer (rows: customers), from
    :func:`bgnbd_log_likelihood`, with w = the share of the drop-out term in L
    (psi = digamma):

    d/dr = psi(r+x) - psi(r) + ln alpha - (1-w) ln(alpha+T) - w ln(alpha+t_x);
    d/dalpha = r/alpha - (r+x) ((1-w)/(alpha+T) + w/(alpha+t_x));
    d/da = psi(a+b) - psi(a+b+x) + w/a;
    d/db = psi(b+x) - psi(a+b+x) - psi(b) + psi(a+b) - w/(b+x-1).

    >>> g = bgnbd_gradient(1, 1, 1, 1, np.array([0]), np.array([0]), np.array([1]))
    >>> g.round(4).tolist()  # x = 0: ln L = r ln(alpha/(alpha+T))
    [[-0.6931, 0.5, 0.0, 0.0]]
    """
    return bgnbd_with_gradient(r, alpha, a, b, x, t_x, T)[1]


def bgnbd_with_gradient(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`bgnbd_log_likelihood` and :func:`bgnbd_gradient` of each customer in one
    pass (the fit needs both at every step; they share their terms).

    >>> ll, g = bgnbd_with_gradient(1, 1, 1, 1, np.array([0]), np.array([0]), np.array([1]))
    >>> round(float(ll[0]), 4), g.round(4).tolist()
    (-0.6931, [[-0.6931, 0.5, 0.0, 0.0]])
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    rx = r + x
    base = special.gammaln(rx) - special.gammaln(r) + r * np.log(alpha)
    base += special.betaln(a, b + x) - special.betaln(a, b)
    stay = -rx * np.log(alpha + T)
    repeat = x > 0
    left = np.full_like(stay, -np.inf)
    left[repeat] = np.log(a) - np.log(b + x[repeat] - 1) - rx[repeat] * np.log(alpha + t_x[repeat])
    both = np.logaddexp(stay, left)
    w = np.exp(left - both)  # the share of the drop-out term: 0 when x = 0
    tx_ = np.where(repeat, t_x, T)  # any finite value where w = 0
    psi = special.digamma
    d_r = psi(rx) - psi(r) + np.log(alpha) - (1 - w) * np.log(alpha + T) - w * np.log(alpha + tx_)
    d_alpha = r / alpha - rx * ((1 - w) / (alpha + T) + w / (alpha + tx_))
    d_a = psi(a + b) - psi(a + b + x) + w / a
    d_b = psi(b + x) - psi(a + b + x) - psi(b) + psi(a + b) - w / np.where(repeat, b + x - 1, 1.0)
    return base + both, np.column_stack([d_r, d_alpha, d_a, d_b])


def p_alive(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive at T | x, t_x, T) under BG/NBD (Fader, Hardie & Lee 2005, eq. 11).

    P = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)). A customer with no
    repeat purchase has never had a chance to drop out: P = 1.

    >>> p_alive(1, 1, 1, 1, np.array([0, 1]), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    array([1. , 0.5])
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    out = np.ones_like(x)
    k = x > 0
    log_odds = (
        np.log(a)
        - np.log(b + x[k] - 1)
        + (r + x[k]) * (np.log(alpha + T[k]) - np.log(alpha + t_x[k]))
    )
    out[k] = special.expit(-log_odds)
    return out


def _a_off_one(a: float) -> float:
    """``a`` moved off 1 by 1e-7: the closed forms divide by a - 1 (the limit is smooth)."""
    return a if abs(a - 1.0) > 1e-7 else 1.0 + (1e-7 if a >= 1.0 else -1e-7)


def expected_purchases(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E[X(t)]: expected purchases of a new customer in (0, t] (FHL 2005, eq. 9).

    E[X(t)] = (a+b-1)/(a-1) * (1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))).

    With no drop-out (a -> 0) this tends to the NBD mean r t / alpha:

    >>> round(expected_purchases(2.0, 4.0, 1e-9, 1.0, 10.0), 6)
    5.0
    """
    a = _a_off_one(a)
    z = t / (alpha + t)
    h = special.hyp2f1(r, b, a + b - 1, z)
    return float((a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * h))


def conditional_expected_purchases(
    r: float,
    alpha: float,
    a: float,
    b: float,
    t: float | np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] of each customer (FHL 2005, eq. 10).

    E = (a+b+x-1)/(a-1) * (1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1;
    t/(alpha+T+t))) / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    With no drop-out (a -> 0) it is the NBD's (r+x)/(alpha+T) * t:

    >>> z = np.array([0.0])
    >>> conditional_expected_purchases(2.0, 4.0, 1e-9, 1.0, 10.0, np.array([2]),
    ...                                np.array([3.0]), np.array([6.0])).round(6)
    array([4.])
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    a = _a_off_one(a)
    rx = r + x
    z = t / (alpha + T + t)
    h = special.hyp2f1(rx, b + x, a + b + x - 1, z)
    first = (a + b + x - 1) / (a - 1)
    # (1 - q h) with q = ((alpha+T)/(alpha+T+t))^(r+x), in logs for large r+x
    bracket = 1 - np.exp(rx * (np.log(alpha + T) - np.log(alpha + T + t))) * h
    return first * bracket * p_alive(r, alpha, a, b, x, t_x, T)


# --------------------------------------------------------------------------- Gamma-Gamma


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """Gamma-Gamma log-likelihood of each repeat buyer (x > 0 purchases, mean spend m).

    L = G(px+q) / (G(px) G(q)) * gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q).

    One purchase of 1 with p = q = gamma = 1: L = G(2)/(G(1)G(1)) / 2^2 = 1/4.

    >>> float(gamma_gamma_log_likelihood(1, 1, 1, np.array([1]), np.array([1.0]))[0])
    -1.3862943611198906
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def gamma_gamma_gradient(
    p: float, q: float, gamma: float, x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """d ln L / d(p, q, gamma) of each repeat buyer (rows), from
    :func:`gamma_gamma_log_likelihood` (psi = digamma):

    d/dp = x (psi(px+q) - psi(px) + ln m + ln x - ln(gamma + m x));
    d/dq = psi(px+q) - psi(q) + ln gamma - ln(gamma + m x);
    d/dgamma = q/gamma - (px+q)/(gamma + m x).

    >>> gamma_gamma_gradient(1, 1, 1, np.array([1]), np.array([1.0])).round(4).tolist()
    [[0.3069, 0.3069, 0.0]]
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    px = p * x
    psi = special.digamma
    log_gm = np.log(gamma + m * x)
    d_p = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_gm)
    d_q = psi(px + q) - psi(q) + np.log(gamma) - log_gm
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    return np.column_stack([d_p, d_q, d_gamma])


def conditional_expected_spend(
    p: float, q: float, gamma: float, x: np.ndarray, m: np.ndarray
) -> np.ndarray:
    """E[spend of a purchase | x, m]: the Gamma-Gamma posterior mean (FHL 2005 "RFM and CLV").

    E = (gamma + m x) p / (p x + q - 1): a weighted mean of the population mean
    gamma p / (q - 1) and the customer's own mean m, weight p x / (p x + q - 1) on m. A
    customer with no repeat purchase (x = 0) gets the population mean. NaN when q <= 1
    (no finite population mean).

    >>> conditional_expected_spend(2.0, 3.0, 10.0, np.array([0, 1]), np.array([0.0, 40.0]))
    array([10., 25.])
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    m = np.where(x > 0, m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (gamma + m * x) * p / (p * x + q - 1)
    return np.where(p * x + q - 1 > 0, out, np.nan)


# --------------------------------------------------------------------------- fitting


def _fit(
    names: tuple[str, ...],
    mean_ll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
) -> tuple[np.ndarray, float, bool, list[str]]:
    """Maximise ``mean_ll`` (the mean log-likelihood and its gradient, both in the
    log-parameters) within ``LOG_BOUNDS`` with L-BFGS-B; when that does not converge,
    Nelder-Mead from its point and L-BFGS-B again.

    Returns the log-parameters, the maximum, L-BFGS-B's success flag and the parameters
    at a boundary optimum with the side ("low"/"high"): a parameter is at one when it is
    at its bound or moving it there leaves the likelihood where it is or raises it.
    """

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            v, g = mean_ll(theta)
        if not (np.isfinite(v) and np.isfinite(g).all()):
            return 1e100, np.zeros_like(theta)
        return -float(v), -np.asarray(g, dtype=float)

    bounds = [LOG_BOUNDS] * len(names)
    lbfgs = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8}
    res = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs
    )
    if not res.success:  # restart from where a derivative-free search ends
        nm = optimize.minimize(
            lambda th: objective(th)[0],
            res.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 2000, "xatol": 1e-7, "fatol": 1e-12},
        )
        again = optimize.minimize(
            objective, nm.x, jac=True, method="L-BFGS-B", bounds=bounds, options=lbfgs
        )
        if again.fun <= res.fun:
            res = again
    theta = np.asarray(res.x, dtype=float)
    edges = []
    for i, v in enumerate(theta):
        for side, bound in (("low", LOG_BOUNDS[0]), ("high", LOG_BOUNDS[1])):
            moved = theta.copy()
            moved[i] = bound
            near = abs(v - bound) <= _AT_BOUND
            if near or objective(moved)[0] <= res.fun + _FLAT:
                edges.append((names[i], side))
    return theta, float(-res.fun), bool(res.success), edges


def _start(params: dict[str, float], names: tuple[str, ...], scale: dict[str, float]) -> np.ndarray:
    """The log-parameters to start a fit from: ``params`` in the fit's scaled units
    (each name in ``scale`` divided by its scale), kept inside ``LOG_BOUNDS``."""
    theta = np.log([params[n] / scale.get(n, 1.0) for n in names])
    return np.clip(np.nan_to_num(theta, nan=0.0), *LOG_BOUNDS)


# Edges that mean the same thing, said once: (edges, words).
_SAME_EDGE = [
    (
        {("a", "low"), ("b", "high")},
        "a -> 0 and b -> infinity: nobody drops out (the "
        "drop-out probability after a purchase is 0), so P(alive) is about 1 for every customer "
        "and the model is a plain NBD",
    ),
    (
        {("a", "high"), ("b", "low")},
        "a -> infinity and b -> 0: every customer drops out right after a repeat purchase",
    ),
    (
        {("r", "high"), ("alpha", "high")},
        "r, alpha -> infinity: every customer buys at about the same rate",
    ),
    (
        {("q", "high"), ("gamma", "high")},
        "q, gamma -> infinity: every customer has about the same mean spend",
    ),
]


def _notes(edges: list[tuple[str, str]], params: dict[str, float], model: str) -> list[str]:
    """Plain words for each boundary optimum in ``edges`` (pairs that mean one thing once)."""
    left, said = set(edges), []
    for pair, words in _SAME_EDGE:
        if pair <= left:
            said.append((sorted(n for n, _ in pair), words))
            left -= pair
    said += [([n], _EDGE_WORDS[(n, side)]) for n, side in edges if (n, side) in left]
    return [
        f"{model}: boundary optimum - the likelihood is highest at the edge of the "
        f"parameter space ({words}); "
        + ", ".join(f"{n} = {params[n]:.4g}" for n in names)
        + (" are" if len(names) > 1 else " is")
        + " the best found, not an interior maximum, so read the predictions with care."
        for names, words in said
    ]


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, start: dict[str, float] | None = None
) -> Fit:
    """Maximum-likelihood BG/NBD parameters r, alpha, a, b from each customer's (x, t_x, T).

    Maximises the mean of :func:`bgnbd_log_likelihood` over ln(r, alpha, a, b). Times are
    divided by their mean while fitting (alpha is scaled back), so any time unit works.
    ``start``: parameters to start from (a warm start, e.g. another month's fit of the
    same customers); by default r = a = b = 1, alpha = 1 / (mean x + 1).

    >>> fit = fit_bgnbd(np.array([0, 1, 2, 0]), np.array([0.0, 3, 5, 0]), np.array([6.0, 6, 6, 6]))
    >>> sorted(fit.params), fit.customers
    (['a', 'alpha', 'b', 'r'], 4)
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    s = float(np.mean(T)) or 1.0
    # customers with the same (x, t_x, T) share one likelihood term: fit on the distinct rows
    rows, counts = np.unique(np.column_stack([x, t_x / s, T / s]), axis=0, return_counts=True)
    ux, ut, uT = rows.T
    weights = counts / len(x)

    def mean_ll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll, grad = bgnbd_with_gradient(*params, ux, ut, uT)
        return float(weights @ ll), (weights @ grad) * params

    if start is None:
        theta0 = np.log([1.0, 1.0 / (np.mean(x) + 1.0), 1.0, 1.0])
    else:
        theta0 = _start(start, BGNBD_PARAMS, {"alpha": s})
    theta, _, ok, edges = _fit(BGNBD_PARAMS, mean_ll, theta0)
    r, alpha, a, b = np.exp(theta)
    params = {"r": float(r), "alpha": float(alpha * s), "a": float(a), "b": float(b)}
    ll = float(np.mean(bgnbd_log_likelihood(*params.values(), x, t_x, T)))
    return Fit(params, ll, ok, len(x), _notes(edges, params, "BG/NBD"))


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray, start: dict[str, float] | None = None) -> Fit:
    """Maximum-likelihood Gamma-Gamma parameters p, q, gamma from repeat buyers' (x, m).

    Only customers with x > 0 and m > 0 are used. Maximises the mean of
    :func:`gamma_gamma_log_likelihood` over ln(p, q, gamma); spends are divided by their
    mean while fitting (gamma is scaled back), so any currency unit works. ``start``:
    parameters to start from (a warm start); by default p = 1, q = 2, gamma = 1.

    >>> fit = fit_gamma_gamma(np.array([1, 2, 3, 1]), np.array([10.0, 20, 15, 40]))
    >>> sorted(fit.params), fit.customers
    (['gamma', 'p', 'q'], 4)
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) == 0:
        raise ValueError("no repeat buyers to fit")
    s = float(np.mean(m))
    ms = m / s

    def mean_ll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        ll = np.mean(gamma_gamma_log_likelihood(*params, x, ms))
        return float(ll), gamma_gamma_gradient(*params, x, ms).mean(axis=0) * params

    theta0 = (
        np.log([1.0, 2.0, 1.0])
        if start is None
        else _start(start, GAMMA_GAMMA_PARAMS, {"gamma": s})
    )
    theta, _, ok, edges = _fit(GAMMA_GAMMA_PARAMS, mean_ll, theta0)
    p, q, gamma = np.exp(theta)
    params = {"p": float(p), "q": float(q), "gamma": float(gamma * s)}
    ll = float(np.mean(gamma_gamma_log_likelihood(*params.values(), x, m)))
    return Fit(params, ll, ok, len(x), _notes(edges, params, "Gamma-Gamma"))


# --------------------------------------------------------------------------- simulation


def simulate(
    customers: int,
    bgnbd: dict[str, float],
    gamma_gamma: dict[str, float],
    weeks: float | np.ndarray,
    seed: int = 0,
) -> pd.DataFrame:
    """Purchases drawn from the two models: columns customer, week (since the customer's
    first purchase, which is week 0) and spend, up to ``weeks`` (one value or one per
    customer).

    Each customer: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b), nu ~ Gamma(q, rate gamma);
    waits between purchases ~ Exponential(lambda); after each repeat purchase the customer
    leaves with probability p; each purchase spends ~ Gamma(p_spend, rate nu).

    >>> sim = simulate(3, {"r": 1, "alpha": 1, "a": 1, "b": 1},
    ...                {"p": 2, "q": 3, "gamma": 10}, 10.0, seed=1)
    >>> sorted(sim["customer"].unique().tolist()), float(sim["week"].min())
    ([0, 1, 2], 0.0)
    """
    rng = np.random.default_rng(seed)
    horizon = np.broadcast_to(np.asarray(weeks, dtype=float), (customers,))
    lam = rng.gamma(bgnbd["r"], 1 / bgnbd["alpha"], customers)
    drop = rng.beta(bgnbd["a"], bgnbd["b"], customers)
    nu = rng.gamma(gamma_gamma["q"], 1 / gamma_gamma["gamma"], customers)
    who, when = [np.arange(customers)], [np.zeros(customers)]
    now = np.zeros(customers)
    active = np.ones(customers, dtype=bool)
    while active.any():  # one more repeat purchase for every customer still buying
        now = now + rng.exponential(1.0, customers) / np.maximum(lam, 1e-300)
        active &= now <= horizon
        who.append(np.flatnonzero(active))
        when.append(now[active])
        active &= rng.random(customers) >= drop  # leaves after this repeat purchase?
    customer = np.concatenate(who)
    spend = rng.gamma(gamma_gamma["p"], 1 / nu[customer])
    out = pd.DataFrame({"customer": customer, "week": np.concatenate(when), "spend": spend})
    return out.sort_values(["customer", "week"], kind="stable").reset_index(drop=True)

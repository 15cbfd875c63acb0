"""Damped Newton for the (contextual) BT likelihood, and its sandwich covariance.

The likelihood only sees differences of strengths, so each connected component has one free
constant. Newton steps solve ``(H + ridge + s * U U^T) step = g`` where the columns of ``U`` are
the unit constant vectors of the components: this fixes every component's mean at its start
value (zero) without changing the step, and keeps the matrix positive definite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ratings.design import Design, Outcomes, gradient, hessian, neg_loglik, score_outer

Factor = tuple[NDArray[np.float64], bool]
#: Relative size of a decrease in the objective that its float64 sum still resolves (summing a
#: million terms loses ~1e-15 of the total); a Newton step predicting less is taken as it is.
_RESOLVABLE = 1e-12


@dataclass(frozen=True)
class Fit:
    """Fitted parameters (natural-log units) and the system matrix at the optimum."""

    params: NDArray[np.float64]
    system: NDArray[np.float64]  # H + ridge + gauge, positive definite
    converged: bool
    iterations: int


def system_matrix(
    info: NDArray[np.float64], ridge: NDArray[np.float64], basis: NDArray[np.float64]
) -> NDArray[np.float64]:
    """H + diag(ridge) + s * U U^T (U padded with zero rows for feature parameters)."""
    n = info.shape[0]
    diag = np.diagonal(info)
    s = float(diag[diag > 0].mean()) if bool(np.any(diag > 0)) else 1.0
    u = np.zeros((n, basis.shape[1]))
    u[: basis.shape[0]] = basis
    out = info + s * (u @ u.T)
    out[np.arange(n), np.arange(n)] += ridge
    return out


def factor(a: NDArray[np.float64]) -> Factor:
    """Cholesky factor of a symmetric positive definite matrix (tiny jitter if needed)."""
    try:
        return cho_factor(a, lower=True, check_finite=False)  # type: ignore[no-any-return]
    except LinAlgError:
        jitter = 1e-10 * max(1.0, float(np.abs(np.diagonal(a)).max(initial=0.0)))
        return cho_factor(  # type: ignore[no-any-return]
            a + jitter * np.eye(a.shape[0]), lower=True, check_finite=False
        )


def solve(f: Factor, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve with a Cholesky factor."""
    return cho_solve(f, rhs, check_finite=False)  # type: ignore[no-any-return]


def fit(
    d: Design,
    o: Outcomes,
    *,
    basis: NDArray[np.float64],
    ridge: NDArray[np.float64],
    start: NDArray[np.float64] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> Fit:
    """Maximise the log-likelihood minus ``ridge/2 * params**2`` by damped Newton."""
    score, total = o.score, o.total
    x = np.zeros(d.n_params) if start is None else start.astype(np.float64, copy=True)

    def objective(p: NDArray[np.float64]) -> float:
        return neg_loglik(d, p, score, total) + 0.5 * float(ridge @ (p * p))

    f_x = objective(x)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        g, _ = gradient(d, x, score, total)
        g -= ridge * x
        a = system_matrix(hessian(d, x, total), ridge, basis)
        step = solve(factor(a), g)
        t, slope = 1.0, float(g @ step)
        if slope <= _RESOLVABLE * max(1.0, abs(f_x)):
            # The predicted decrease is below what the objective's sum can resolve: the line
            # search would only halve the step against rounding noise (27 times, each a pass
            # over every row). This close to the optimum the Newton step is the right one.
            x = x + step
            f_x = objective(x)
            if float(np.abs(step).max(initial=0.0)) < tol:
                converged = True
                break
            continue
        while True:
            cand = x + t * step
            f_c = objective(cand)
            if f_c <= f_x - 1e-4 * t * slope or t < 1e-8:
                break
            t *= 0.5
        x, f_old, f_x = cand, f_x, f_c
        if float(np.abs(t * step).max(initial=0.0)) < tol or (
            t < 1e-8 and abs(f_old - f_x) <= 1e-15 * max(1.0, abs(f_x))
        ):
            converged = True
            break
    a = system_matrix(hessian(d, x, total), ridge, basis)
    return Fit(x, a, converged, it)


def sandwich(d: Design, o: Outcomes, f: Fit) -> NDArray[np.float64]:
    """Robust covariance A^-1 J A^-1 from per-battle score contributions (component mean 0)."""
    fac = factor(f.system)
    a_inv = solve(fac, np.eye(f.system.shape[0]))
    j = score_outer(d, f.params, o)
    cov = a_inv @ j @ a_inv
    return 0.5 * (cov + cov.T)

"""The keypoint fit's optimisers, over a problem that gives its robust least-squares terms with their exact Jacobian
(``realhands.fit.problem.FitProblem``, or any object with the same ``evaluate``):

* ``lbfgs``: L-BFGS (strong Wolfe line search; torch's algorithm, in NumPy) on the cost and its exact gradient —
  the default fit. Its early stop after a few iterations from the previous frame is part of what makes it accurate
  on MediaPipe's detections (docs/live.md);
* ``levenberg_marquardt``: damped Gauss-Newton; robust (pseudo-Huber) terms enter as iteratively reweighted least
  squares. It minimises the loss fully in few iterations.

Both move only the parameters marked ``free`` and return the parameters reached, the cost and the iterations run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

INITIAL_DAMPING = 1e-3
#: the damping after a kept step is multiplied by DAMPING_DOWN, after a refused one by DAMPING_UP
DAMPING_DOWN, DAMPING_UP = 0.3, 10.0
MAX_DAMPING = 1e8
#: Levenberg-Marquardt stops once a kept step lowers the cost by less than this share
RELATIVE_TOLERANCE = 1e-6
#: L-BFGS's settings: memory, and its stopping tolerances on the gradient and on the change of the cost
LBFGS_HISTORY = 10
LBFGS_TOLERANCE_GRAD, LBFGS_TOLERANCE_CHANGE = 1e-5, 1e-6
#: its line search: sufficient decrease, curvature (strong Wolfe), and the shortest bracket worth splitting (its width
#: times the direction's largest entry)
WOLFE_C1, WOLFE_C2, WOLFE_TOLERANCE_CHANGE = 1e-4, 0.9, 1e-9
#: what L-BFGS's line search is told a point costs where the loss is undefined (NaN or infinite: a step so long that
#: the hand's depth overflows): finite, so that it brackets and shortens the step instead of giving up
UNDEFINED_COST = 1e30


class Problem(Protocol):
    def evaluate(self, x: np.ndarray, jacobian: bool = False):
        """cost, or with ``jacobian`` (cost, residuals (M,), their IRLS weights (M,), Jacobian (M,P))."""


@dataclass
class Solution:
    x: np.ndarray  # (P,) the parameters reached
    cost: float
    iterations: int


def levenberg_marquardt(problem: Problem, x0: np.ndarray, free: np.ndarray, iterations: int) -> Solution:
    """Minimise from ``x0`` (P,) over the parameters where ``free`` (P,) bool is set, at most ``iterations`` tried
    steps. Each solves the damped normal equations of the local (reweighted) quadratic model; a step is kept only when
    the true cost falls, and the damping adapts."""
    x = np.asarray(x0, np.float64).copy()
    idx = np.flatnonzero(free)
    cost, r, g, J = problem.evaluate(x, jacobian=True)
    damping, done = INITIAL_DAMPING, 0
    while done < iterations:
        done += 1
        Jf = J[:, idx]
        JW = Jf.T * g
        A, b = JW @ Jf, JW @ r
        D = np.maximum(np.diagonal(A), 1e-9)
        try:
            step = -np.linalg.solve(A + np.diag(damping * D + 1e-9), b)
        except np.linalg.LinAlgError:
            break
        if not np.isfinite(step).all():
            break
        trial = x.copy()
        trial[idx] += step
        new = problem.evaluate(trial, jacobian=True)
        if not new[0] < cost:
            damping *= DAMPING_UP
            if damping > MAX_DAMPING:
                break
            continue
        gain = (cost - new[0]) / max(cost, 1e-12)
        x, (cost, r, g, J) = trial, new
        damping = max(damping * DAMPING_DOWN, 1e-9)
        if gain < RELATIVE_TOLERANCE:
            break
    return Solution(x, cost, done)


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to ``bounds`` (default:
    between the two points); their midpoint where the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = float(np.sqrt(disc))
    if x1 <= x2:
        t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
    else:
        t = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
    return min(max(t, lo), hi)


def _strong_wolfe(f_and_g, t: float, d: np.ndarray, f: float, g: np.ndarray, gtd: float, max_evals: int):
    """A step length along ``d`` meeting the strong Wolfe conditions (sufficient decrease WOLFE_C1, curvature
    WOLFE_C2) from cost ``f``, gradient ``g``, slope ``gtd``, trying ``t`` first: bracketing (cubic extrapolation)
    then zoom (cubic interpolation, safeguarded), at most ``max_evals`` evaluations of ``f_and_g(t)``. Returns
    (cost, gradient, step, evaluations) at the best step found."""
    d_norm = float(np.abs(d).max())
    f_new, g_new = f_and_g(t)
    evals, done = 1, False
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    bracket = None
    while evals - 1 < max_evals:
        if f_new > f + WOLFE_C1 * t * gtd or (evals > 2 and f_new >= f_prev):  # too far: a bracket
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -WOLFE_C2 * gtd:  # both conditions met
            bracket, done = [[t, f_new, g_new, gtd_new]], True
            break
        if gtd_new >= 0:  # past the minimum: a bracket
            bracket = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        # still going down: extrapolate, between 1.01 and 10 times the step
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, (t + 0.01 * (t - t_prev), t * 10.0))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = f_and_g(t)
        evals += 1
        gtd_new = float(g_new @ d)
    if bracket is None:  # out of evaluations while still going down
        bracket = [[0.0, f, g, None], [t, f_new, g_new, None]]
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    progress_poor = False
    while not done and evals - 1 < max_evals:
        a, b = bracket[0][0], bracket[1][0]
        if abs(b - a) * d_norm < WOLFE_TOLERANCE_CHANGE:
            break
        t = _cubic_minimum(a, bracket[0][1], bracket[0][3], b, bracket[1][1], bracket[1][3])
        top, bottom = max(a, b), min(a, b)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too near an end of the bracket
            if progress_poor or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                progress_poor = False
            else:
                progress_poor = True
        else:
            progress_poor = False
        f_new, g_new = f_and_g(t)
        evals += 1
        gtd_new = float(g_new @ d)
        if f_new > f + WOLFE_C1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, g_new, gtd_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -WOLFE_C2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = list(bracket[low])
            bracket[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


def lbfgs(problem: Problem, x0: np.ndarray, free: np.ndarray, iterations: int) -> Solution:
    """L-BFGS (memory LBFGS_HISTORY, unit step, strong Wolfe line search) for at most ``iterations`` iterations
    and 5/4 as many evaluations from ``x0`` over ``free``, on the problem's cost and exact gradient (2 J^T W r): the
    algorithm of torch's ``optim.LBFGS(line_search_fn="strong_wolfe")`` (a test holds them equal), in NumPy, which
    on a 61-parameter fit saves torch's per-operation overhead (~4 ms a frame). A line search may try a step so long
    that the hand leaves the numbers (its depth overflows): such a point costs UNDEFINED_COST, and the lowest-cost
    point evaluated is returned, so the result is always finite and never costs more than the start."""
    x = np.asarray(x0, np.float64).copy()
    free = np.asarray(free, bool)
    best = {"cost": np.inf, "x": x.copy()}

    def f_and_g(z: np.ndarray):
        x[free] = z
        with np.errstate(all="ignore"):
            cost, grad = problem.gradient(x) if hasattr(problem, "gradient") else _gradient(problem, x)
            grad = grad[free]
        if not (np.isfinite(cost) and np.isfinite(grad).all()):
            return UNDEFINED_COST, np.zeros_like(grad)
        if cost < best["cost"]:
            best["cost"], best["x"] = cost, x.copy()
        return float(cost), grad

    z = x[free].copy()
    cost, grad = f_and_g(z)
    evals, max_evals = 1, iterations * 5 // 4
    if np.abs(grad).max() <= LBFGS_TOLERANCE_GRAD:
        return Solution(best["x"], float(best["cost"]), 0)
    dirs, steps, rho = [], [], []  # the memory: gradient changes y, steps s, 1 / (y . s)
    h_diag, d, t, done = 1.0, -grad, 1.0, 0
    prev_grad = grad
    while done < iterations:
        done += 1
        if done > 1:
            y, s = grad - prev_grad, d * t
            ys = float(y @ s)
            if ys > 1e-10:  # curvature seen: remember the pair
                if len(dirs) == LBFGS_HISTORY:
                    dirs.pop(0), steps.pop(0), rho.pop(0)
                dirs.append(y), steps.append(s), rho.append(1.0 / ys)
                h_diag = ys / float(y @ y)
            q = -grad  # two-loop recursion: d = -H grad
            alpha = [0.0] * len(dirs)
            for i in range(len(dirs) - 1, -1, -1):
                alpha[i] = float(steps[i] @ q) * rho[i]
                q = q - alpha[i] * dirs[i]
            d = q * h_diag
            for i in range(len(dirs)):
                d = d + (alpha[i] - float(dirs[i] @ d) * rho[i]) * steps[i]
        prev_grad, prev_cost = grad, cost
        t = min(1.0, 1.0 / float(np.abs(grad).sum())) if done == 1 else 1.0
        gtd = float(grad @ d)
        if gtd > -LBFGS_TOLERANCE_CHANGE:  # not a descent direction
            break
        cost, grad, t, used = _strong_wolfe(lambda step, z=z, d=d: f_and_g(z + step * d), t, d, cost, grad, gtd,
                                            max_evals - evals)
        z = z + t * d
        evals += used
        if (done == iterations or evals >= max_evals or np.abs(grad).max() <= LBFGS_TOLERANCE_GRAD
                or np.abs(d * t).max() <= LBFGS_TOLERANCE_CHANGE or abs(cost - prev_cost) < LBFGS_TOLERANCE_CHANGE):
            break
    return Solution(best["x"], float(best["cost"]), done)


def _gradient(problem: Problem, x: np.ndarray):
    """cost and its gradient 2 J^T W r from a problem's ``evaluate``."""
    cost, r, g, J = problem.evaluate(x, jacobian=True)
    # (einsum, not BLAS: a 500x61 product is microseconds, and BLAS's thread pool, contending with the live
    # process's other threads, made it ~0.8 ms)
    return cost, np.einsum("m,mf->f", 2.0 * g * r, J)

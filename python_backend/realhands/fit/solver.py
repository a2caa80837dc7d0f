"""The keypoint fit's optimisers, over a problem that gives its robust least-squares terms with their exact Jacobian
(``realhands.fit.problem.FitProblem``, or any object with the same ``evaluate``):

* ``lbfgs``: torch's L-BFGS (strong Wolfe line search) on the cost and its exact gradient — the default fit. Its
  early stop after a few iterations from the previous frame is part of what makes it accurate on MediaPipe's
  detections (docs/live.md);
* ``levenberg_marquardt``: damped Gauss-Newton; robust (pseudo-Huber) terms enter as iteratively reweighted least
  squares. It minimises the loss fully in few iterations.

Both move only the parameters marked ``free`` and return the parameters reached, the cost and the iterations run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

INITIAL_DAMPING = 1e-3
#: the damping after a kept step is multiplied by DAMPING_DOWN, after a refused one by DAMPING_UP
DAMPING_DOWN, DAMPING_UP = 0.3, 10.0
MAX_DAMPING = 1e8
#: Levenberg-Marquardt stops once a kept step lowers the cost by less than this share
RELATIVE_TOLERANCE = 1e-6
#: L-BFGS's settings: memory, and its stopping tolerances on the gradient and on the change of the cost
LBFGS_HISTORY = 10
LBFGS_TOLERANCE_GRAD, LBFGS_TOLERANCE_CHANGE = 1e-5, 1e-6
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


def lbfgs(problem: Problem, x0: np.ndarray, free: np.ndarray, iterations: int) -> Solution:
    """torch's L-BFGS (lr 1, strong Wolfe) for at most ``iterations`` iterations from ``x0`` over ``free``, on the
    problem's cost and exact gradient (2 J^T W r). A line search may try a step so long that the hand leaves the
    numbers (its depth overflows): such a point costs UNDEFINED_COST, and the lowest-cost point evaluated is returned,
    so the result is always finite and never costs more than the start."""
    x = np.asarray(x0, np.float64).copy()
    sub = torch.tensor(x[free])
    opt = torch.optim.LBFGS([sub], lr=1.0, max_iter=iterations, history_size=LBFGS_HISTORY,
                            line_search_fn="strong_wolfe", tolerance_grad=LBFGS_TOLERANCE_GRAD,
                            tolerance_change=LBFGS_TOLERANCE_CHANGE)
    best = {"cost": np.inf, "x": x.copy()}

    def closure():
        x[free] = sub.detach().numpy()
        with np.errstate(all="ignore"):
            cost, r, g, J = problem.evaluate(x, jacobian=True)
            # (einsum, not BLAS: a 500x61 product is microseconds, and BLAS's thread pool, contending with the live
            # process's other threads, made it ~0.8 ms)
            grad = np.einsum("m,mf->f", 2.0 * g * r, J)[free]
        if not (np.isfinite(cost) and np.isfinite(grad).all()):
            cost, grad = UNDEFINED_COST, np.zeros_like(grad)
        elif cost < best["cost"]:
            best["cost"], best["x"] = cost, x.copy()
        sub.grad = torch.from_numpy(grad)
        return torch.tensor(cost, dtype=torch.float64)

    opt.step(closure)
    done = opt.state[opt._params[0]].get("n_iter", iterations)
    return Solution(best["x"], float(best["cost"]), int(done))

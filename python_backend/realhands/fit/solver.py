"""Levenberg-Marquardt for robust least squares over a few dozen parameters, with Jacobians by batched central
differences: the model is evaluated at all 2F perturbed parameter sets in one batched call, which on a CPU costs
about what two unbatched calls do (a hand's 21 keypoints: ~0.4 ms for 120 sets against ~0.2 ms for one), far less
than F reverse-mode passes, and needs no hand-derived derivatives of the skinning chain.

Robust terms (pseudo-Huber) enter as iteratively reweighted least squares: ``evaluate`` returns the residuals, the
weights of the local quadratic model at that point (cost weight x rho'(|r|^2)) and the true cost; a step is kept only
when the true cost falls. Each iteration tries several damping values in one batched call and keeps the best.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

#: central-difference step, in each parameter's own unit (radians, shape units, hundreds of pixels, log depth)
DIFF_STEP = 1e-3
#: damping values tried at each iteration, as multiples of the current one (the best is kept and becomes current)
DAMPING_TRIALS = (0.1, 1.0, 10.0, 100.0)
INITIAL_DAMPING = 1e-3
#: stop once an iteration lowers the cost by less than this share
RELATIVE_TOLERANCE = 1e-6

Evaluate = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


@dataclass
class SolveResult:
    x: torch.Tensor  # (P,) the parameters reached
    cost: float
    iterations: int  # iterations run (damping trials)
    evaluations: int  # parameter sets evaluated, Jacobians' included


def levenberg_marquardt(evaluate: Evaluate, x0: torch.Tensor, free: torch.Tensor, iterations: int) -> SolveResult:
    """Minimise a robust sum of squares.

    evaluate: X (N,P) parameter sets -> residuals (N,M), their quadratic-model weights (N,M) (>= 0) and the cost
        (N,); all N rows are independent.
    x0: (P,) the start; free: (P,) bool, the parameters that move (the others are held).
    iterations: at most this many iterations, each one batched trial of the damping values (a Jacobian is taken
        again only after a step was kept).
    """
    x = x0.detach().clone()
    idx = torch.nonzero(free, as_tuple=False)[:, 0]
    F = len(idx)
    r, W, c = evaluate(x[None])
    r, W, cost = r[0], W[0], float(c[0])
    damping, done, evaluations = INITIAL_DAMPING, 0, 1
    eye = torch.eye(F, dtype=x.dtype)
    trials = torch.tensor(DAMPING_TRIALS, dtype=x.dtype)
    moved = True  # x changed since the Jacobian was taken (a rejected step keeps it and only raises the damping)
    for _ in range(iterations):
        done += 1
        if moved:
            X = x.repeat(2 * F, 1)
            X[torch.arange(F), idx] += DIFF_STEP
            X[F + torch.arange(F), idx] -= DIFF_STEP
            R = evaluate(X)[0]
            evaluations += 2 * F
            J = ((R[:F] - R[F:]) / (2.0 * DIFF_STEP)).T  # (M,F)
            JW = J.T * W
            A, g = JW @ J, JW @ r
            D = torch.diagonal(A).clamp_min(1e-9)
            moved = False
        lams = damping * trials
        systems = A[None] + lams[:, None, None] * (torch.diag_embed(D[None]) + 1e-9 * eye)
        steps = -torch.linalg.solve(systems, g[None].expand(len(trials), F))
        if not torch.isfinite(steps).all():
            break
        Xt = x.repeat(len(trials), 1)
        Xt[:, idx] += steps
        rt, Wt, ct = evaluate(Xt)
        evaluations += len(trials)
        best = int(torch.argmin(torch.nan_to_num(ct, nan=float("inf"))))
        new_cost = float(ct[best])
        if not new_cost < cost:  # no damping helped: try far stronger ones once more, else stop
            damping *= 1e3
            if damping > 1e8:
                break
            continue
        gain = (cost - new_cost) / max(cost, 1e-12)
        x, r, W, cost = Xt[best], rt[best], Wt[best], new_cost
        moved = True
        damping = max(float(lams[best]), 1e-9)
        if gain < RELATIVE_TOLERANCE:
            break
    return SolveResult(x, cost, done, evaluations)

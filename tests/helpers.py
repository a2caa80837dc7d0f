"""Accuracy checks shared by the tests: every accuracy test beats a baseline computed in the test, by a margin, and
stays under an absolute limit, so that a broken stage fails it (tools/eval/mutants.py shows which test catches what).

    beats("hybrid PA-MPJPE", ours, {"mean-pose hand": base, "MediaPipe world landmarks": mp}, margin=1.5, limit=20)
"""
from __future__ import annotations

import numpy as np
import torch


def mean_pose_joints(model, mano: dict) -> np.ndarray:
    """(21,3) keypoints of the model's mean pose and mean shape, placed by ``mano``'s own global_orient and transl:
    the constant hand a reconstruction that ignored the image's pose would give."""
    dt = model.v_template.dtype
    p = {k: torch.as_tensor(np.asarray(v), dtype=dt).reshape(1, -1) for k, v in mano.items()}
    p["hand_pose"] = torch.as_tensor(model.data.hands_mean, dtype=dt)[None]
    p["betas"] = torch.zeros(1, model.num_betas, dtype=dt)
    with torch.no_grad():
        return model(**p).keypoints[0].numpy().astype(np.float64)


def beats(what: str, ours, baselines: dict, margin: float, limit: float, higher_is_better: bool = False) -> None:
    """Assert that mean(ours) is within ``limit`` and better than mean(baseline) by ``margin`` for every baseline
    (lower is better, e.g. errors in mm; ``higher_is_better`` for scores such as IoU)."""
    sign = -1.0 if higher_is_better else 1.0
    ours = float(np.mean(ours))
    report = f"{what}: ours {ours:.3f}, " + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in baselines.items()) + \
        f" (margin {margin}, limit {limit})"
    print(report)  # shown with -s, and on failure
    assert sign * ours <= sign * limit, report
    for values in baselines.values():
        assert sign * ours <= sign * float(np.mean(values)) - margin, report

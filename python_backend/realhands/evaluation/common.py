"""Shared pieces of the evaluations: per-hand metrics, matching a detection to the ground truth
(``perception.tracking.match_detection``), summaries."""
from __future__ import annotations

import numpy as np

from ..camera import Camera
from ..metrics import PCK_THRESHOLDS_MM, f_score, joint_errors, pck_auc, pck_curve, per_point_error_mm
from ..perception.tracking import match_detection

__all__ = ["METRIC_KEYS", "hand_metrics", "match_detection", "summarise"]

#: per-hand metrics, all in millimetres except the F-scores (fractions) and pixels
METRIC_KEYS = ("pa_mpjpe_mm", "pa_mpve_mm", "f5", "f15", "mpjpe_mm", "root_relative_mpjpe_mm", "root_mm", "reproj_px")


def hand_metrics(joints: np.ndarray, gt_joints: np.ndarray, vertices: np.ndarray | None = None,
                 gt_vertices: np.ndarray | None = None, camera: Camera | None = None,
                 gt_2d: np.ndarray | None = None) -> dict:
    """Metrics of one hand. ``joints`` (21,3) and ``vertices`` (V,3) in the ground truth's camera frame (m).
    The joints' errors are ``realhands.metrics.joint_errors`` (PA-MPJPE, absolute and root-relative MPJPE, the
    wrist's error, the 21 aligned errors for PCK curves); PA-MPVE and F@5/F@15 are vertex errors after a Procrustes
    alignment; reproj_px: the joints projected with ``camera`` against ``gt_2d``."""
    m = joint_errors(joints, gt_joints)
    if vertices is not None and gt_vertices is not None and len(vertices) == len(gt_vertices):
        m["pa_mpve_mm"] = float(per_point_error_mm(vertices, gt_vertices, align="procrustes").mean())
        m["f5"] = f_score(vertices, gt_vertices, 0.005)
        m["f15"] = f_score(vertices, gt_vertices, 0.015)
    if camera is not None and gt_2d is not None:
        m["reproj_px"] = float(np.linalg.norm(camera.project(joints) - gt_2d, axis=1).mean())
    return m


def summarise(rows: list[dict], thresholds_mm=PCK_THRESHOLDS_MM) -> dict:
    """Means of each metric over hands; the PCK curve of the aligned joints (fraction within each threshold) and
    its area under the curve (0..50 mm)."""
    out = {"hands": len(rows)}
    for k in METRIC_KEYS + ("mask_iou", "mask_accuracy"):
        vals = [r[k] for r in rows if k in r and r[k] is not None and np.isfinite(r[k])]
        if vals:
            out[k] = float(np.mean(vals))
    per = [e for r in rows for e in r.get("per_joint_pa_mm", [])]
    if per:
        t, pck = pck_curve(per, thresholds_mm)
        out["pck"] = {"thresholds_mm": [float(x) for x in t], "fraction": [float(x) for x in pck]}
        out["auc_0_50"] = float(pck_auc(per, thresholds_mm))
    ms = {}
    for r in rows:
        for k, v in r.get("timings_ms", {}).items():
            ms.setdefault(k, []).append(v)
    if ms:
        out["timings_ms"] = {k: float(np.median(v)) for k, v in ms.items()}
        out["total_ms"] = float(np.median([sum(r.get("timings_ms", {}).values()) for r in rows]))
    return out

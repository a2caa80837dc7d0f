"""Accuracy metrics, following the FreiHAND benchmark's definitions (Zimmermann et al., ICCV 2019).

Inputs are numpy arrays (or anything np.asarray accepts) in metres for 3D and pixels for 2D; 3D results are
reported in millimetres.

* MPJPE / MPVPE: mean Euclidean distance over joints / vertices, after one of three alignments:
  ``"none"``; ``"root"`` (both translated so their root joint is at the origin); ``"procrustes"``
  (the prediction mapped onto the ground truth by the least-squares similarity transform: scale, rotation
  without reflection, translation), as FreiHAND reports.
* F-score at a threshold d: precision = share of predicted points within d of the nearest ground-truth point,
  recall = share of ground-truth points within d of the nearest predicted point, F = 2PR / (P + R); computed
  on Procrustes-aligned vertices, as FreiHAND does (F@5mm, F@15mm).
* PCK curve: share of keypoints with error below each threshold, 0-50 mm in 100 steps; AUC is the area under
  it divided by the range (so 1.0 is perfect).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

PCK_THRESHOLDS_MM = np.linspace(0.0, 50.0, 100)


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Similarity-align pred (N,3) to gt (N,3) (Umeyama): returns s * R @ pred + t, R a proper rotation."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    mu_p, mu_g = pred.mean(0), gt.mean(0)
    p, g = pred - mu_p, gt - mu_g
    var_p = (p ** 2).sum()
    if var_p < 1e-18:
        return np.tile(mu_g, (len(pred), 1))
    U, S, Vt = np.linalg.svd(g.T @ p)
    D = np.eye(3)
    if np.linalg.det(U @ Vt) < 0:
        D[2, 2] = -1.0
    R = U @ D @ Vt
    s = np.trace(np.diag(S) @ D) / var_p
    return s * p @ R.T + mu_g


def _align(pred, gt, align: str, root: int | None, pred_root=None, gt_root=None):
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if align == "none":
        return pred, gt
    if align == "root":
        pr = pred[..., root, :] if pred_root is None else np.asarray(pred_root)
        gr = gt[..., root, :] if gt_root is None else np.asarray(gt_root)
        return pred - pr[..., None, :], gt - gr[..., None, :]
    if align == "procrustes":
        if pred.ndim == 2:
            return procrustes_align(pred, gt), gt
        return np.stack([procrustes_align(p, g) for p, g in zip(pred, gt, strict=True)]), gt
    raise ValueError(f"align must be 'none', 'root' or 'procrustes', got {align!r}")


def per_point_error_mm(pred, gt, align: str = "procrustes", root: int = 0, pred_root=None, gt_root=None):
    """Euclidean error of each point, mm. pred, gt: (N,3) or (B,N,3) metres."""
    p, g = _align(pred, gt, align, root, pred_root, gt_root)
    return np.linalg.norm(p - g, axis=-1) * 1000.0


def mpjpe(pred, gt, align: str = "procrustes", root: int = 0) -> float:
    """Mean per-joint position error, mm (root: index of the root joint, 0 = wrist in keypoint order)."""
    return float(per_point_error_mm(pred, gt, align, root).mean())


def mpvpe(pred, gt, align: str = "procrustes", pred_root=None, gt_root=None) -> float:
    """Mean per-vertex position error, mm. For ``align="root"`` give the root joints (3,) or (B,3)."""
    if align == "root" and (pred_root is None or gt_root is None):
        raise ValueError("root-relative MPVPE needs pred_root and gt_root (the root joint positions)")
    return float(per_point_error_mm(pred, gt, align, 0, pred_root, gt_root).mean())


def joint_errors(pred, gt) -> dict:
    """One hand's 21 joints (m, both in the same camera frame) against a reference, as every report gives them
    (the live report, ``realhands eval recording``, ``replay --rerun``, the evaluations): ``mpjpe_mm`` (absolute,
    no alignment), ``root_relative_mpjpe_mm`` (both wrists at the origin), ``pa_mpjpe_mm`` (after Procrustes),
    ``root_mm`` (the wrists' distance) and ``per_joint_pa_mm`` (the 21 aligned errors, for PCK curves)."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    d = pred - gt
    finite = np.isfinite(pred).all() and np.isfinite(gt).all()  # a broken hand is scored NaN, not an exception
    per_pa = per_point_error_mm(pred, gt, align="procrustes") if finite else np.full(pred.shape[:-1], np.nan)
    return {"mpjpe_mm": float(np.linalg.norm(d, axis=-1).mean() * 1000),
            "root_relative_mpjpe_mm": float(np.linalg.norm(d - d[..., :1, :], axis=-1).mean() * 1000),
            "pa_mpjpe_mm": float(per_pa.mean()), "root_mm": float(np.linalg.norm(d[..., 0, :]) * 1000),
            "per_joint_pa_mm": per_pa.tolist()}


def acceleration_errors_mm(joints: dict, truth: dict) -> list[float]:
    """Jitter: per frame t with both neighbours present, the mean over joints of |a_pred - a_true| (mm/frame^2), a the
    second difference of positions. ``joints``, ``truth``: frame index -> (J,3) metres."""
    return [float(np.linalg.norm((joints[t + 1] - 2 * joints[t] + joints[t - 1])
                                 - (truth[t + 1] - 2 * truth[t] + truth[t - 1]), axis=1).mean() * 1000)
            for t in joints if t - 1 in joints and t + 1 in joints]


def f_score(pred, gt, threshold_m: float, align: str = "procrustes") -> float:
    """F-score of point sets pred (N,3), gt (M,3) at a distance threshold in metres (after alignment, which
    needs N == M and corresponding points)."""
    p, g = _align(pred, gt, align, 0) if align != "none" else (np.asarray(pred), np.asarray(gt))
    d_pg = cKDTree(g).query(p)[0]
    d_gp = cKDTree(p).query(g)[0]
    precision = float((d_pg < threshold_m).mean())
    recall = float((d_gp < threshold_m).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def pck_curve(errors_mm, thresholds_mm=PCK_THRESHOLDS_MM) -> tuple[np.ndarray, np.ndarray]:
    """Share of errors below each threshold (an error equal to the threshold counts as below)."""
    e = np.asarray(errors_mm, dtype=np.float64).reshape(-1)
    return np.asarray(thresholds_mm), np.array([(e <= t).mean() for t in thresholds_mm])


def pck_auc(errors_mm, thresholds_mm=PCK_THRESHOLDS_MM) -> float:
    """Area under the PCK curve, normalised by the threshold range (trapezoidal rule)."""
    t, pck = pck_curve(errors_mm, thresholds_mm)
    return float(np.trapz(pck, t) / (t[-1] - t[0]))


def keypoint_error_2d(pred_px, gt_px, visible=None) -> dict:
    """Mean and median distance in pixels between (…,K,2) keypoints; ``visible`` (…,K) bool masks points."""
    d = np.linalg.norm(np.asarray(pred_px, dtype=np.float64) - np.asarray(gt_px, dtype=np.float64), axis=-1)
    if visible is not None:
        d = d[np.asarray(visible, dtype=bool)]
    return {"mean_px": float(d.mean()), "median_px": float(np.median(d))}


def silhouette_iou(pred_mask, gt_mask) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    p, g = np.asarray(pred_mask, dtype=bool), np.asarray(gt_mask, dtype=bool)
    union = np.logical_or(p, g).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, g).sum() / union)


def pixel_accuracy(pred_mask, gt_mask) -> float:
    """Share of pixels where the masks agree."""
    p, g = np.asarray(pred_mask, dtype=bool), np.asarray(gt_mask, dtype=bool)
    return float((p == g).mean())

"""Real photos with 3D ground truth: every variant of the pipeline beside MediaPipe's own world landmarks, on the
same photos and the same MediaPipe detections (``realhands eval real3d``).

Annotation JSON (the format of ``shared/realdata``; any path, or a folder holding ``annotations.json``)::

    {"samples": [
        {"image": "crops/0001.png",          # relative to the JSON's folder
         "K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],   # the image's intrinsics, pixels
         "joints_3d": [[x, y, z], ... 21]}    # metres, camera coordinates (OpenCV axes), MediaPipe keypoint order
    ]}

Scored: the hand's ``landmarks_3d`` (the keypoints where MediaPipe and hand datasets mark them; the skeleton's
``joints_3d`` sit elsewhere, realhands.fit.landmarks) against ``joints_3d``: PA-MPJPE, root-relative MPJPE,
absolute MPJPE, the wrist's position error (mean and median) and the 2D error of the projected keypoints
against the projected ground truth. MediaPipe's world landmarks have no placement: they are scored after PA and
root alignment only, its 2D keypoints in 2D. A sample whose entry is malformed, whose image does not load or
whose hand MediaPipe does not find is counted (``skipped``, ``missed``), and the evaluation carries on.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..camera import Camera
from ..errors import CameraError, DatasetError
from ..metrics import joint_errors
from .common import match_detection, summarise
from .datasets import NUMBER_ERRORS, _read_image, annotation_entries, valid_entries

#: the variants scored, name -> Reconstructor arguments; "default" is the Reconstructor's defaults
REAL3D_VARIANTS = {
    "default": {},
    "keypoint fit": {"regressor": "fit", "mask": "none"},
    "hybrid (the default's pose)": {"regressor": "handnet", "mask": "none"},
    "hybrid + HandNet's keypoints by its uncertainty": {"regressor": "handnet", "mask": "none", "handnet_weight": 1.0},
    "HandNet": {"regressor": "net", "mask": "none"},
    "fit + refinement 3 it. (HandNet mask)": {"regressor": "fit", "mask": "handnet", "refine_iterations": 3},
}
MEDIAPIPE = "MediaPipe world landmarks"
#: annotated joints further from the camera than this (m) are not a hand in a photo (millimetres, or garbage)
MAX_JOINT_DISTANCE_M = 10.0


def load_real3d(path: str | Path) -> tuple[Path, list[dict], list[str]]:
    """(image folder, valid samples, reasons for the skipped ones). A missing, unreadable or empty annotation file
    is a DatasetError; a malformed sample is skipped with its reason."""
    p, samples = annotation_entries(path, "samples", "3D hand annotations; see realhands.evaluation.real3d for the "
                                    "format", '{"samples": [{"image", "K", "joints_3d"}, ...]}', "sample")
    valid, skipped = valid_entries(samples, _invalid, "image", "sample")
    return p.parent, [{"image": s["image"], "K": np.asarray(s["K"], np.float64),
                       "joints_3d": np.asarray(s["joints_3d"], np.float64)} for _, s in valid], skipped


def _invalid(s) -> str | None:
    if not isinstance(s, dict) or not isinstance(s.get("image"), str) or not s["image"]:
        return "needs \"image\" (a path relative to the annotation file)"
    try:
        K = np.asarray(s.get("K"), np.float64)
        j = np.asarray(s.get("joints_3d"), np.float64)
    except NUMBER_ERRORS:
        return "K and joints_3d must be numbers (of a size a float holds)"
    if K.shape != (3, 3) or not np.isfinite(K).all() or K[0, 0] <= 0 or K[1, 1] <= 0:
        return "K must be a 3x3 intrinsic matrix with positive focal lengths"
    if j.shape != (21, 3):
        return f"joints_3d must be 21 [x, y, z] points in metres, got shape {j.shape}"
    if not np.isfinite(j).all():
        return "joints_3d holds NaN or infinite values"
    if (j[:, 2] <= 0).any():
        return "joints_3d must lie in front of the camera (z > 0, metres)"
    if np.abs(j).max() > MAX_JOINT_DISTANCE_M:
        return f"joints_3d must be in metres within {MAX_JOINT_DISTANCE_M:g} m of the camera (millimetres given?)"
    return None


def evaluate_real3d(path: str | Path, variants: dict | None = None, progress: bool = True) -> dict:
    """Run ``variants`` (default ``REAL3D_VARIANTS``) on every sample. Returns a JSON-ready dict: per variant and
    for MediaPipe a summary (``common.summarise``: means, PCK of the aligned joints, AUC, median time) plus the
    wrist's median error and the 2D error; counts of samples, skipped and missed ones."""
    from ..reconstruct import Reconstructor

    folder, samples, skipped = load_real3d(path)
    entries = len(samples) + len(skipped)
    variants = REAL3D_VARIANTS if variants is None else variants
    recs = {name: Reconstructor(smoothing_hz=0, **cfg) for name, cfg in variants.items()}
    detector = next(iter(recs.values()))
    rows = {name: [] for name in [MEDIAPIPE, *recs]}
    missed = 0
    for s in tqdm(samples, desc="eval real3d", unit="photo", disable=not progress):
        try:
            img = _read_image(folder / s["image"])
            camera = Camera.from_K(s["K"], img.shape[1], img.shape[0])
        except (DatasetError, CameraError) as exc:
            skipped.append(f"{s['image']}: {exc}")
            continue
        gt = s["joints_3d"]
        gt_2d = camera.project(gt)
        t = time.perf_counter()
        det = match_detection(detector.detect(img), gt_2d)
        detect_ms = (time.perf_counter() - t) * 1000
        if det is None:
            missed += 1
            continue
        rows[MEDIAPIPE].append(_mediapipe_row(det, gt, gt_2d, detect_ms))
        for name, rec in recs.items():
            t = time.perf_counter()
            hand = rec.solve(img, [det], camera)[0]
            ms = (time.perf_counter() - t) * 1000
            r = joint_errors(hand.landmarks_3d, gt)
            r["reproj_px"] = float(np.linalg.norm(camera.project(hand.landmarks_3d) - gt_2d, axis=1).mean())
            r["timings_ms"] = {"detect": detect_ms, "reconstruct": ms}
            rows[name].append(r)
    for rec in recs.values():
        rec.close()
    out = {"annotations": str(path), "samples": entries,
           "skipped": skipped, "missed": missed, "detected": len(rows[MEDIAPIPE]), "variants": {}}
    for name, r in rows.items():
        if not r:
            continue
        summary = summarise(r)
        if name == MEDIAPIPE:
            summary.pop("mpjpe_mm", None)
            summary.pop("root_mm", None)
        else:
            summary["root_mm_median"] = float(np.median([x["root_mm"] for x in r]))
        out["variants"][name] = summary
    return out


def _mediapipe_row(det, gt: np.ndarray, gt_2d: np.ndarray, detect_ms: float) -> dict:
    """MediaPipe's world landmarks put at the true wrist (they carry no placement) and its 2D keypoints."""
    w = np.asarray(det.world_landmarks, np.float64)
    r = joint_errors(w - w[0] + gt[0], gt)
    r["reproj_px"] = float(np.linalg.norm(det.keypoints_2d - gt_2d, axis=1).mean())
    r["timings_ms"] = {"detect": detect_ms}
    return r


#: the columns of the real-photo table: (header, summary key, decimals)
REAL3D_COLUMNS = [("PA-MPJPE mm", "pa_mpjpe_mm", 2), ("root-relative MPJPE mm", "root_relative_mpjpe_mm", 1),
                  ("wrist position mm (median)", "root_mm_median", 1), ("MPJPE mm (no alignment)", "mpjpe_mm", 1),
                  ("2D px", "reproj_px", 2), ("AUC 0–50 mm", "auc_0_50", 3), ("ms per photo", "total_ms", 0)]


def real3d_table(result: dict) -> str:
    """The markdown table of ``evaluate_real3d``'s output, MediaPipe first."""
    from .report import table

    return table(result["variants"], REAL3D_COLUMNS)

#!/usr/bin/env python3
"""Where a one-view hand's wrist error comes from, on annotated photos: along the camera's ray (depth, set by the
hand's estimated size) or across it (the wrist's 2D placement). Diagnosis only: nothing is fitted to the photos.

    python -m tools.eval.wrist_error ../shared/realdata/ge2019_dev/annotations.json

Prints a table: the default's wrist error (median), its part along the ray (median of the absolute value, and
the signed median: a bias), its part across the ray, the 2D wrist error of the default and of MediaPipe (px), and
the hand's size against the annotation's (summed bone lengths: median, spread) for the default and for
MediaPipe's world landmarks, with the correlation of the depth error with the size error.
"""
from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

from realhands.camera import Camera
from realhands.evaluation.real3d import _read_image, load_real3d, match_detection
from realhands.reconstruct import Reconstructor

#: the bones whose summed length is the hand's size here: the palm's rays and the middle finger
SIZE_BONES = ((0, 1), (0, 5), (0, 9), (0, 13), (0, 17), (9, 10), (10, 11), (11, 12))


def hand_size(joints: np.ndarray) -> float:
    """Summed length (m) of SIZE_BONES of (21,3) joints."""
    return float(sum(np.linalg.norm(joints[a] - joints[b]) for a, b in SIZE_BONES))


def wrist_errors(annotations) -> list[dict]:
    """One row per detected photo: wrist error (m), its parts along and across the true wrist's ray, 2D errors
    (px), and the size ratios (predicted / true) of the default and of MediaPipe's world landmarks."""
    folder, samples, _ = load_real3d(annotations)
    rec = Reconstructor(smoothing_hz=0)
    rows = []
    for s in tqdm(samples, desc="wrist", unit="photo"):
        img = _read_image(folder / s["image"])
        cam = Camera.from_K(s["K"], img.shape[1], img.shape[0])
        gt = np.asarray(s["joints_3d"], np.float64)
        gt_2d = cam.project(gt)
        det = match_detection(rec.detect(img), gt_2d)
        if det is None:
            continue
        pred = np.asarray(rec.solve(img, [det], cam)[0].landmarks_3d, np.float64)
        err, ray = pred[0] - gt[0], gt[0] / np.linalg.norm(gt[0])
        along = float(err @ ray)
        world = getattr(det, "world_landmarks", None)
        rows.append({"error": float(np.linalg.norm(err)), "along": along,
                     "across": float(np.linalg.norm(err - along * ray)), "depth": float(gt[0] @ ray),
                     "px": float(np.linalg.norm(cam.project(pred[:1])[0] - gt_2d[0])),
                     "mediapipe_px": float(np.linalg.norm(np.asarray(det.keypoints_2d)[0] - gt_2d[0])),
                     "size": hand_size(pred) / hand_size(gt),
                     "mediapipe_size": np.nan if world is None else hand_size(np.asarray(world)) / hand_size(gt)})
    rec.close()
    return rows


def table(rows: list[dict]) -> str:
    a = {k: np.array([r[k] for r in rows], np.float64) for k in rows[0]}
    corr = np.corrcoef(a["along"] / a["depth"], a["size"] - 1)[0, 1]
    lines = [f"{len(rows)} photos with a detected hand; mm, px; medians unless named",
             "| wrist error | along the ray (abs) | along (signed) | across | 2D px default / MediaPipe "
             "| size / true: default | MediaPipe world | corr(depth error, size error) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
             f"| {np.median(a['error']) * 1e3:.1f} | {np.median(np.abs(a['along'])) * 1e3:.1f} "
             f"| {np.median(a['along']) * 1e3:+.1f} | {np.median(a['across']) * 1e3:.1f} "
             f"| {np.median(a['px']):.1f} / {np.median(a['mediapipe_px']):.1f} "
             f"| {np.median(a['size']):.3f} ± {a['size'].std():.3f} "
             f"| {np.nanmedian(a['mediapipe_size']):.3f} ± {np.nanstd(a['mediapipe_size']):.3f} | {corr:.2f} |"]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("annotations", help="an annotations.json of the real3d format (or its folder)")
    args = ap.parse_args(argv)
    rows = wrist_errors(args.annotations)
    if not rows:
        raise SystemExit("no hand was detected in any photo")
    print(table(rows))


if __name__ == "__main__":
    main()

"""Hand masks without a network: GrabCut seeded by the keypoints, and the paper's HSV skin threshold baseline.

Images are RGB uint8 (H,W,3); masks are bool (H,W).
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..conventions import KEYPOINT_PARENTS


def skeleton_mask(shape: tuple[int, int], keypoints: np.ndarray, thickness: float) -> np.ndarray:
    """Bool (H,W) mask of the hand skeleton drawn with lines of ``thickness`` px, plus the palm polygon."""
    import cv2

    h, w = shape
    m = np.zeros((h, w), np.uint8)
    pts = np.round(keypoints).astype(np.int32)
    for k, p in enumerate(KEYPOINT_PARENTS):
        if p >= 0:
            cv2.line(m, tuple(pts[p]), tuple(pts[k]), 1, max(1, int(round(thickness))))
    cv2.fillPoly(m, [pts[[0, 1, 5, 9, 13, 17]]], 1)
    return m.astype(bool)


def grabcut_mask(image: np.ndarray, keypoints: np.ndarray, iterations: int = 4) -> np.ndarray:
    """Hand mask by GrabCut: the drawn skeleton is sure foreground, a margin around it probable foreground,
    a wider ring probable background, everything beyond the hand's box sure background."""
    import cv2

    h, w = image.shape[:2]
    kp = np.asarray(keypoints, dtype=np.float64)
    size = float(np.linalg.norm(kp[9] - kp[0]))  # wrist to middle knuckle, px
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    lo = np.floor(kp.min(0) - 0.6 * size).astype(int).clip(0, [w - 1, h - 1])
    hi = np.ceil(kp.max(0) + 0.6 * size).astype(int).clip(0, [w - 1, h - 1])
    mask[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] = cv2.GC_PR_BGD
    mask[skeleton_mask((h, w), kp, 0.55 * size)] = cv2.GC_PR_FGD
    mask[skeleton_mask((h, w), kp, 0.12 * size)] = cv2.GC_FGD
    if (mask == cv2.GC_FGD).sum() < 10:
        return mask == cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    with contextlib.suppress(cv2.error):  # degenerate colour statistics: fall back to the seeds
        cv2.grabCut(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def hsv_skin_mask(image: np.ndarray) -> np.ndarray:
    """The paper's baseline: pixels whose HSV colour falls in a fixed skin range (hue 0-25 deg and 335-360,
    saturation 0.15-0.75, value >= 0.2)."""
    import cv2

    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)  # OpenCV: H in 0..179 (2 deg steps), S and V in 0..255
    h, s, v = hsv[..., 0].astype(int), hsv[..., 1].astype(int), hsv[..., 2].astype(int)
    hue_ok = (h <= 12) | (h >= 168)
    return hue_ok & (s >= 38) & (s <= 191) & (v >= 51)

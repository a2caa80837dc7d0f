"""Hand crops from keypoints, with the exact affine between crop and image, and keypoint heatmaps."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HandCrop:
    """A square crop. ``affine`` (2,3) maps image pixels to crop pixels (u, v, 1) -> (u', v');
    ``inverse`` (2,3) maps back. Pixel coordinates: centres at integer + 0.5 in both."""

    image: np.ndarray  # (size,size,3) uint8
    affine: np.ndarray
    inverse: np.ndarray
    size: int

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N,2) image pixels -> crop pixels."""
        return points @ self.affine[:, :2].T + self.affine[:, 2]

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N,2) crop pixels -> image pixels."""
        return points @ self.inverse[:, :2].T + self.inverse[:, 2]


def crop_box(keypoints: np.ndarray, margin: float = 1.6, rotate: bool = False) -> tuple[np.ndarray, float, float]:
    """Square box around keypoints (21,2): centre (2,), side (px), angle (rad).

    The side is ``margin`` x the keypoints' larger extent; with ``rotate`` the box turns so the hand points up
    (wrist -> middle knuckle along -v)."""
    angle = 0.0
    if rotate:
        d = keypoints[9] - keypoints[0]
        angle = float(np.arctan2(d[0], -d[1]))  # rotate the hand upright
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    centre0 = 0.5 * (keypoints.min(0) + keypoints.max(0))
    local = (keypoints - centre0) @ R  # keypoints in the box frame
    lo, hi = local.min(0), local.max(0)
    centre = centre0 + R @ (0.5 * (lo + hi))
    side = float(max((hi - lo).max() * margin, 8.0))
    return centre, side, angle


def crop_affine(centre: np.ndarray, side: float, angle: float, size: int) -> np.ndarray:
    """(2,3) affine: image pixel -> crop pixel, for a box of ``side`` px at ``centre`` turned by ``angle``."""
    c, s = np.cos(angle), np.sin(angle)
    scale = size / side
    A = scale * np.array([[c, s], [-s, c]])  # rotate by -angle, then scale
    t = np.array([size / 2.0, size / 2.0]) - A @ centre
    return np.column_stack([A, t])


def mirror_crop(M: np.ndarray, size: int) -> np.ndarray:
    """The (2,3) crop affine ``M`` followed by a horizontal flip of the ``size`` px crop (u' = size - u): how left
    hands are shown to HandNet, as right ones."""
    return np.array([[-1.0, 0.0, size], [0.0, 1.0, 0.0]]) @ np.vstack([M, [0.0, 0.0, 1.0]])


def opencv_affine(M: np.ndarray) -> np.ndarray:
    """``M`` (our pixels: corners at integers, centres at +0.5) as cv2.warpAffine wants it (centres at integers):
    idx' = A idx + (t + A (0.5, 0.5) - 0.5)."""
    M_cv = M.copy()
    M_cv[:, 2] = M[:, 2] + M[:, :2] @ np.array([0.5, 0.5]) - 0.5
    return M_cv


def invert_affine(M: np.ndarray) -> np.ndarray:
    A_inv = np.linalg.inv(M[:, :2])
    return np.column_stack([A_inv, -A_inv @ M[:, 2]])


def hand_crop(image: np.ndarray, keypoints: np.ndarray, size: int = 224, margin: float = 1.6,
              rotate: bool = False) -> HandCrop:
    """Warp the square box around the keypoints to ``size`` x ``size`` (bilinear, black outside the image)."""
    import cv2

    centre, side, angle = crop_box(np.asarray(keypoints, dtype=np.float64), margin, rotate)
    M = crop_affine(centre, side, angle, size)
    img = cv2.warpAffine(np.ascontiguousarray(image), opencv_affine(M), (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return HandCrop(img, M, invert_affine(M), size)


#: HandNet's keypoint heatmaps: Gaussians of this sigma (pixels) on a 224-pixel crop, scaled with the crop's size
HEATMAP_SIGMA_AT_224 = 2.0


def heatmap_sigma(size: int) -> float:
    """HandNet's heatmap sigma (pixels) for a crop of ``size`` pixels."""
    return HEATMAP_SIGMA_AT_224 * size / 224


def keypoint_heatmaps(keypoints: np.ndarray, size: int, sigma: float = 2.0) -> np.ndarray:
    """(21,size,size) float32 Gaussians (peak 1) at keypoints (21,2) given in crop pixels; sigma in pixels.
    Points outside the crop give (near) empty channels."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    kp = np.asarray(keypoints, dtype=np.float32)
    d2 = (xs[None] - kp[:, 0, None, None]) ** 2 + (ys[None] - kp[:, 1, None, None]) ** 2
    return np.exp(-d2 / (2.0 * sigma ** 2)).astype(np.float32)


def keypoint_heatmaps_torch(keypoints, size: int, sigma: float = 2.0):
    """:func:`keypoint_heatmaps` for a batch on any torch device: keypoints (B,21,2) crop pixels -> (B,21,size,size)
    float32 (the Gaussian is separable: two 1-D factors per keypoint). Training draws them on the GPU, so that the
    loaders ship 21 points per crop instead of 2 MB of maps."""
    import torch

    kp = keypoints.float()
    r = torch.arange(size, device=kp.device, dtype=torch.float32) + 0.5
    gx = torch.exp(-(r - kp[..., 0:1]) ** 2 / (2.0 * sigma ** 2))   # (B,21,S)
    gy = torch.exp(-(r - kp[..., 1:2]) ** 2 / (2.0 * sigma ** 2))
    return gy[..., :, None] * gx[..., None, :]

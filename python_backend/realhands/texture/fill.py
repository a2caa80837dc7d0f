"""Filling the gaps of an image from its known pixels: push-pull (a pyramid of weighted means, then each level's
gaps taken from the coarser level). Used for the texture's unseen skin (through the skin model's residual), its
seam padding, and the atlas's region maps outside the charts."""
from __future__ import annotations

import cv2
import numpy as np


def push_pull_fill(colour: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill colour (S,S,C) where known (S,S) bool is False from the known texels: a pyramid of weighted
    means (push), then each level's gaps taken from the coarser level (pull). Known texels are unchanged."""
    levels = [(colour.astype(np.float32) * known[..., None], known.astype(np.float32))]
    while min(levels[-1][1].shape) > 1:
        c, w = levels[-1]
        h, wd = (c.shape[0] + 1) // 2 * 2, (c.shape[1] + 1) // 2 * 2
        c = np.pad(c, ((0, h - c.shape[0]), (0, wd - c.shape[1]), (0, 0)))
        w = np.pad(w, ((0, h - w.shape[0]), (0, wd - w.shape[1])))
        levels.append((c.reshape(h // 2, 2, wd // 2, 2, -1).sum((1, 3)), w.reshape(h // 2, 2, wd // 2, 2).sum((1, 3))))
    c, w = levels[-1]
    filled = c / np.maximum(w, 1e-9)[..., None]
    for c, w in reversed(levels[:-1]):
        up = cv2.resize(filled, (filled.shape[1] * 2, filled.shape[0] * 2), interpolation=cv2.INTER_LINEAR)
        up = up.reshape(up.shape[0], up.shape[1], -1)[: c.shape[0], : c.shape[1]]
        a = np.clip(w, 0.0, 1.0)[..., None]
        filled = np.where(a > 0, c / np.maximum(w, 1e-9)[..., None], up) * a + up * (1 - a)
    out = filled.reshape(colour.shape).astype(np.float32)
    out[known] = colour[known]
    return out

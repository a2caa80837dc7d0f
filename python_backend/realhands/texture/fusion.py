"""The texture over time: exponential smoothing with a per-texel confidence, gap filling and seam padding.

Per texel, with observation colour c and weight w in [0,1] and smoothing factor alpha (the paper's
exponential smoothing):

    D' = (1 - alpha) D + alpha w            confidence: a running mean of how well the texel is seen
    C' = ((1 - alpha) D C + alpha w c) / D'  colour: weighted exponential smoothing

A texel seen for the first time takes the new colour outright; one out of view keeps its colour while its
confidence decays. Texels never seen are filled by push-pull (a smooth fill from the seen ones); texels
outside the charts are filled too, so bilinear sampling across chart borders (seams) does not bleed.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .atlas import UVAtlas
from .projection import TextureObservation


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


class TextureFusion:
    """The fused texture of one hand. ``update`` once per frame with that frame's (combined) observation."""

    def __init__(self, atlas: UVAtlas, alpha: float = 0.2, min_weight: float = 0.05):
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.atlas, self.alpha, self.min_weight = atlas, float(alpha), float(min_weight)
        S = atlas.size
        self.colour = np.zeros((S, S, 3), np.float32)
        self.confidence = np.zeros((S, S), np.float32)
        self.seen = np.zeros((S, S), bool)
        self.version = 0
        self._valid = atlas.valid

    def reset(self):
        self.colour[:] = 0
        self.confidence[:] = 0
        self.seen[:] = False
        self.version += 1

    def update(self, obs: TextureObservation) -> None:
        w = np.where(obs.weight >= self.min_weight, obs.weight, 0.0).astype(np.float32)
        if not (w > 0).any():
            return
        a = self.alpha
        d_old = (1 - a) * self.confidence
        d_new = d_old + a * w
        upd = w > 0
        self.colour[upd] = (d_old[upd, None] * self.colour[upd] + a * w[upd, None] * obs.colour[upd]) / d_new[upd, None]
        self.confidence = d_new
        self.seen |= upd
        self.version += 1

    @property
    def coverage(self) -> float:
        """Fraction of the atlas's texels seen at least once."""
        return float(self.seen[self._valid].mean())

    def image(self) -> np.ndarray:
        """(S,S,3) uint8 RGB atlas: seen texels as fused, unseen ones and the space between charts filled."""
        seen = self.seen & self._valid
        if not seen.any():
            return np.full(self.colour.shape, 128, np.uint8)
        out = push_pull_fill(self.colour, seen)
        return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def save_image(self, path: str | os.PathLike) -> Path:
        """Write the atlas as PNG or JPEG (by suffix)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise ValueError(f"texture images are .png or .jpg, not {path.suffix!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), cv2.cvtColor(self.image(), cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
        return path

    def export_glb(self, path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray) -> Path:
        """Write the mesh (V,3) metres with this texture as a textured .glb/.gltf/.obj."""
        from PIL import Image

        from ..model.export import export_mesh

        return export_mesh(path, np.asarray(vertices), np.asarray(faces), self.atlas.uv, self.atlas.faces_uv,
                           texture=Image.fromarray(self.image()))

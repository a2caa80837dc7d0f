"""The texture over time: the best views kept, outliers voted out, gap filling and seam padding.

Every observation of a texel comes with a quality q in [0,1] (``projection.observe``: how squarely the surface
faces the camera, how many image pixels cover the texel, how far inside the hand's mask it lies). Per texel:

* a view much better than every earlier one (q >= best / keep_ratio) starts the texel afresh: what worse views
  left is dropped;
* a view much worse than the best so far (q < keep_ratio * best) is ignored: a worse view never overwrites a
  better one;
* the views in between are averaged with weight q^2 in one of two colour modes: the primary (the texture) and an
  alternate that collects what disagrees with it by more than ``tolerance`` (a specular highlight, an occluder, a
  wrong mask). The alternate replaces the primary only when it has gathered more weight, so an occluder that
  shows in a minority of the frames never enters the texture, and one that was there first is voted out.

Texels never seen are filled from a skin model fitted to the seen ones (``skin_fill``: the back's, the palm's and
the nails' colours, measured where seen and predicted where not, plus the seen skin's variation spread by
push-pull); texels outside the charts are padded by push-pull, so bilinear sampling across chart borders (seams)
does not bleed.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .atlas import UVAtlas
from .fill import push_pull_fill
from .projection import TextureObservation

#: defaults of TextureFusion, documented in the module docstring
KEEP_RATIO = 0.5      # views under this fraction of a texel's best quality are ignored; above 1/this: a new start
TOLERANCE = 0.12      # RGB distance (sRGB in [0,1]) within which an observation agrees with a colour mode
MIN_WEIGHT = 0.05     # observations of lower quality are not used at all


class TextureFusion:
    """The fused texture of one hand. ``update`` once per frame with that frame's (combined) observation.

    ``colour`` (S,S,3) float32 is the texture (the primary mode), ``confidence`` (S,S) its accumulated weight
    (sum of q^2), ``best`` (S,S) the best quality each texel was seen with, ``seen`` (S,S) bool."""

    def __init__(self, atlas: UVAtlas, keep_ratio: float = KEEP_RATIO, tolerance: float = TOLERANCE,
                 min_weight: float = MIN_WEIGHT, skin_model: bool = True):
        if not 0.0 < keep_ratio <= 1.0:
            raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio}")
        if not tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance}")
        self.atlas, self.keep_ratio = atlas, float(keep_ratio)
        self.tolerance, self.min_weight = float(tolerance), float(min_weight)
        self.skin_model = bool(skin_model)  # fill unseen skin from a skin model (else push-pull alone)
        S = atlas.size
        self.colour = np.zeros((S, S, 3), np.float32)
        self.confidence = np.zeros((S, S), np.float32)
        self.alternate = np.zeros((S, S, 3), np.float32)
        self.alternate_weight = np.zeros((S, S), np.float32)
        self.best = np.zeros((S, S), np.float32)
        self.seen = np.zeros((S, S), bool)
        self.version = 0
        self._valid = atlas.valid

    _STATE = ("colour", "confidence", "alternate", "alternate_weight", "best", "seen")

    def reset(self):
        for name in self._STATE:
            getattr(self, name)[:] = 0
        self.version += 1

    def checkpoint(self) -> dict:
        """A copy of what has been fused so far, for :meth:`rewind`."""
        return {name: getattr(self, name).copy() for name in self._STATE}

    def rewind(self, state: dict) -> None:
        """Back to a :meth:`checkpoint` (what was fused after it is dropped), as a new version."""
        for name in self._STATE:
            getattr(self, name)[:] = state[name]
        self.version += 1

    def update(self, obs: TextureObservation) -> None:
        q = np.nan_to_num(np.asarray(obs.weight, np.float32), nan=0.0)
        c = np.asarray(obs.colour, np.float32)
        use = (q >= self.min_weight) & (q >= self.keep_ratio * self.best) & np.isfinite(c).all(-1)
        if not use.any():
            return
        fresh = use & (q * self.keep_ratio >= self.best)  # first sight, or far better than anything before
        self.colour[fresh] = c[fresh]
        self.confidence[fresh] = q[fresh] ** 2
        self.alternate_weight[fresh] = 0.0
        rest = use & ~fresh
        if rest.any():
            idx = np.nonzero(rest)
            cq, w = c[idx], q[idx] ** 2
            C1, W1 = self.colour[idx], self.confidence[idx]
            C2, W2 = self.alternate[idx], self.alternate_weight[idx]
            near1 = np.linalg.norm(cq - C1, axis=-1) <= self.tolerance
            near2 = ~near1 & (W2 > 0) & (np.linalg.norm(cq - C2, axis=-1) <= self.tolerance)
            other = ~near1 & ~near2
            C1 = np.where(near1[:, None], C1 + (w / (W1 + w))[:, None] * (cq - C1), C1)
            W1 = np.where(near1, W1 + w, W1)
            C2 = np.where(near2[:, None], C2 + (w / np.maximum(W2 + w, 1e-12))[:, None] * (cq - C2), C2)
            W2 = np.where(near2, W2 + w, W2)
            start = other & (w >= W2)  # a new disagreement takes the alternate's place if it outweighs it
            C2 = np.where(start[:, None], cq, C2)
            W2 = np.where(start, w, W2)
            swap = W2 > W1  # the alternate has more support: it becomes the texture
            C1, C2 = np.where(swap[:, None], C2, C1), np.where(swap[:, None], C1, C2)
            W1, W2 = np.where(swap, W2, W1), np.where(swap, W1, W2)
            self.colour[idx], self.confidence[idx] = C1, W1
            self.alternate[idx], self.alternate_weight[idx] = C2, W2
        self.best = np.where(use, np.maximum(self.best, q), self.best)
        self.seen |= use
        self.version += 1

    def state(self) -> dict:
        """A copy of what the texture knows: {"colour" (S,S,3), "best" (S,S), "seen" (S,S)} (``restore`` takes it)."""
        return {"colour": self.colour.copy(), "best": self.best.copy(), "seen": self.seen.copy()}

    def restore(self, colour: np.ndarray, best: np.ndarray, seen: np.ndarray) -> None:
        """Start again from a saved state (this atlas's size): the seen texels' colours and best qualities, as if
        each had been seen once with that quality; a new version."""
        self.reset()
        keep = np.asarray(seen, bool) & self._valid
        self.colour[keep] = np.asarray(colour, np.float32)[keep]
        self.best[keep] = np.asarray(best, np.float32)[keep]
        self.confidence[keep] = self.best[keep] ** 2
        self.seen[:] = keep
        self.version += 1

    @property
    def coverage(self) -> float:
        """Fraction of the atlas's texels seen at least once."""
        return float(self.seen[self._valid].mean())

    def image(self) -> np.ndarray:
        """(S,S,3) uint8 RGB atlas: seen texels as fused, unseen ones filled from the skin model fitted to the
        seen ones (``skin_fill``; push-pull for an atlas without skin regions), the space between charts padded."""
        return np.clip(self.filled()[0] * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def filled(self):
        """(S,S,3) float32 atlas as ``image`` gives it and the skin model that filled it (None: push-pull only)."""
        seen = self.seen & self._valid
        if not seen.any():
            return np.full(self.colour.shape, 128 / 255, np.float32), None
        if self.atlas.regions is None or not self.skin_model:
            return push_pull_fill(self.colour, seen), None
        from .skin_fill import skin_fill

        return skin_fill(self.colour, seen, self.best, self.atlas.regions, self.confidence)

    def observed(self) -> np.ndarray:
        """(S,S) uint8: how well each texel was seen (its best view's quality x 255); 0 where the texture shows
        only filled-in colour (never seen, or between charts)."""
        q = np.where(self.seen & self._valid, self.best, 0.0)
        return np.clip(q * 255.0 + 0.5, 1, 255).astype(np.uint8) * (q > 0)

    def save_image(self, path: str | os.PathLike, observed: bool = False) -> Path:
        """Write the atlas as PNG or JPEG (by suffix); ``observed``: the ``observed`` map instead (greyscale)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise ValueError(f"texture images are .png or .jpg, not {path.suffix!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        img = self.observed() if observed else cv2.cvtColor(self.image(), cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(path), img):
            raise OSError(f"could not write {path}")
        return path

    def export_glb(self, path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray) -> Path:
        """Write the mesh (V,3) metres with this texture as a textured .glb/.gltf/.obj."""
        from PIL import Image

        from ..model.export import export_mesh

        return export_mesh(path, np.asarray(vertices), np.asarray(faces), self.atlas.uv, self.atlas.faces_uv,
                           texture=Image.fromarray(self.image()))

"""Unseen skin from seen skin: a small skin model fitted to the texels the camera saw fills the ones it did not.

Push-pull alone smears the nearest seen colours across the gap: a palm never shown takes the colour of the back
of the hand, and nails the colour of the skin around them. The model here knows three things about hands and
measures the rest from what was seen:

* the skin has one colour on the back of the hand (``back``), another on the palm side (``palm``: lighter and
  pinker — it carries little melanin, so the difference grows with darker skin), and the nails a third;
* a region that was seen gets its own measured colour (the quality-weighted mean of its seen texels);
* a region that was not seen enough is predicted from one that was, by the priors below (palm from back or back
  from palm, nails from the back).

Unseen texels then take their region's colour (mixed by the texel's palm-side and nail weights, so the border
along the sides of the fingers is soft) plus the seen texels' variation around the model, spread by push-pull,
so seen skin continues smoothly into filled skin without carrying its colour across regions. Seen texels far from
the model (``outliers``: background at the outline of a misaligned mesh, highlights, occluders) are filled the
same way.

    colour, model = skin_fill(colour, seen, quality, atlas.regions)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .atlas import SkinRegions

#: the palm's colour is the back's moved towards this pale pink by palm_lift(back) (sRGB 0-1)
PALM_TARGET = np.array([0.92, 0.76, 0.70])
#: nails: the back's colour mixed with this pinkish white, by NAIL_MIX
NAIL_TARGET = np.array([0.93, 0.80, 0.78])
NAIL_MIX = 0.45
#: a region is measured when its seen texels' summed quality reaches this share of its texels
MIN_REGION_SHARE = 0.05
#: texels that belong to a region for measuring it: weight >= this
REGION_CORE = 0.8
#: seen texels further than this many robust deviations (and OUTLIER_MIN, RGB 0-1) from the model are not skin
OUTLIER_SIGMA = 4.0
OUTLIER_MIN = 0.15


def palm_lift(back: np.ndarray) -> float:
    """How far the palm's colour lies from the back's towards PALM_TARGET: ~0.2 for light skin, ~0.6 for dark."""
    return float(np.clip(0.12 + 0.55 * (1.0 - float(np.mean(back))), 0.05, 0.75))


@dataclass
class SkinModel:
    """The region colours (3,) sRGB 0-1 and which of them were measured (the rest predicted)."""

    back: np.ndarray
    palm: np.ndarray
    nail: np.ndarray
    measured: dict

    def base(self, regions: SkinRegions) -> np.ndarray:
        """(S,S,3) the model's colour of every texel."""
        p, n = regions.palmar[..., None], regions.nail[..., None]
        return (1 - n) * ((1 - p) * self.back + p * self.palm) + n * self.nail


def fit_skin_model(colour: np.ndarray, seen: np.ndarray, quality: np.ndarray, regions: SkinRegions) -> SkinModel | None:
    """The skin model of a texture (S,S,3) from its seen texels (S,S bool) weighted by quality (S,S); None when
    no region was seen enough to measure."""
    w = np.where(seen, np.clip(np.nan_to_num(quality), 0.0, None), 0.0)
    skin = 1.0 - regions.nail
    cores = {"back": skin * (1 - regions.palmar), "palm": skin * regions.palmar, "nail": regions.nail}
    means, measured = {}, {}
    for name, r in cores.items():
        core = r >= REGION_CORE
        ww = w * core
        measured[name] = bool(core.any() and ww.sum() >= MIN_REGION_SHARE * core.sum())
        if measured[name]:
            means[name] = (colour * ww[..., None]).sum((0, 1)) / ww.sum()
    if not (measured["back"] or measured["palm"]):
        return None
    if not measured["back"]:  # invert the palm's lift: back = (palm - lift * target) / (1 - lift), lift from back
        back = means["palm"].copy()
        for _ in range(10):  # the lift depends on the back's own brightness: a few fixed-point steps
            lift = palm_lift(back)
            back = np.clip((means["palm"] - lift * PALM_TARGET) / (1 - lift), 0.0, 1.0)
        means["back"] = back
    if not measured["palm"]:
        means["palm"] = means["back"] + palm_lift(means["back"]) * (PALM_TARGET - means["back"])
    if not measured["nail"]:
        means["nail"] = (1 - NAIL_MIX) * means["back"] + NAIL_MIX * NAIL_TARGET
    return SkinModel(*(np.asarray(means[k], np.float64) for k in ("back", "palm", "nail")), measured)


def outliers(colour: np.ndarray, seen: np.ndarray, base: np.ndarray) -> np.ndarray:
    """(S,S) bool: seen texels too far from the skin model to be skin — background or a sleeve that a misaligned
    mesh put on the hand's outline, a highlight, an occluder: more than OUTLIER_SIGMA robust deviations (and at
    least OUTLIER_MIN in RGB) from their region's colour. They are filled like unseen texels."""
    d = np.linalg.norm(colour - base, axis=-1)
    scale = 1.4826 * float(np.median(d[seen])) if seen.any() else 0.0
    return seen & (d > max(OUTLIER_SIGMA * scale, OUTLIER_MIN))


def skin_fill(colour: np.ndarray, seen: np.ndarray, quality: np.ndarray, regions: SkinRegions) \
        -> tuple[np.ndarray, SkinModel | None]:
    """colour (S,S,3) with its unseen texels filled from the skin model (seen texels unchanged) and the model;
    plain push-pull where no region was seen enough to fit one. Texels outside the charts are left to the caller
    (seam padding)."""
    from .fusion import push_pull_fill

    model = fit_skin_model(colour, seen, quality, regions)
    if model is None:
        return push_pull_fill(colour, seen), None
    seen = seen & ~outliers(colour, seen, model.base(regions))
    model = fit_skin_model(colour, seen, quality, regions) or model
    base = model.base(regions).astype(np.float32)
    residual = push_pull_fill(np.where(seen[..., None], colour - base, 0.0).astype(np.float32), seen)
    out = np.where(seen[..., None], colour, np.clip(base + residual, 0.0, 1.0)).astype(np.float32)
    return out, model

"""Unseen skin from seen skin: a small skin model fitted to the texels the camera saw fills the ones it did not.

Push-pull alone smears the nearest seen colours across the gap: a palm never shown takes the colour of the back
of the hand, and nails the colour of the skin around them. The model here knows three things about hands and
measures the rest from what was seen:

* the skin has one colour on the back of the hand (``back``), another on the palm side (``palm``: lighter and
  pinker — it carries little melanin, so the difference grows with darker skin), and the nails a third;
* a region that was seen gets its own measured colour (the quality-weighted mean of its seen texels);
* a region that was not seen enough is predicted from one that was, by the priors below (the palm from the back;
  the back from the palm only a little darker, since a palm does not tell how dark the back is; nails from the
  back).

Unseen texels then take their region's colour (mixed by the texel's palm-side and nail weights, so the border
along the sides of the fingers is soft) plus the seen texels' variation around the model, spread by push-pull,
so seen skin continues smoothly into filled skin without carrying its colour across regions. Seen texels far from
the model (background at the outline of a misaligned mesh, highlights, occluders) are filled the same way, unless
views agreed on them again and again (a tattoo stays).

    atlas_image, model = skin_fill(colour, seen, quality, atlas.regions)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .atlas import SkinRegions, normalised_quality
from .fill import push_pull_fill

#: the palm's colour is the back's moved towards this pale pink by palm_lift(back) (sRGB 0-1)
PALM_TARGET = np.array([0.92, 0.76, 0.70])
#: nails: the back's colour mixed with this pinkish white, by NAIL_MIX
NAIL_TARGET = np.array([0.93, 0.80, 0.78])
NAIL_MIX = 0.45
#: the back from the palm when only the palm was seen: as if the lift were this small. A palm does not tell how
#: dark the back is (dark skin's palms are light too), and undoing palm_lift made the backs of light hands in real
#: palm-on photos nearly black (tools.eval.texture_photos, 2026-11-27): the prediction stays close to the palm.
BACK_FROM_PALM_LIFT = 0.2
#: a region is measured when its seen texels' summed quality (normalised_quality) reaches this share of its texels
MIN_REGION_SHARE = 0.05
#: texels that belong to a region for measuring it: weight >= this
REGION_CORE = 0.8
#: seen texels further than this many robust deviations (and OUTLIER_MIN, RGB 0-1) from the model are not skin
OUTLIER_SIGMA = 4.0
OUTLIER_MIN = 0.15
#: ... unless views agree on it with this much weight (TextureFusion.confidence: the summed squared qualities of the
#: agreeing views, ~3 good views): what was seen again and again stays, unlike skin as it may look (a tattoo, a
#: ring); what a misaligned mesh paints on its outline changes from view to view
OUTLIER_KEEP_CONFIDENCE = 1.0


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

    def base(self, palmar: np.ndarray, nail: np.ndarray) -> np.ndarray:
        """(...,3) the model's colour at texels with these palm-side and nail weights (...)."""
        p, n = palmar[..., None], nail[..., None]
        return ((1 - n) * ((1 - p) * self.back + p * self.palm) + n * self.nail).astype(np.float32)


def fit_skin_model(colour: np.ndarray, seen: np.ndarray, quality: np.ndarray, regions: SkinRegions) -> SkinModel | None:
    """The skin model of a texture (S,S,3) from its seen texels (S,S bool) weighted by quality (S,S); None when
    no region was seen enough to measure."""
    return _fit(colour.reshape(-1, 3), np.flatnonzero(seen), quality.reshape(-1), regions)


def _cores(regions: SkinRegions) -> tuple:
    """Per flat texel, each region's core (back, palm, nail: weight >= REGION_CORE, in the charts) and its size;
    computed once per atlas."""
    cached = getattr(regions, "_cores", None)
    if cached is None:
        p, n = regions.palmar.reshape(-1), regions.nail.reshape(-1)
        cores = [(wt >= REGION_CORE) & regions.valid.reshape(-1) for wt in ((1 - n) * (1 - p), (1 - n) * p, n)]
        cached = regions._cores = (cores, [int(c.sum()) for c in cores])
    return cached


def _fit(colour: np.ndarray, idx: np.ndarray, quality: np.ndarray, regions: SkinRegions) -> SkinModel | None:
    cores, sizes = _cores(regions)
    w = normalised_quality(np.nan_to_num(quality[idx]), regions.palmar.shape[0])
    c = colour[idx]
    means, measured = {}, {}
    for name, core, size in zip(("back", "palm", "nail"), cores, sizes, strict=True):
        ww = w * core[idx]
        measured[name] = bool(size and ww.sum() >= MIN_REGION_SHARE * size)
        if measured[name]:
            means[name] = (c * ww[:, None]).sum(0) / ww.sum()
    if not (measured["back"] or measured["palm"]):
        return None
    if not measured["back"]:  # the palm's lift undone, but only by BACK_FROM_PALM_LIFT (see there)
        means["back"] = np.clip((means["palm"] - BACK_FROM_PALM_LIFT * PALM_TARGET) / (1 - BACK_FROM_PALM_LIFT),
                                0.0, 1.0)
    if not measured["palm"]:
        means["palm"] = means["back"] + palm_lift(means["back"]) * (PALM_TARGET - means["back"])
    if not measured["nail"]:
        means["nail"] = (1 - NAIL_MIX) * means["back"] + NAIL_MIX * NAIL_TARGET
    return SkinModel(*(np.asarray(means[k], np.float64) for k in ("back", "palm", "nail")), measured)


def skin_fill(colour: np.ndarray, seen: np.ndarray, quality: np.ndarray, regions: SkinRegions,
              confidence: np.ndarray | None = None) -> tuple[np.ndarray, SkinModel | None]:
    """The whole atlas (S,S,3): seen texels as they are, unseen ones — and seen ones too far from the model to be
    skin (background or a sleeve that a misaligned mesh put on the hand's outline, a highlight, an occluder: more
    than OUTLIER_SIGMA robust deviations and OUTLIER_MIN in RGB from their region's colour, and, given the texels'
    ``confidence`` (S,S), not confirmed by views agreeing with OUTLIER_KEEP_CONFIDENCE) — from the skin model
    plus the seen skin's variation around it (push-pull); the texels between the charts too (seam padding). And
    the model (None: no region seen enough to fit one; then push-pull alone)."""
    S = colour.shape[0]
    flat = colour.reshape(-1, 3)
    idx = np.flatnonzero(seen)
    model = _fit(flat, idx, quality.reshape(-1), regions)
    if model is None:
        return push_pull_fill(colour, seen), None
    p, n = regions.palmar.reshape(-1), regions.nail.reshape(-1)
    d = np.linalg.norm(flat[idx] - model.base(p[idx], n[idx]), axis=-1)
    far = d > max(OUTLIER_SIGMA * 1.4826 * float(np.median(d)), OUTLIER_MIN)
    if confidence is not None:
        far &= normalised_quality(np.sqrt(np.maximum(confidence.reshape(-1)[idx], 0.0)), S) ** 2 \
            < OUTLIER_KEEP_CONFIDENCE
    keep = idx[~far]
    model = _fit(flat, keep, quality.reshape(-1), regions) or model
    base = model.base(regions.palmar, regions.nail).reshape(-1, 3)
    known = np.zeros(S * S, bool)
    known[keep] = True
    residual = np.zeros((S * S, 3), np.float32)
    residual[keep] = flat[keep] - base[keep]
    out = np.clip(base + push_pull_fill(residual.reshape(S, S, 3), known.reshape(S, S)).reshape(-1, 3), 0.0, 1.0)
    out[keep] = flat[keep]
    return out.reshape(S, S, 3).astype(np.float32), model

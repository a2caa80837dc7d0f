"""The guided capture's regions and steps: what of the hand's texture atlas has been seen well, and what to show
next.

The atlas's texels are split by where they lie on the rest hand (``texture.atlas.SkinRegions``): the back of the
hand and fingers (rest normal towards +z), the palm side (-z) and the sides in between (the sides of the fingers
and of the hand, seen only when the fingers are spread and the hand is turned). A region's progress is the share
of its texels seen with quality >= GOOD_QUALITY (``TextureFusion.best``), against its target; the steps follow the
order a person can do them in: back, palm, sides.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..texture.atlas import normalised_quality

#: the regions, by the rest normal's z: back > SIDE_NZ, palm < -SIDE_NZ, sides in between
REGIONS = ("back", "palm", "sides")
SIDE_NZ = 0.4
#: (region, what to ask for while it is incomplete), in order
STEPS = (
    ("back", "Show the back of your hand to the camera"),
    ("palm", "Turn your hand over: palm to the camera"),
    ("sides", "Spread your fingers and tilt your hand slowly left and right"),
)
DONE_INSTRUCTION = "Done: your hand is captured"
#: share of a region's texels to be seen well for the region to be complete (the sides: partly hidden by the
#: neighbouring fingers whatever the hand does)
TARGETS = {"back": 0.85, "palm": 0.85, "sides": 0.75}
#: a texel counts as seen well from this view quality on (projection.observe: facing, footprint, mask edge), as
#: an atlas of texture.atlas.REFERENCE_ATLAS texels has it (``normalised_quality``): the same views complete a
#: capture at any atlas size
GOOD_QUALITY = 0.15


@dataclass
class CaptureProgress:
    """Where a capture stands. progress: region -> [0,1] (1: its target reached); seen: region -> share of its
    texels seen well; coverage: share of the whole atlas seen at all; step: the region to show next ("done" when
    all are complete); instruction: what to tell the user."""

    progress: dict
    seen: dict
    coverage: float
    step: str
    instruction: str

    @property
    def done(self) -> bool:
        return self.step == "done"

    def to_json(self) -> dict:
        return {"step": self.step, "instruction": self.instruction, "coverage": round(self.coverage, 4),
                "progress": {k: round(v, 4) for k, v in self.progress.items()},
                "seen": {k: round(v, 4) for k, v in self.seen.items()}}


class CaptureGuide:
    """Progress of one hand's capture over its TextureFusion (an atlas with skin regions: ``UVAtlas.for_model``)."""

    def __init__(self, atlas):
        if atlas.regions is None:
            raise ValueError("the guided capture needs an atlas made from a hand model (UVAtlas.for_model)")
        valid, nz = atlas.valid, atlas.regions.normal_z
        self.masks = {"back": valid & (nz > SIDE_NZ), "palm": valid & (nz < -SIDE_NZ),
                      "sides": valid & (np.abs(nz) <= SIDE_NZ)}

    def progress(self, fusion) -> CaptureProgress:
        good = fusion.seen & (normalised_quality(fusion.best, fusion.atlas.size) >= GOOD_QUALITY)
        seen = {name: float(good[m].mean()) if m.any() else 1.0 for name, m in self.masks.items()}
        progress = {name: min(1.0, seen[name] / TARGETS[name]) for name in REGIONS}
        step, instruction = "done", DONE_INSTRUCTION
        for name, text in STEPS:
            if progress[name] < 1.0:
                step, instruction = name, text
                break
        return CaptureProgress(progress, seen, fusion.coverage, step, instruction)


def empty_progress() -> CaptureProgress:
    """Before any hand was seen."""
    zero = dict.fromkeys(REGIONS, 0.0)
    return CaptureProgress(dict(zero), dict(zero), 0.0, STEPS[0][0], STEPS[0][1])


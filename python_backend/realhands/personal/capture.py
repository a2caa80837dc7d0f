"""The guided capture over a video or live Reconstructor: which hand is being captured, its progress, and the
personal hand it ends with.

    rec = Reconstructor(video=True, texture_size=512, texture_delight=True)
    capture = HandCapture()                      # the first hand seen (or side="right")
    for image in frames:
        progress = capture.update(rec, rec(image))   # CaptureProgress: per region, the next step, done
    hand = capture.finish(rec)                   # PersonalHand: shape, vertex offsets, albedo texture
"""
from __future__ import annotations

import numpy as np

from ..errors import PersonalHandError
from .guide import CaptureGuide, CaptureProgress, empty_progress
from .hand import MAX_ABS_BETA, PersonalHand


class HandCapture:
    """One hand's guided capture. ``side``: the hand to capture (None: the first one seen is kept, followed by its
    track: when video settles that hand on the other side, the capture follows it and starts again there)."""

    def __init__(self, side: str | None = None):
        self.side = side
        self._follow = side is None
        self._track = None  # the captured hand's track (video), when the capture follows the first hand seen
        self.frames = 0  # frames the captured hand was seen in
        self._guide: CaptureGuide | None = None
        self._betas: list = []  # per-frame fitted shapes (the shape when stereo did not calibrate one)
        self._offsets: list = []  # refined frames' vertex offsets
        self.last: CaptureProgress = empty_progress()
        self._rec = None  # the Reconstructor of the last update

    def update(self, rec, hands: list) -> CaptureProgress:
        """Take in one frame's results (``rec``'s ``HandResult`` list); returns the progress so far."""
        if not rec.cfg.texture_size:
            raise PersonalHandError("the guided capture needs the texture: a texture_size above 0")
        self._rec = rec
        hand = None
        if self._follow and self._track is not None:  # (not onto a side whose saved hand the reconstructor shows)
            hand = next((h for h in hands if h.track_id == self._track and h.handedness not in rec.hands), None)
        if hand is None:
            hand = next((h for h in hands if self.side is None or h.handedness == self.side), None)
        if hand is None:
            return self.last
        if self.side is not None and hand.handedness != self.side:
            # its track was settled on the other side (reconstruct.Reconstructor.disown): what was measured belongs
            # to the other side's model, and that side's texture was taken back
            self.frames, self._guide, self.last = 0, None, empty_progress()
            self._betas.clear()
            self._offsets.clear()
        self.side = hand.handedness
        if self._follow:
            self._track = hand.track_id
        self.frames += 1
        self._betas.append(np.asarray(hand.mano["betas"], np.float64))
        if hand.refined and hand.vertex_offsets is not None:
            self._offsets.append(np.asarray(hand.vertex_offsets, np.float32))
        fusion = rec.textures.get(self.side)
        if fusion is None:
            return self.last
        if self._guide is None:
            self._guide = CaptureGuide(fusion.atlas)
        self.last = self._guide.progress(fusion)
        return self.last

    @property
    def done(self) -> bool:
        return self.last.done

    @property
    def model(self):
        """The HandModel of the captured hand (None before a hand was seen)."""
        return None if self._rec is None or self.side is None else self._rec.models[self.side]

    def finish(self, rec=None) -> PersonalHand:
        """The personal hand measured so far (``rec``: default the last update's Reconstructor): the shape stereo
        calibrated (else the median of the fitted shapes), the refined frames' median vertex offsets (None without
        refinement), the fused texture."""
        rec = rec if rec is not None else self._rec
        if rec is None or self.side is None or self.side not in rec.textures or self.frames == 0:
            raise PersonalHandError("no hand was captured: nothing was seen in the frames (is a hand in view?)")
        measured = rec.stereo_shape(self.side)
        stereo = measured is not None
        betas = measured if stereo else np.median(np.stack(self._betas), axis=0)
        offsets = np.median(np.stack(self._offsets), axis=0) if self._offsets else None
        info = {"shape_source": "stereo" if stereo else "mono", "frames": self.frames,
                "complete": self.last.done, **self.last.to_json()}
        if np.abs(betas).max() > MAX_ABS_BETA:  # (a fit gone astray: the capture is kept, its shape bounded)
            info["shape_clipped_from"] = [float(b) for b in betas]
            betas = np.clip(betas, -MAX_ABS_BETA, MAX_ABS_BETA)
        return PersonalHand.from_fusion(self.side, rec.models[self.side], betas, rec.textures[self.side], offsets, info)

"""The user's own hand: a guided capture that measures it, and the saved hand that later sessions start from.

    guide = CaptureGuide(atlas)                      # regions of the hand's texture atlas to be seen
    progress = guide.progress(fusion)                # per region, the step to show, done
    capture = HandCapture(side="right")              # over a video/live Reconstructor's results
    progress = capture.update(rec, hands)            # after every frame
    hand = capture.finish(rec); hand.save("me/")     # shape, vertex offsets, albedo texture, GLB
    rec.load_hand(PersonalHand.load("me/"))          # realhands run --hand me/: published from the first frame
"""
from .capture import HandCapture
from .guide import REGIONS, STEPS, CaptureGuide, CaptureProgress
from .hand import PersonalHand

__all__ = ["CaptureGuide", "CaptureProgress", "HandCapture", "PersonalHand", "REGIONS", "STEPS"]

"""Hands across frames and across views: which detection is which hand, and which side it is.

MediaPipe labels every frame's hands on its own, and on hard views it calls a right hand "left" for stretches of
a clip; fitting the other side's model to those frames puts a mirrored hand in the scene. Here a hand is a
``Track``: detections are associated with tracks by where they are in the image, a track's side is decided when it
starts (MediaPipe's label, confirmed by the other view of a stereo pair, or left open for the fit to settle by
fitting both sides) and then held while the hand stays in view, and two hands keep their identities when they
cross. Across the views of a stereo pair, detections are matched by epipolar geometry (``match_views``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..camera import StereoPair
from .mediapipe_hands import HandDetection

#: a detection continues a track when its keypoints' centre is within this many hand sizes of the track's last one
ASSOCIATION_RADIUS = 1.5
#: MediaPipe's handedness is trusted at a track's start when its score is at least this and the views agree
CERTAIN_SCORE = 0.85
#: a new detection whose keypoints' box lies this much (share of the smaller box) inside a tracked hand's box is
#: MediaPipe seeing that hand twice (it does, on hard views), not a second hand
DUPLICATE_OVERLAP = 0.6
#: a side settled in one view is reopened once when, over at least VOTE_FRAMES of the track's frames, MediaPipe's
#: labels name the other side with VOTE_RATIO times the summed score of the held one. Measured on 18 synthetic
#: sequences (the stereo benchmark's and 12 tuning ones): a left hand settled right from an unsure first label
#: (seed 808) had the other side named 19 to 1 by its 15th frame; the highest ratio against a rightly held side was
#: 2.7 (the benchmark's `count`, where MediaPipe reads a far right hand as a mirrored left one for stretches)
VOTE_FRAMES, VOTE_RATIO = 15, 4.0
#: a track whose hand is not detected is kept this many frames (a missed detection does not end it)
LOST_FRAMES = 10
#: two views see one hand when their keypoints lie within this many px (plus this share of the hand's size in px)
#: of each other's epipolar lines (median over the 21 keypoints)
EPIPOLAR_PX, EPIPOLAR_SHARE = 6.0, 0.08


def hand_size_px(kp: np.ndarray) -> float:
    """Wrist to knuckles, mean, px: the scale a hand has in an image."""
    return float(np.linalg.norm(kp[[5, 9, 13, 17]] - kp[0], axis=1).mean())


@dataclass(eq=False)
class Track:
    """One hand followed across frames. ``side`` is settled by the first fit and held; ``certain`` says whether
    MediaPipe (and the other view) agreed when it started; when it did not, or when two views make the hand's
    chirality measurable, ``Reconstructor.fit`` fits both sides and keeps the better one."""

    id: int
    side: str
    certain: bool
    centre: np.ndarray  # (2,) px, its keypoints' mean in the last frame
    size: float  # px
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # px per frame (crossing hands)
    frames: int = 1
    missed: int = 0  # frames since it was last detected
    decided: bool = False  # the side is settled (by the first fit: Reconstructor.fit), held from then on
    #: the views that settled the side: 2 when two views saw the hand (a fit of both sides in both, or both views'
    #: labels naming the held side later); a side settled in one view is settled again (``reopened``) the first
    #: time both views name the other side, or once when MediaPipe's labels vote for it (VOTE_RATIO)
    settled_views: int = 0
    votes: dict = field(default_factory=dict)  # side -> MediaPipe's summed label score over the track's frames
    voted: bool = False  # reopened once by the vote (never again)
    #: this frame: the side was reopened; the side it held until now (the reconstructor forgets the hand's warm start,
    #: and takes back its texture views if the fit settles the other side); None otherwise
    reopened: str | None = None


def match_detection(detections: list, gt_2d: np.ndarray, max_px: float | None = None):
    """The detection whose keypoints lie closest (mean px) to ``gt_2d`` (21,2) (a ground truth, a rendered hand), or
    None (none, or all farther than ``max_px``, default half the box diagonal of ``gt_2d``)."""
    if not detections:
        return None
    gt_2d = np.asarray(gt_2d, np.float64)
    if max_px is None:
        max_px = 0.5 * float(np.linalg.norm(gt_2d.max(0) - gt_2d.min(0)))
    d = [float(np.linalg.norm(det.keypoints_2d - gt_2d, axis=1).mean()) for det in detections]
    i = int(np.argmin(d))
    return detections[i] if d[i] <= max_px else None


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection of two keypoint sets' bounding boxes over the smaller box's area."""
    lo, hi = np.maximum(a.min(0), b.min(0)), np.minimum(a.max(0), b.max(0))
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    area = min(float(np.prod(a.max(0) - a.min(0))), float(np.prod(b.max(0) - b.min(0))))
    return inter / max(area, 1e-9)


class HandTracker:
    """Associates each frame's detections with tracks (video mode). ``update`` returns, per detection, its track
    (new tracks included) or None for a duplicate of a tracked hand; a track whose hand is not detected is kept
    LOST_FRAMES frames, then ends."""

    def __init__(self):
        self.tracks: list[Track] = []
        self._next_id = 1

    def reset(self):
        self.tracks.clear()

    def holds(self, side: str, besides: Track | None = None) -> bool:
        """Whether a hand in view (other than ``besides``) is held as ``side``."""
        return any(t.side == side and t.missed == 0 and t is not besides for t in self.tracks)

    def update(self, detections: list[HandDetection], second_labels: list | None = None) -> list[Track | None]:
        """``second_labels``: per detection, the side the other view's matched detection was given (or None)."""
        second_labels = second_labels or [None] * len(detections)
        centres = [d.keypoints_2d.mean(0) for d in detections]
        sizes = [max(hand_size_px(d.keypoints_2d), 1.0) for d in detections]
        # greedy association, nearest pairs first, against where each track's hand is heading (constant velocity:
        # two hands crossing each keep their own)
        pairs = sorted(((float(np.linalg.norm(c - t.centre - t.velocity * (1 + t.missed))) / max(t.size, s), i, j)
                        for i, (c, s) in enumerate(zip(centres, sizes, strict=True))
                        for j, t in enumerate(self.tracks)), key=lambda x: x[0])
        out: list[Track | None] = [None] * len(detections)
        used = set()
        for dist, i, j in pairs:
            if dist <= ASSOCIATION_RADIUS and out[i] is None and j not in used:
                out[i], used = self.tracks[j], used | {j}
        kept = [detections[i].keypoints_2d for i in range(len(detections)) if out[i] is not None]
        for i in sorted(range(len(detections)), key=lambda i: -detections[i].score):
            if out[i] is None:
                if any(box_overlap(detections[i].keypoints_2d, k) > DUPLICATE_OVERLAP for k in kept):
                    out[i] = "duplicate"
                else:
                    kept.append(detections[i].keypoints_2d)
        for i, det in enumerate(detections):
            t = out[i]
            if isinstance(t, str):
                continue
            if t is None:  # a hand appears: its side from MediaPipe, unless that side is taken or the views disagree
                taken = {x.side for x in out if isinstance(x, Track)}
                side = det.handedness
                agree = second_labels[i] in (None, side)
                certain = det.score >= CERTAIN_SCORE and agree and side not in taken
                if side in taken:
                    side = "left" if side == "right" else "right"
                t = Track(self._next_id, side, certain, centres[i], sizes[i], frames=0)
                self._next_id += 1
                out[i] = t
            elif t.decided and t.settled_views < 2 and second_labels[i] is not None:
                self._check_side(t, det.handedness, second_labels[i], out + self.tracks)
            t.votes[det.handedness] = t.votes.get(det.handedness, 0.0) + det.score
            if t.decided and t.settled_views < 2 and not t.voted and t.frames + 1 >= VOTE_FRAMES:
                other = "left" if t.side == "right" else "right"
                outvoted = t.votes.get(other, 0.0) >= VOTE_RATIO * t.votes.get(t.side, 0.0)
                if outvoted and _free(other, t, out + self.tracks):
                    self._reopen(t, other)
                    t.voted, t.votes = True, {}
            if t.frames:
                t.velocity = 0.5 * t.velocity + 0.5 * (centres[i] - t.centre) / (1 + t.missed)
            t.centre, t.size, t.frames, t.missed = centres[i], sizes[i], t.frames + 1, 0
        seen = [t for t in out if isinstance(t, Track)]
        for t in self.tracks:
            if t not in seen:
                t.missed += 1
        self.tracks = seen + [t for t in self.tracks if t not in seen and t.missed <= LOST_FRAMES]
        return [t if isinstance(t, Track) else None for t in out]

    @staticmethod
    def _check_side(t: Track, label: str, second_label: str, out: list) -> None:
        """A side settled in one view meets its first two-view reading: both views naming the held side confirm it;
        both naming the other (free) side reopen it: it becomes that side, undecided, and the next fit settles it
        by fitting both sides in both views, where the hand's chirality is measurable (a hand that entered in one
        view under a wrong, unsure label would otherwise keep the mirrored side as long as it stays tracked)."""
        if label != second_label:
            return
        if label == t.side:
            t.settled_views = 2
        elif _free(label, t, out):
            HandTracker._reopen(t, label)

    @staticmethod
    def _reopen(t: Track, side: str) -> None:
        """The track becomes ``side``, undecided and unsure: its next fit settles it by fitting both sides."""
        t.side, t.decided, t.certain, t.reopened = side, False, False, t.side


def _free(side: str, t: Track, tracks: list) -> bool:
    """Whether no hand in ``tracks`` other than ``t`` holds ``side``: this frame's tracks and the tracker's, a hand
    missed for a few frames (LOST_FRAMES) included: it still holds its side, and when it is found again two
    tracks would hold one side."""
    return not any(isinstance(x, Track) and x is not t and x.side == side for x in tracks)


def match_views(left: list[HandDetection], right: list[HandDetection], pair: StereoPair) -> list[int | None]:
    """For each detection of the left view, the index of the right view's detection of the same hand, or None:
    matched by the epipolar distance of their keypoints (handedness labels are not trusted: MediaPipe may differ
    between the views), nearest first, each right detection used once, the hand in front of both cameras."""
    scores = []
    for i, dl in enumerate(left):
        for j, dr in enumerate(right):
            d = float(np.median(pair.epipolar_distance(dl.keypoints_2d, dr.keypoints_2d)))
            limit = EPIPOLAR_PX + EPIPOLAR_SHARE * hand_size_px(dl.keypoints_2d)
            if d <= limit:
                wrist = pair.triangulate(dl.keypoints_2d[:1], dr.keypoints_2d[:1])[0]
                if np.isfinite(wrist).all() and 0.05 < wrist[2] < 5.0:
                    scores.append((d, i, j))
    out: list[int | None] = [None] * len(left)
    used = set()
    for _, i, j in sorted(scores):
        if out[i] is None and j not in used:
            out[i] = j
            used.add(j)
    return out

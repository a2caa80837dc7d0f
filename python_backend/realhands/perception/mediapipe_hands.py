"""MediaPipe Hands through the models inside the pinned mediapipe 0.10.21 wheel (no download).

Images are RGB uint8 (H,W,3). Keypoints are returned in pixels (u right, v down) in MediaPipe/FreiHAND order.
MediaPipe names handedness as seen in a mirrored (selfie) image; we report the person's actual hand for
un-mirrored camera images (set ``mirrored=True`` for selfie-style input).

In video mode MediaPipe's own graph (``mp.solutions.hands``) runs its palm detector over the whole image on every
frame where it tracks fewer hands than ``max_num_hands``: with one hand in view and two allowed, that is every
frame, and it doubles the cost (on this 2-core CPU 12-13 ms a frame against 5.5-6.7 with the detector skipped).
``HandDetector`` runs the same graph, read from the wheel, with one change: whether the palm detector runs is
decided here, per frame (``palm_search_frames``). With no hand tracked it runs on every frame, as MediaPipe's does;
while some but fewer than ``max_num_hands`` are tracked it runs every ``palm_search_frames``-th frame, so a second
hand entering the view is found within that many frames instead of one, and on the frame after a doubtful
reading: a tracked hand's handedness changed (MediaPipe's tracked reading of a hand can lock onto its mirror image)
or its handedness score fell under ``DOUBTFUL_SCORE`` (the landmark model is unsure of the crop it was given: the
tracked box lags a fast hand). The palm detector's fresh reading of the same hand, kept where its box differs
from the tracked one, is then a second opinion for the pipeline's vote on the hand's side and a new box for
tracking. 1 (the default here) reproduces MediaPipe exactly (tested); the pipeline's choice is
``ReconstructConfig.palm_search_frames``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: video, palm search: a tracked hand read with a handedness score under this gets a fresh reading from the palm
#: detector on the next frame (as one whose handedness changed does)
DOUBTFUL_SCORE = 0.9


@dataclass
class HandDetection:
    """One hand found by MediaPipe. keypoints_2d (21,2) px; world_landmarks (21,3) metres, MediaPipe's
    metric 3D estimate, centred near the hand and roughly camera-aligned (tens of degrees off)."""

    handedness: str  # "right" or "left"
    score: float
    keypoints_2d: np.ndarray
    world_landmarks: np.ndarray
    keypoints_z: np.ndarray  # (21,) MediaPipe's relative depth per keypoint (scaled like x, wrist = 0)


def mirror_world(world_landmarks: np.ndarray | None) -> np.ndarray | None:
    """(21,3) world landmarks -> those of the mirror-image hand (x negated: the other chirality, same articulation),
    or None for None. What MediaPipe's landmarks say about the other side's hand when its label may be wrong."""
    return None if world_landmarks is None else np.asarray(world_landmarks, np.float64) * np.array([-1.0, 1.0, 1.0])


class HandDetector:
    """MediaPipe Hands (``mp.solutions.hands``'s graph and models), with the palm detector's cadence set here.

    Args:
        static_image_mode: True for unrelated images; False for video (tracks between frames).
        max_num_hands: up to this many hands per image.
        min_detection_confidence, min_tracking_confidence, model_complexity: passed to MediaPipe.
        mirrored: input images are mirrored (selfie view).
        palm_search_frames: video mode: while some but fewer than ``max_num_hands`` hands are tracked, look for new
            ones every this many processed frames and after a doubtful reading (1: every frame, as MediaPipe does;
            with none tracked: every frame; with ``max_num_hands`` tracked: never, as MediaPipe).
    """

    def __init__(self, static_image_mode: bool = True, max_num_hands: int = 2,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_complexity: int = 1, mirrored: bool = False, palm_search_frames: int = 1):
        try:
            from mediapipe.python.solution_base import SolutionBase
            from mediapipe.python.solutions import hands as mp_hands
        except ImportError as exc:  # pragma: no cover - the perception extra is installed by make
            raise ImportError("MediaPipe is missing: pip install 'realhands[perception]' (mediapipe==0.10.21)") from exc
        if not isinstance(palm_search_frames, numbers.Integral) or isinstance(palm_search_frames, bool) \
                or palm_search_frames < 1:
            raise ValueError(f"palm_search_frames must be a whole number >= 1, got {palm_search_frames!r}")
        self._hands = SolutionBase(
            graph_config=_tracking_graph(mp_hands),
            side_inputs={"model_complexity": model_complexity, "num_hands": max_num_hands,
                         "use_prev_landmarks": not static_image_mode},
            calculator_params={  # as mp.solutions.hands.Hands sets them
                "palmdetectioncpu__TensorsToDetectionsCalculator.min_score_thresh": min_detection_confidence,
                "handlandmarkcpu__ThresholdingCalculator.threshold": min_tracking_confidence},
            outputs=["multi_hand_landmarks", "multi_hand_world_landmarks", "multi_handedness"])
        self.mirrored = mirrored
        self.video, self.max_hands = not static_image_mode, int(max_num_hands)
        self.palm_search_frames = int(palm_search_frames)
        self._tracked = 0  # hands found in the previous frame (video: MediaPipe tracks them into this one)
        self._labels: list = []  # their handedness readings
        self._doubtful = False  # the previous frame's reading asks for a palm search (DOUBTFUL_SCORE, relabelling)
        self._since_search = 0  # frames since the palm detector last ran
        #: frames processed and those on which the palm detector ran (what the cadence saves, for benchmarks)
        self.frames = self.palm_searches = 0

    def _search_palms(self) -> bool:
        """Whether the palm detector runs on this frame."""
        if not self.video or self._tracked == 0:
            return True
        return self._tracked < self.max_hands and (self._doubtful or self._since_search + 1 >= self.palm_search_frames)

    def close(self):
        self._hands.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def detect(self, image: np.ndarray) -> list[HandDetection]:
        """Hands in an RGB uint8 image (H,W,3); an empty list when there is none."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image (H,W,3), got {image.dtype} {image.shape}")
        h, w = image.shape[:2]
        search = self._search_palms()
        res = self._hands.process({"image": np.ascontiguousarray(image), "detect_palms": search})
        self.frames += 1
        self.palm_searches += search
        self._since_search = 0 if search else self._since_search + 1
        read = [hd.classification[0] for hd in (res.multi_handedness or ())]
        labels = sorted(c.label for c in read)
        self._doubtful = (len(labels) == len(self._labels) and labels != self._labels) \
            or any(c.score < DOUBTFUL_SCORE for c in read)
        self._tracked, self._labels = len(labels), labels
        out = []
        if not res.multi_hand_landmarks:
            return out
        # MediaPipe's three lists are parallel, one entry per hand
        for lms, world, hd in zip(res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness,
                                  strict=False):
            cls = hd.classification[0]
            label = cls.label.lower()  # MediaPipe's label is for a mirrored image
            if not self.mirrored:
                label = "right" if label == "left" else "left"
            pts = np.array([[p.x * w, p.y * h] for p in lms.landmark])
            z = np.array([p.z * w for p in lms.landmark])
            wl = np.array([[p.x, p.y, p.z] for p in world.landmark])
            out.append(HandDetection(label, float(cls.score), pts, wl, z))
        return out


def _tracking_graph(mp_hands):
    """``mp.solutions.hands``'s graph (the wheel's hand_landmark_tracking_cpu.binarypb) with its palm detector gated
    by an input stream, ``detect_palms`` (bool, one per frame), instead of by "fewer hands tracked than allowed"."""
    import mediapipe
    from mediapipe.framework import calculator_pb2

    graph = calculator_pb2.CalculatorGraphConfig()
    graph.ParseFromString((Path(mediapipe.__file__).parent.parent / mp_hands._BINARYPB_FILE_PATH).read_bytes())
    gated = [n for n in graph.node
             if n.calculator == "GateCalculator" and "DISALLOW:prev_has_enough_hands" in n.input_stream]
    if len(gated) != 1:  # pragma: no cover - only another mediapipe than the pinned one
        raise RuntimeError("this mediapipe's hand tracking graph has no palm-detection gate where 0.10.21 has it; "
                           "install mediapipe==0.10.21")
    streams = [("ALLOW:detect_palms" if x == "DISALLOW:prev_has_enough_hands" else x) for x in gated[0].input_stream]
    del gated[0].input_stream[:]
    gated[0].input_stream.extend(streams)
    nodes = [n for n in graph.node if n.calculator != "NormalizedRectVectorHasMinSizeCalculator"]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.input_stream.append("DETECT_PALMS:detect_palms")
    return graph

"""MediaPipe Hands through the models inside the pinned mediapipe 0.10.21 wheel (no download).

Images are RGB uint8 (H,W,3). Keypoints are returned in pixels (u right, v down) in MediaPipe/FreiHAND order.
MediaPipe names handedness as seen in a mirrored (selfie) image; we report the person's actual hand for
un-mirrored camera images (set ``mirrored=True`` for selfie-style input).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """A small wrapper over ``mp.solutions.hands.Hands``.

    Args:
        static_image_mode: True for unrelated images; False for video (tracks between frames).
        max_num_hands: up to this many hands per image.
        min_detection_confidence, min_tracking_confidence, model_complexity: passed to MediaPipe.
        mirrored: input images are mirrored (selfie view).
    """

    def __init__(self, static_image_mode: bool = True, max_num_hands: int = 2,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_complexity: int = 1, mirrored: bool = False):
        try:
            import mediapipe as mp
        except ImportError as exc:  # pragma: no cover - the perception extra is installed by make
            raise ImportError("MediaPipe is missing: pip install 'realhands[perception]' (mediapipe==0.10.21)") from exc
        self._hands = mp.solutions.hands.Hands(
            static_image_mode=static_image_mode, max_num_hands=max_num_hands,
            min_detection_confidence=min_detection_confidence, min_tracking_confidence=min_tracking_confidence,
            model_complexity=model_complexity)
        self.mirrored = mirrored

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
        res = self._hands.process(np.ascontiguousarray(image))
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

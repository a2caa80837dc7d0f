"""Where the hand is now: a hand's placement moved from its capture time to its publish time along its recent motion.

A frame reaches the engine some tens of milliseconds after the camera saw it (docs/live.md: capture-to-publish
latency); a hand moving at 0.5 m/s is 2.5 cm away by then. ``PoseExtrapolator`` keeps each hand's wrist velocity
and angular velocity (from its last measured states, on the capture clock) and, at publish time, moves the hand
rigidly about its wrist: ``root_translation`` and the wrist rotation (``pose[:3]``) and ``joints`` consistently, so
that skinning the rig gives the moved mesh. The fingers' articulation is left as measured. The move is bounded:
never more than ``max_ahead_s`` past the capture, ``MAX_SHIFT_M`` of travel or ``MAX_TURN_RAD`` of turn, so a hand
that stops overshoots by at most the bound for one frame (the next measured state has stopped, and its velocity
falls); a hand seen for the first time, after a gap or lost is sent as measured (``extrapolated_ms`` 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

#: the most a hand is moved: its travel (m) and turn (rad), whatever its speed and the latency
MAX_SHIFT_M = 0.03
MAX_TURN_RAD = np.radians(15.0)
#: two measured states further apart than this (s, capture clock) give no velocity: frames were lost in between
MAX_GAP_S = 0.2
#: the share of a new velocity measurement in the velocity kept (exponential smoothing; 1: the last step alone)
VELOCITY_GAIN = 0.6


@dataclass
class _Motion:
    t: float  # capture time of the last state, s
    wrist: np.ndarray  # (3,) m, camera coordinates
    orient: Rotation  # the wrist's rotation, camera coordinates
    velocity: np.ndarray | None = None  # (3,) m/s
    spin: np.ndarray | None = None  # (3,) rad/s, camera coordinates (rotation vector per second)


class PoseExtrapolator:
    """Per handedness, the hand's recent motion; moves frame-message hand bodies to their publish time.

    ``max_ahead_s``: the most a hand is moved past its capture (0: never)."""

    def __init__(self, max_ahead_s: float = 0.1):
        self.max_ahead_s = float(max_ahead_s)
        self._motion: dict[str, _Motion] = {}

    def forget(self, side: str) -> None:
        """The hand left (or was lost): its motion no longer says where it goes."""
        self._motion.pop(side, None)

    def observe(self, side: str, capture_s: float, body: dict) -> None:
        """A measured hand body (``streaming.messages.hand_body``: its ``joints`` and ``pose``) captured at
        ``capture_s`` seconds."""
        wrist = np.asarray(body["joints"][0], np.float64)
        orient = Rotation.from_rotvec(np.asarray(body["pose"][:3], np.float64))
        last = self._motion.get(side)
        now = _Motion(capture_s, wrist, orient)
        if last is not None and 0.0 < capture_s - last.t <= MAX_GAP_S:
            dt = capture_s - last.t
            v = (wrist - last.wrist) / dt
            w = (orient * last.orient.inv()).as_rotvec() / dt
            if last.velocity is not None:
                v = VELOCITY_GAIN * v + (1 - VELOCITY_GAIN) * last.velocity
                w = VELOCITY_GAIN * w + (1 - VELOCITY_GAIN) * last.spin
            now.velocity, now.spin = v, w
        self._motion[side] = now

    def moved(self, side: str, body: dict, ahead_s: float) -> dict:
        """``body`` moved ``ahead_s`` seconds past its capture (bounded), as a new dict with ``extrapolated_ms``;
        the body itself when there is no motion to follow or nothing to move."""
        m = self._motion.get(side)
        ahead = min(max(float(ahead_s), 0.0), self.max_ahead_s)
        if m is None or m.velocity is None or not ahead > 0.0 or not np.isfinite(ahead):
            return dict(body, extrapolated_ms=0.0)
        shift = m.velocity * ahead
        travel = float(np.linalg.norm(shift))
        if travel > MAX_SHIFT_M:
            shift *= MAX_SHIFT_M / travel
        turn = m.spin * ahead
        angle = float(np.linalg.norm(turn))
        if angle > MAX_TURN_RAD:
            turn *= MAX_TURN_RAD / angle
        if not (np.isfinite(shift).all() and np.isfinite(turn).all()):
            return dict(body, extrapolated_ms=0.0)
        dR = Rotation.from_rotvec(turn)
        joints = np.asarray(body["joints"], np.float64)
        wrist = joints[0]
        pose = np.array(body["pose"], np.float64)
        pose[:3] = (dR * Rotation.from_rotvec(pose[:3])).as_rotvec()
        return dict(body, pose=pose.astype("<f4"),
                    root_translation=(np.asarray(body["root_translation"], np.float64) + shift).astype("<f4"),
                    joints=((joints - wrist) @ dR.as_matrix().T + wrist + shift).astype("<f4"),
                    extrapolated_ms=round(ahead * 1000.0, 3))

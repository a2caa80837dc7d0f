"""One Euro filter (Casiez et al., CHI 2012) for smoothing fitted parameters over video frames.

Low jitter when the hand is still, low lag when it moves: the cut-off frequency rises with the speed.
"""
from __future__ import annotations

import math

import numpy as np


class OneEuroFilter:
    """Filters a vector signal. ``min_cutoff`` (Hz): smoothing at rest; ``beta``: how fast the cut-off rises
    with speed; ``d_cutoff`` (Hz): smoothing of the speed estimate."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0):
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("min_cutoff and d_cutoff must be > 0, beta >= 0")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self):
        self._x = self._dx = self._t = None

    @property
    def value(self) -> np.ndarray | None:
        """The last filtered value (None before the first)."""
        return self._x

    @staticmethod
    def _alpha(cutoff: float, dt: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter value ``x`` at time ``t`` (seconds)."""
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        tau = 1.0 / (2 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t
        return self._x.copy()


def rotvec_to_quaternion(rotvec: np.ndarray) -> np.ndarray:
    """(3,) axis-angle (radians) -> the unit quaternion (w, x, y, z) of the same rotation (w >= 0 for angles up
    to pi)."""
    angle = float(np.linalg.norm(rotvec))
    half = 0.5 if angle < 1e-8 else np.sin(angle / 2) / angle  # sin(a/2) / a, its limit 1/2 at 0
    return np.concatenate([[np.cos(angle / 2)], rotvec * half])


def quaternion_to_rotvec(q: np.ndarray) -> np.ndarray:
    """(4,) quaternion (w, x, y, z), any norm or sign -> (3,) axis-angle, the angle in [0, pi]."""
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    if q[0] < 0:
        q = -q
    s = float(np.linalg.norm(q[1:]))
    angle = 2.0 * np.arctan2(s, q[0])
    return q[1:] * (2.0 if s < 1e-8 else angle / s)

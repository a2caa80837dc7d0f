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

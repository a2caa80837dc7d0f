"""Stereo rigs modelled on Stereolabs ZED cameras (rectified pinhole pairs, OpenCV axes, metres).

| rig | baseline | rectified horizontal FOV (16:9 modes) | datasheet max FOV (H x V) |
| --- | --- | --- | --- |
| zed | 120 mm | 85 deg | 90 x 60 deg |
| zed2 | 120 mm | 100 deg | 110 x 70 deg |
| zedm (ZED Mini) | 63 mm | 87 deg | 90 x 60 deg |

Rectified images are narrower than the datasheet's maximum field of view (which is before undistortion);
the rectified figures are typical of factory calibrations (ZED HD720 fx ~ 700 px, ZED 2 HD720 fx ~ 530 px).
Resolutions per eye: HD2K 2208x1242, HD1080 1920x1080, HD720 1280x720, VGA 672x376, or any WxH: the focal
length then keeps the rig's angular resolution at the same image width.

The left camera is the reference frame. A point X in left-camera coordinates is ``X - (baseline, 0, 0)`` in
right-camera coordinates, so a point at depth Z has disparity ``u_left - u_right = fx * baseline / Z``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..camera import Camera, StereoPair

RIGS = {
    "zed": {"baseline": 0.120, "hfov_deg": 85.0},
    "zed2": {"baseline": 0.120, "hfov_deg": 100.0},
    "zedm": {"baseline": 0.063, "hfov_deg": 87.0},
}
RESOLUTIONS = {"HD2K": (2208, 1242), "HD1080": (1920, 1080), "HD720": (1280, 720), "VGA": (672, 376)}


@dataclass(frozen=True)
class StereoRig:
    """A rectified stereo pair: both cameras share intrinsics; the right one is ``baseline`` m along +x."""

    name: str
    baseline: float
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    @property
    def camera(self) -> Camera:
        """Either view's camera (both share intrinsics)."""
        return Camera(self.fx, self.fy, self.cx, self.cy, self.width, self.height)

    @property
    def K(self) -> np.ndarray:
        """(3,3) intrinsics in pixels (both views)."""
        return self.camera.K

    @property
    def pair(self) -> StereoPair:
        return StereoPair(self.camera, self.camera, self.T_right_from_left)

    @property
    def T_right_from_left(self) -> np.ndarray:
        """(4,4) rigid transform from left-camera to right-camera coordinates."""
        T = np.eye(4)
        T[0, 3] = -self.baseline
        return T

    @property
    def hfov_deg(self) -> float:
        return float(np.degrees(2 * np.arctan(self.width / (2 * self.fx))))

    @property
    def vfov_deg(self) -> float:
        return float(np.degrees(2 * np.arctan(self.height / (2 * self.fy))))

    def disparity(self, depth_m: np.ndarray) -> np.ndarray:
        """Disparity in pixels of points at the given depths (metres)."""
        return self.fx * self.baseline / np.asarray(depth_m)


def parse_resolution(resolution: str | tuple[int, int]) -> tuple[int, int]:
    """'HD720', 'VGA', '640x480' or (w, h) -> (width, height); clear error otherwise."""
    if isinstance(resolution, tuple):
        return int(resolution[0]), int(resolution[1])
    key = resolution.upper()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    try:
        w, h = (int(x) for x in resolution.lower().split("x"))
    except ValueError:
        raise ValueError(f"resolution {resolution!r}: use one of {', '.join(RESOLUTIONS)} or WIDTHxHEIGHT") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise ValueError(f"resolution {resolution!r} out of range (16..8192 per side)")
    return w, h


def make_rig(name: str = "zed2", resolution: str | tuple[int, int] = "HD720") -> StereoRig:
    """A ZED-like rig at a resolution. The focal length follows the rig's rectified horizontal FOV at the
    16:9 width of the same height class, so a 640x480 crop keeps the angular resolution of a 853x480 mode."""
    if name not in RIGS:
        raise ValueError(f"unknown rig {name!r}: use one of {', '.join(RIGS)}")
    w, h = parse_resolution(resolution)
    spec = RIGS[name]
    ref_width = max(w, h * 16 / 9)  # the sensor's 16:9 width at this height
    fx = 0.5 * ref_width / np.tan(np.radians(spec["hfov_deg"]) / 2)
    return StereoRig(name, spec["baseline"], w, h, float(fx), float(fx), w / 2.0, h / 2.0)

"""The camera of the whole pipeline, written down once: pinhole intrinsics, stereo pairs, and every conversion
between them and pixels.

    cam = Camera.from_fov(640, 480)                 # the default camera: DEFAULT_HFOV_DEG, centred
    cam = Camera(fx, fy, cx, cy, width, height)     # or Camera.from_K(K), Camera.parse("fx,fy,cx,cy")
    cam.K                                           # (3,3) px
    cam.project(points)                             # (N,3) camera coordinates, m -> (N,2) px
    cam.scaled(2.0); cam.cropped(x0, y0); cam.warped(A)   # the same camera for a resized image or a crop
    pair = StereoPair(left_cam, right_cam, T_right_from_left)
    pair.triangulate(uv_left, uv_right)             # (N,3) in left-camera coordinates, m

Capture sources, calibration files, the pipeline, HandNet's stereo path, refinement and the texture all take these
objects; nothing else builds or takes apart a K matrix. Renderers and the keypoint fit work on batches of K as
(B,3,3) torch tensors (``camera.K`` stacked); ``project_points``, ``backproject_points``, ``scale_intrinsics`` and
``clip_coordinates`` below are their conversions.

Conventions (see realhands.conventions): camera coordinates in metres with OpenCV axes (x right, y down, z forward);
pixels (u right, v down) with the origin at the top-left corner of the top-left pixel, so pixel centres sit at
integer + 0.5 and an image scaled by s has every intrinsic scaled by s.
"""
from __future__ import annotations

import functools
import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .errors import CameraError

if TYPE_CHECKING:
    import torch

#: The camera assumed when none is given: a horizontal field of view typical of webcams and phones, centred.
DEFAULT_HFOV_DEG = 60.0
#: Plausible intrinsics, pixels: a focal length below a pixel or any value beyond a million is a mistake (and would
#: place hands light years away).
MIN_FOCAL_PX, MAX_PX = 1.0, 1e6


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: focal lengths and principal point in pixels; the image size when known."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int | None = None
    height: int | None = None

    def __post_init__(self):
        vals = (self.fx, self.fy, self.cx, self.cy)
        try:
            vals = tuple(float(v) for v in vals)
        except (TypeError, ValueError):
            raise CameraError(f"camera intrinsics must be numbers, got {vals!r}") from None
        if not all(math.isfinite(v) for v in vals) or not (MIN_FOCAL_PX <= min(vals[:2]) <= max(vals[:2]) <= MAX_PX) \
                or max(abs(vals[2]), abs(vals[3])) > MAX_PX:
            raise CameraError(f"camera intrinsics need finite pixels with fx, fy in [{MIN_FOCAL_PX:g}, {MAX_PX:g}] and "
                              f"|cx|, |cy| <= {MAX_PX:g}, got fx={vals[0]}, fy={vals[1]}, cx={vals[2]}, cy={vals[3]}")
        for name, v in zip(("fx", "fy", "cx", "cy"), vals, strict=True):
            object.__setattr__(self, name, v)
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None:
                if int(v) != v or int(v) <= 0:
                    raise CameraError(f"camera {name} must be a positive whole number of pixels, got {v!r}")
                object.__setattr__(self, name, int(v))

    # -- making one -------------------------------------------------------------------------------------------
    @classmethod
    def from_K(cls, K, width: int | None = None, height: int | None = None) -> Camera:
        """From a (3,3) intrinsics matrix (no skew)."""
        K = np.asarray(K, dtype=np.float64)
        if K.shape != (3, 3):
            raise CameraError(f"an intrinsics matrix is 3x3, got shape {K.shape}")
        if not np.isfinite(K).all():
            raise CameraError("the intrinsics matrix holds a non-finite number")
        # a skew below 0.1 % of fx (< 0.2 px anywhere in the image) is calibration noise and is dropped
        if abs(K[0, 1]) > 1e-3 * abs(K[0, 0]) or abs(K[1, 0]) > 1e-9 or not np.allclose(K[2], [0.0, 0.0, 1.0]):
            raise CameraError(f"expected a pinhole intrinsics matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], got "
                              f"{np.round(K, 4).tolist()}")
        return cls(K[0, 0], K[1, 1], K[0, 2], K[1, 2], width, height)

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> Camera:
        """Square pixels, the given horizontal field of view, the principal point at the image centre."""
        if not 0 < hfov_deg < 180:
            raise CameraError(f"a horizontal field of view is between 0 and 180 degrees, got {hfov_deg}")
        f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2)
        return cls(float(f), float(f), width / 2.0, height / 2.0, width, height)

    @classmethod
    def parse(cls, text: str, width: int | None = None, height: int | None = None) -> Camera:
        """From ``"fx,fy,cx,cy"`` (pixels), as the command line takes it."""
        try:
            vals = [float(x) for x in str(text).split(",")]
        except ValueError:
            vals = []
        if len(vals) != 4:
            raise CameraError(f"intrinsics {text!r}: give fx,fy,cx,cy in pixels, e.g. 600,600,320,240")
        return cls(*vals, width, height)

    @classmethod
    def coerce(cls, value, width: int | None = None, height: int | None = None) -> Camera:
        """The camera of an image ``width`` x ``height`` from what a caller passed: a Camera, (fx, fy, cx, cy), a
        (3,3) K, or None (the default field of view)."""
        if value is None:
            if width is None or height is None:
                raise CameraError("no camera given and no image size to assume one for")
            return cls.from_fov(width, height)
        if isinstance(value, Camera):
            cam = value
        elif isinstance(value, str):
            cam = cls.parse(value)
        else:
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise CameraError(f"a camera is a realhands.Camera, (fx, fy, cx, cy) or a 3x3 K, got {value!r}") \
                    from None
            if arr.shape == (4,):
                cam = cls(*arr)
            elif arr.shape == (3, 3):
                cam = cls.from_K(arr)
            else:
                raise CameraError(f"a camera is a realhands.Camera, (fx, fy, cx, cy) or a 3x3 K, got shape {arr.shape}")
        if cam.width is None and width is not None:
            cam = cam.with_size(width, height)
        if cam.width is not None and not (-cam.width <= cam.cx <= 2 * cam.width and
                                          -cam.height <= cam.cy <= 2 * cam.height):
            raise CameraError(f"the principal point ({cam.cx:g}, {cam.cy:g}) px is far outside the "
                              f"{cam.width}x{cam.height} image: give cx, cy in that image's pixels")
        return cam

    def with_size(self, width: int, height: int) -> Camera:
        return Camera(self.fx, self.fy, self.cx, self.cy, width, height)

    # -- reading it -------------------------------------------------------------------------------------------
    @property
    def K(self) -> np.ndarray:
        """(3,3) float64 intrinsics matrix, pixels."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def K_tensor(self, dtype=None, device=None) -> torch.Tensor:
        """K as a (3,3) torch tensor (float64 unless ``dtype`` says otherwise)."""
        import torch

        return torch.as_tensor(self.K, dtype=dtype or torch.float64, device=device)

    @property
    def intrinsics(self) -> tuple[float, float, float, float]:
        """(fx, fy, cx, cy), pixels."""
        return self.fx, self.fy, self.cx, self.cy

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) px when known."""
        return None if self.width is None else (self.width, self.height)

    @property
    def hfov_deg(self) -> float:
        if self.width is None:
            raise CameraError("the field of view needs the image width")
        return float(np.degrees(2 * np.arctan(self.width / (2 * self.fx))))

    # -- the same camera for another image ----------------------------------------------------------------------
    def scaled(self, sx: float, sy: float | None = None) -> Camera:
        """For the image resized by ``sx`` (and ``sy``, default ``sx``)."""
        sy = sx if sy is None else sy
        w = None if self.width is None else int(round(self.width * sx))
        h = None if self.height is None else int(round(self.height * sy))
        return Camera(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, w, h)

    def resized(self, width: int, height: int) -> Camera:
        """For the image resized to ``width`` x ``height`` (the size must be known)."""
        if self.width is None:
            raise CameraError("resizing a camera needs its image size")
        sx, sy = width / self.width, height / self.height
        return Camera(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, width, height)

    def cropped(self, x0: float, y0: float, width: int | None = None, height: int | None = None) -> Camera:
        """For the window of the image whose top-left corner is at (x0, y0) px."""
        return Camera(self.fx, self.fy, self.cx - x0, self.cy - y0, width, height)

    def warped(self, A: np.ndarray, width: int | None = None, height: int | None = None) -> Camera:
        """For the image warped by the (2,3) affine ``A`` (image px -> new px) made of a scale and a shift, as the
        crops of refinement are."""
        A = np.asarray(A, dtype=np.float64)
        if A.shape != (2, 3) or abs(A[0, 1]) > 1e-9 or abs(A[1, 0]) > 1e-9:
            raise CameraError("a pinhole camera follows only a scaling and shifting warp (no rotation, no skew)")
        return Camera(A[0, 0] * self.fx, A[1, 1] * self.fy, A[0, 0] * self.cx + A[0, 2], A[1, 1] * self.cy + A[1, 2],
                      width, height)

    # -- points and pixels -----------------------------------------------------------------------------------
    def project(self, points: np.ndarray, eps: float = 1e-6) -> np.ndarray:
        """(N,3) camera coordinates (m) -> (N,2) pixels."""
        p = np.asarray(points, dtype=np.float64)
        z = np.maximum(p[..., 2:3], eps)
        return p[..., :2] / z * np.array([self.fx, self.fy]) + np.array([self.cx, self.cy])

    def backproject(self, uv: np.ndarray, depth) -> np.ndarray:
        """(N,2) pixels at depth(s) z (m) -> (N,3) camera coordinates."""
        uv = np.asarray(uv, dtype=np.float64)
        z = np.asarray(depth, dtype=np.float64)[..., None] * np.ones(uv.shape[:-1] + (1,))
        xy = (uv - np.array([self.cx, self.cy])) / np.array([self.fx, self.fy]) * z
        return np.concatenate([xy, z], -1)

    def to_json(self) -> dict:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}

    @classmethod
    def from_json(cls, d: dict) -> Camera:
        try:
            return cls(d["fx"], d["fy"], d["cx"], d["cy"], d.get("width"), d.get("height"))
        except (KeyError, TypeError, AttributeError):
            raise CameraError(f"a camera's JSON has fx, fy, cx, cy (and width, height), got {d!r}") from None


@dataclass(frozen=True)
class StereoPair:
    """Two cameras and the right camera's pose relative to the left one: x_right = R x_left + t (metres).
    ``size`` is the (width, height) of one view."""

    left: Camera
    right: Camera
    T_right_from_left: np.ndarray = field(default_factory=lambda: np.eye(4))

    def __post_init__(self):
        T = np.asarray(self.T_right_from_left, dtype=np.float64)
        if T.shape != (4, 4):
            raise CameraError(f"T_right_from_left must be a 4x4 rigid transform, got shape {T.shape}")
        if not np.isfinite(T).all():
            raise CameraError("T_right_from_left must be finite (a rigid transform), got NaN or inf in it")
        R = T[:3, :3]
        if not (np.allclose(R @ R.T, np.eye(3), atol=1e-3) and np.linalg.det(R) > 0):
            raise CameraError("the right camera's rotation R must be a rotation matrix (orthonormal, determinant "
                              f"+1), got det {np.linalg.det(R):.3g}")
        if not np.allclose(T[3], [0, 0, 0, 1]):
            raise CameraError(f"T_right_from_left's last row must be 0 0 0 1, got {T[3].tolist()}")
        object.__setattr__(self, "T_right_from_left", T)

    @property
    def R(self) -> np.ndarray:
        return self.T_right_from_left[:3, :3]

    @property
    def t(self) -> np.ndarray:
        return self.T_right_from_left[:3, 3]

    @property
    def baseline(self) -> float:
        """Distance between the two camera centres, m."""
        return float(np.linalg.norm(self.R.T @ self.t))

    @property
    def size(self) -> tuple[int, int] | None:
        return self.left.size

    def resized(self, width: int, height: int) -> StereoPair:
        """The pair for views of another size (both cameras' intrinsics scaled)."""
        return StereoPair(self.left.resized(width, height), self.right.resized(width, height), self.T_right_from_left)

    def to_right(self, points):
        """Left-camera coordinates (...,3) -> right-camera coordinates; numpy arrays or torch tensors."""
        torch = sys.modules.get("torch")  # a tensor cannot exist without torch imported; numpy needs no torch
        if torch is not None and torch.is_tensor(points):
            T = torch.as_tensor(self.T_right_from_left, dtype=points.dtype, device=points.device)
            return points @ T[:3, :3].T + T[:3, 3]
        return np.asarray(points) @ self.R.T + self.t

    def triangulate(self, uv_left: np.ndarray, uv_right: np.ndarray) -> np.ndarray:
        """(N,2) pixel pairs -> (N,3) points in left-camera coordinates (m), by linear (DLT) triangulation; NaN
        where a pair has no finite solution."""
        return triangulate([self.left, self.right], [np.eye(4), self.T_right_from_left], [uv_left, uv_right])

    @functools.cached_property
    def fundamental(self) -> np.ndarray:
        """(3,3) the fundamental matrix F: x_right^T F x_left = 0 for the pixels (homogeneous) of one 3D point.
        Computed once per pair, with the intrinsics inverted in closed form: LAPACK's inverse of a 3x3 cost ~2 ms
        per call in the live process (its thread pool contending with torch's and MediaPipe's) where it ran per
        frame."""
        tx = np.array([[0.0, -self.t[2], self.t[1]], [self.t[2], 0.0, -self.t[0]], [-self.t[1], self.t[0], 0.0]])
        return _inverse_intrinsics(self.right.K).T @ tx @ self.R @ _inverse_intrinsics(self.left.K)

    def epipolar_distance(self, uv_left: np.ndarray, uv_right: np.ndarray) -> np.ndarray:
        """(N,) distance (px, in the right image) of each right point from the epipolar line of its left point:
        0 for the two images of one 3D point."""
        F = self.fundamental
        ul = np.hstack([np.asarray(uv_left, np.float64), np.ones((len(uv_left), 1))])
        ur = np.hstack([np.asarray(uv_right, np.float64), np.ones((len(uv_right), 1))])
        lines = ul @ F.T  # (N,3): a u + b v + c = 0 in the right image
        return np.abs((lines * ur).sum(1)) / np.maximum(np.linalg.norm(lines[:, :2], axis=1), 1e-12)

    def to_json(self) -> dict:
        """The calibration layout of recordings: K_left, K_right (3x3), T_right_from_left (4x4), size [w, h]."""
        return {"K_left": self.left.K.tolist(), "K_right": self.right.K.tolist(),
                "T_right_from_left": self.T_right_from_left.tolist(), "size": list(self.size) if self.size else None}

    @classmethod
    def from_json(cls, d: dict) -> StereoPair:
        try:
            size = d.get("size") or (None, None)
            return cls(Camera.from_K(d["K_left"], *size), Camera.from_K(d["K_right"], *size),
                       np.asarray(d["T_right_from_left"], dtype=np.float64))
        except (KeyError, TypeError, ValueError) as exc:
            raise CameraError(f"a stereo calibration's JSON has K_left, K_right, T_right_from_left, size ({exc})") \
                from None


def _inverse_intrinsics(K: np.ndarray) -> np.ndarray:
    """The inverse of an intrinsics matrix [[fx, s, cx], [0, fy, cy], [0, 0, 1]], in closed form."""
    fx, s, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    return np.array([[1.0 / fx, -s / (fx * fy), (s * cy - cx * fy) / (fx * fy)], [0.0, 1.0 / fy, -cy / fy],
                     [0.0, 0.0, 1.0]])


def triangulate(cameras: list[Camera], T_from_ref: list[np.ndarray], uvs: list[np.ndarray]) -> np.ndarray:
    """Points seen by several cameras -> (N,3) in the reference camera's coordinates (m), by linear (DLT)
    triangulation. ``T_from_ref[v]`` (4,4) maps reference-camera coordinates to camera v's; ``uvs[v]`` (N,2) px,
    NaN where that camera does not see the point. NaN where fewer than two cameras see a point or the solution is
    degenerate."""
    P = [cam.K @ np.asarray(T, np.float64)[:3] for cam, T in zip(cameras, T_from_ref, strict=True)]
    uvs = [np.asarray(uv, np.float64) for uv in uvs]
    out = np.full((len(uvs[0]), 3), np.nan)
    for i in range(len(out)):
        rows = []
        for Pv, uv in zip(P, uvs, strict=True):
            if np.isfinite(uv[i]).all():
                rows += [uv[i, 0] * Pv[2] - Pv[0], uv[i, 1] * Pv[2] - Pv[1]]
        if len(rows) >= 4:
            X = np.linalg.svd(np.stack(rows))[2][-1]
            if abs(X[3]) > 1e-12:
                out[i] = X[:3] / X[3]
    return out


def calibration_to_json(cameras: Camera | StereoPair) -> dict:
    """A source's cameras in the recordings' calibration layout (a mono camera has K_right = None)."""
    if isinstance(cameras, StereoPair):
        return cameras.to_json()
    return {"K_left": cameras.K.tolist(), "K_right": None, "T_right_from_left": None,
            "size": list(cameras.size) if cameras.size else None}


def calibration_from_json(d: dict) -> Camera | StereoPair:
    """Inverse of ``calibration_to_json``."""
    if not isinstance(d, dict) or d.get("K_left") is None:
        raise CameraError(f"a calibration's JSON has at least K_left, got {d!r}")
    if d.get("K_right") is not None and d.get("T_right_from_left") is not None:
        return StereoPair.from_json(d)
    return Camera.from_K(d["K_left"], *(d.get("size") or (None, None)))


# -- batched torch conversions (renderers, the keypoint fit) ----------------------------------------------------
def _torch():
    import torch  # here, not at the top: the camera module itself stays light (the command line imports it)

    return torch


def project_points(points: torch.Tensor, K: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """points (B,N,3) camera coordinates, K (B,3,3) -> (B,N,2) pixels (depths clamped to ``eps``)."""
    uv = points[..., :2] / points[..., 2:3].clamp_min(eps)
    torch = _torch()
    return uv * torch.stack([K[:, 0, 0], K[:, 1, 1]], -1)[:, None] + torch.stack([K[:, 0, 2], K[:, 1, 2]], -1)[:, None]


def backproject_points(uv: torch.Tensor, depth: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """uv (B,N,2) pixels at depths (B,N) -> (B,N,3) camera coordinates, K (B,3,3)."""
    x = (uv[..., 0] - K[:, None, 0, 2]) / K[:, None, 0, 0] * depth
    y = (uv[..., 1] - K[:, None, 1, 2]) / K[:, None, 1, 1] * depth
    return _torch().stack([x, y, depth], -1)


def mean_focal(K: torch.Tensor) -> torch.Tensor:
    """(B,) mean of fx and fy of K (B,3,3)."""
    return 0.5 * (K[:, 0, 0] + K[:, 1, 1])


def scale_intrinsics(K: torch.Tensor, s: float) -> torch.Tensor:
    """K (B,3,3) of images scaled by ``s`` (supersampling)."""
    out = K.clone()
    out[:, :2] *= s
    return out


def clip_coordinates(verts_cam: torch.Tensor, K: torch.Tensor, height: int, width: int,
                     near: float = 0.01, far: float = 10.0) -> torch.Tensor:
    """(B,V,4) OpenGL clip-space positions of camera coordinates (metres) seen with K (B,3,3), such that a
    rasteriser's output row i is image row i (y down) and pixel centres sit at integer + 0.5 (nvdiffrast)."""
    x, y, z = verts_cam.unbind(-1)
    u = K[:, 0, 0, None] * x + K[:, 0, 2, None] * z  # u * z
    v = K[:, 1, 1, None] * y + K[:, 1, 2, None] * z
    cx = 2.0 * u / width - z
    cy = 2.0 * v / height - z
    cz = (z * (far + near) - 2.0 * far * near) / (far - near)
    return _torch().stack([cx, cy, cz, z], -1)

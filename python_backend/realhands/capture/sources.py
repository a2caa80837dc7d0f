"""Frame sources: cameras, files and the synthetic stereo sequence, as iterators of CapturedFrame.

Every source yields RGB uint8 views (the left one first), their intrinsics and, for stereo, the right camera's
pose. Cameras that stop delivering are reopened with exponential backoff (``Reconnecting``), so a cable pulled
out for a moment costs frames, not the session.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from .calibration import StereoCalibration

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class SourceError(RuntimeError):
    """A source cannot be opened or has failed for good; the message says what to check."""


@dataclass
class CapturedFrame:
    """One capture: views (1 or 2) RGB uint8 (H,W,3), K per view (3,3) px, capture time (ns, the source's
    clock), the right camera's pose relative to the left one (4,4, metres) for stereo, ground truth if known."""

    index: int
    capture_ns: int
    views: list
    K: list
    T_right_from_left: np.ndarray | None = None
    ground_truth: dict | None = None
    meta: dict = field(default_factory=dict)

    @property
    def stereo(self) -> bool:
        return len(self.views) == 2


def default_K(width: int, height: int, hfov_deg: float = 60.0) -> np.ndarray:
    f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2)
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1.0]])


class Source:
    """Base class: iterate for frames; ``fps`` is the nominal rate (None: as fast as read), ``live`` says
    frames arrive in real time (a camera) rather than on demand (a file)."""

    name = "source"
    fps: float | None = None
    live = False
    stereo = False

    def __iter__(self) -> Iterator[CapturedFrame]:
        raise NotImplementedError

    def close(self):
        pass


class SyntheticSource(Source):
    """The synthetic stereo gesture sequence with ground truth (rendered once, then played)."""

    def __init__(self, kind: str = "mixed", num_frames: int = 60, fps: float = 30.0, resolution: str = "640x480",
                 seed: int = 0, side: str = "right", model_path=None, stereo: bool = True, progress: bool = True):
        from ..synth.generate import SynthConfig, SynthGenerator

        gen = SynthGenerator(SynthConfig(rig="zedm", resolution=resolution, background_style="everyday",
                                         egocentric_ratio=1.0), seed=seed, model_path=model_path)
        self.samples = gen.sequence(0, kind=kind, num_frames=num_frames, fps=fps, side=side)
        self.fps, self.stereo = fps, stereo
        self.name = f"synthetic:{kind} ({num_frames} frames, {resolution}, {'stereo' if stereo else 'mono'})"

    def __len__(self):
        return len(self.samples)

    def __iter__(self):
        t0 = time.time_ns()
        for i, s in enumerate(self.samples):
            views, K = [s.rgb_left], [s.K_left]
            if self.stereo:
                views.append(s.rgb_right)
                K.append(s.K_right)
            gt = {"side": s.side, "joints": s.joints3d, "vertices": s.vertices, "mask": s.label_left == 1}
            yield CapturedFrame(i, t0 + int(i * 1e9 / self.fps), views, K,
                                s.T_right_from_left if self.stereo else None, gt)


def _split_side_by_side(img: np.ndarray) -> list[np.ndarray]:
    w = img.shape[1] // 2
    return [img[:, :w], img[:, w: 2 * w]]


class VideoFileSource(Source):
    """A video file; ``calibration`` makes it a side-by-side stereo recording (left | right)."""

    def __init__(self, path: str | Path, calibration: StereoCalibration | None = None, intrinsics=None):
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video not found: {self.path}")
        cap = cv2.VideoCapture(str(self.path))
        ok = cap.isOpened()
        self.fps = (cap.get(cv2.CAP_PROP_FPS) or 30.0) if ok else None
        cap.release()
        if not ok:
            raise SourceError(f"{self.path} is not a readable video (OpenCV could not open it)")
        self.calibration, self.intrinsics, self.stereo = calibration, intrinsics, calibration is not None
        self.name = f"video:{self.path.name}"

    def __iter__(self):
        cap = cv2.VideoCapture(str(self.path))
        i, t0 = 0, time.time_ns()
        try:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    return
                yield _frame(i, t0 + int(i * 1e9 / self.fps), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.calibration,
                             self.intrinsics)
                i += 1
        finally:
            cap.release()


def _frame(i, t_ns, rgb, calibration, intrinsics) -> CapturedFrame:
    if calibration is not None:
        views = _split_side_by_side(rgb)
        cal = calibration.scaled(views[0].shape[1], views[0].shape[0])
        return CapturedFrame(i, t_ns, views, [cal.K_left, cal.K_right], cal.T_right_from_left)
    h, w = rgb.shape[:2]
    K = default_K(w, h) if intrinsics is None else np.array(
        [[intrinsics[0], 0, intrinsics[2]], [0, intrinsics[1], intrinsics[3]], [0, 0, 1.0]])
    return CapturedFrame(i, t_ns, [rgb], [K])


class ImageFolderSource(Source):
    """The images of a folder in name order; unreadable files are skipped with a warning in ``skipped``."""

    def __init__(self, folder: str | Path, intrinsics=None, fps: float = 10.0):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}")
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"{self.folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
        self.intrinsics, self.fps, self.skipped = intrinsics, fps, []
        self.name = f"images:{self.folder.name} ({len(self.files)})"

    def __iter__(self):
        t0 = time.time_ns()
        for i, p in enumerate(self.files):
            bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if bgr is None:
                self.skipped.append(str(p))
                continue
            yield _frame(i, t0 + int(i * 1e9 / self.fps), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None, self.intrinsics)


class Reconnecting(Source):
    """A live camera opened by ``open_fn`` (returns an object with read() -> (ok, bgr) and release()); when
    reads fail it is released and reopened after 0.5, 1, 2, 4, 5, 5... s until ``give_up_s`` passes."""

    live = True

    def __init__(self, name: str, open_fn: Callable, calibration: StereoCalibration | None = None,
                 intrinsics=None, fps: float = 30.0, give_up_s: float = 60.0, backoff=(0.5, 5.0), log=print):
        self.name, self.open_fn, self.calibration, self.intrinsics = name, open_fn, calibration, intrinsics
        self.fps, self.give_up_s, self.backoff, self.log = fps, give_up_s, backoff, log
        self.stereo = calibration is not None
        self.reconnects = 0
        self._stop = False

    def _open(self):
        cap = self.open_fn()
        if cap is None or (hasattr(cap, "isOpened") and not cap.isOpened()):
            if cap is not None:
                cap.release()
            return None
        return cap

    def __iter__(self):
        i, cap, lost_since, delay = 0, self._open(), None, self.backoff[0]
        if cap is None:
            raise SourceError(f"cannot open {self.name}: is it connected, and not used by another program?")
        try:
            while not self._stop:
                ok, bgr = cap.read() if cap is not None else (False, None)
                if ok and bgr is not None:
                    lost_since, delay = None, self.backoff[0]
                    yield _frame(i, time.time_ns(), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.calibration,
                                 self.intrinsics)
                    i += 1
                    continue
                now = time.monotonic()
                lost_since = lost_since or now
                if now - lost_since > self.give_up_s:
                    raise SourceError(f"{self.name} has delivered no frame for {self.give_up_s:.0f} s; giving up")
                if cap is not None:
                    cap.release()
                self.log(f"{self.name}: no frame; reconnecting in {delay:.1f} s")
                time.sleep(delay)
                delay = min(delay * 2, self.backoff[1])
                cap = self._open()
                self.reconnects += cap is not None
        finally:
            if cap is not None:
                cap.release()

    def close(self):
        self._stop = True


def camera_source(device: int | str, calibration: StereoCalibration | None = None, intrinsics=None,
                  width: int | None = None, height: int | None = None, **kw) -> Reconnecting:
    """A UVC camera through OpenCV: a mono webcam, or with ``calibration`` a side-by-side stereo camera (a ZED
    without its SDK, or any other), whose frames are split into left | right."""

    def open_fn():
        cap = cv2.VideoCapture(int(device) if str(device).isdigit() else str(device))
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        return cap

    kind = "uvc-stereo" if calibration is not None else "webcam"
    return Reconnecting(f"{kind}:{device}", open_fn, calibration, intrinsics, **kw)


class ZedSource(Source):
    """A ZED camera through the ZED SDK's Python API (pyzed): rectified left and right views and the factory
    calibration. Needs the ZED SDK installed; without it, use ``camera_source`` with the SN*.conf file."""

    live = True
    stereo = True

    def __init__(self, resolution: str = "HD720", fps: int = 30):
        try:
            import pyzed.sl as sl
        except ImportError:
            raise SourceError("the ZED SDK's Python API (pyzed) is not installed. Install the ZED SDK from "
                              "stereolabs.com and run its get_python_api.py, or read the ZED as a UVC camera: "
                              "--source uvc:0 --calibration SN<serial>.conf") from None
        self.sl, self.fps, self.name = sl, fps, f"zed ({resolution})"
        self.cam = sl.Camera()
        init = sl.InitParameters(camera_resolution=getattr(sl.RESOLUTION, resolution), camera_fps=fps)
        status = self.cam.open(init)
        if status != sl.ERROR_CODE.SUCCESS:
            raise SourceError(f"cannot open the ZED: {status}")
        info = self.cam.get_camera_information().camera_configuration.calibration_parameters
        self.K = [np.array([[c.fx, 0, c.cx], [0, c.fy, c.cy], [0, 0, 1.0]]) for c in (info.left_cam, info.right_cam)]
        self.T = np.eye(4)
        self.T[0, 3] = -info.get_camera_baseline() / 1000.0  # rectified: the right camera is +baseline along x

    def __iter__(self):
        sl = self.sl
        left, right, i = sl.Mat(), sl.Mat(), 0
        failures = 0
        while True:
            err = self.cam.grab()
            if err != sl.ERROR_CODE.SUCCESS:
                failures += 1
                if failures > 5 * self.fps:
                    raise SourceError(f"the ZED stopped delivering frames: {err}")
                time.sleep(0.2)
                continue
            failures = 0
            self.cam.retrieve_image(left, sl.VIEW.LEFT)
            self.cam.retrieve_image(right, sl.VIEW.RIGHT)
            views = [cv2.cvtColor(m.get_data(), cv2.COLOR_BGRA2RGB) for m in (left, right)]
            yield CapturedFrame(i, time.time_ns(), views, list(self.K), self.T.copy())
            i += 1

    def close(self):
        self.cam.close()

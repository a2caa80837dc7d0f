"""Frame sources: cameras and files, as iterators of CapturedFrame (the synthetic sequence and recordings are
sources too; they live beside the pipeline, in realhands.live.sources and realhands.recording).

Every source yields RGB uint8 views (the left one first) and their cameras: a realhands.Camera for one view, a
realhands.StereoPair for two. Cameras that stop delivering are reopened with exponential backoff
(``Reconnecting``), so a cable pulled out for a moment costs frames, not the session.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..camera import Camera, StereoPair
from ..config import IMAGE_SUFFIXES
from ..errors import MediaError, SourceError
from .files import iter_video, open_video, read_image


@dataclass
class CapturedFrame:
    """One capture: views (1 or 2) RGB uint8 (H,W,3), their cameras (a Camera for one view, a StereoPair for two:
    the right camera's pose relative to the left one, metres), the capture time (ns, the source's clock) and the
    ground truth when the source knows it (synthetic, recordings of it: {"side", "joints" (21,3) m, ...})."""

    index: int
    capture_ns: int
    views: list
    cameras: Camera | StereoPair
    ground_truth: dict | None = None

    @property
    def stereo(self) -> bool:
        return isinstance(self.cameras, StereoPair)

    @property
    def camera(self) -> Camera:
        """The first (left) view's camera."""
        return self.cameras.left if self.stereo else self.cameras

    @property
    def pair(self) -> StereoPair | None:
        return self.cameras if self.stereo else None


class Source:
    """Base class: iterate for frames; ``fps`` is the nominal rate (None: as fast as read), ``live`` says
    frames arrive in real time (a camera) rather than on demand (a file); ``cameras`` are the views' cameras when
    known before the first frame (a Camera or a StereoPair; recordings store them), else None."""

    name = "source"
    fps: float | None = None
    live = False
    stereo = False
    cameras: Camera | StereoPair | None = None

    def __iter__(self) -> Iterator[CapturedFrame]:
        raise NotImplementedError

    def close(self):
        pass


def _split_side_by_side(img: np.ndarray) -> list[np.ndarray]:
    w = img.shape[1] // 2
    return [img[:, :w], img[:, w: 2 * w]]


class VideoFileSource(Source):
    """A video file; ``calibration`` makes it a side-by-side stereo recording (left | right)."""

    def __init__(self, path: str | Path, calibration: StereoPair | None = None, camera: Camera | None = None):
        self.path = Path(path)
        try:
            cap, self.fps = open_video(self.path)
        except MediaError as exc:
            raise SourceError(str(exc)) from None
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        if calibration is not None and width >= 2 and height >= 1:
            calibration = calibration.resized(width // 2, height)  # each frame holds left | right
        self.calibration, self.camera, self.stereo = calibration, camera, calibration is not None
        self.cameras = calibration or camera
        self.name = f"video:{self.path.name}"

    def __iter__(self):
        t0 = time.time_ns()
        try:
            for i, t, rgb in iter_video(self.path):
                yield _frame(i, t0 + int(t * 1e9), rgb, self.calibration, self.camera)
        except MediaError:
            return  # an empty or cut video ends the source


def _frame(i, t_ns, rgb, calibration: StereoPair | None, camera: Camera | None) -> CapturedFrame:
    """A frame from one picture: split into left | right with a stereo calibration, else one view."""
    if calibration is not None:
        views = _split_side_by_side(rgb)
        return CapturedFrame(i, t_ns, views, calibration.resized(views[0].shape[1], views[0].shape[0]))
    h, w = rgb.shape[:2]
    return CapturedFrame(i, t_ns, [rgb], Camera.coerce(camera, w, h))


class ImageFolderSource(Source):
    """The images of a folder in name order; unreadable files are skipped with a warning in ``skipped``."""

    def __init__(self, folder: str | Path, camera: Camera | None = None, fps: float = 10.0):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}")
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"{self.folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
        self.camera, self.cameras, self.fps, self.skipped = camera, camera, fps, []
        self.name = f"images:{self.folder.name} ({len(self.files)})"

    def __iter__(self):
        t0 = time.time_ns()
        for i, p in enumerate(self.files):
            try:
                rgb = read_image(p)
            except MediaError:
                self.skipped.append(str(p))
                continue
            yield _frame(i, t0 + int(i * 1e9 / self.fps), rgb, None, self.camera)


class Reconnecting(Source):
    """A live camera opened by ``open_fn`` (returns an object with read() -> (ok, bgr) and release()); when
    reads fail it is released and reopened after 0.5, 1, 2, 4, 5, 5... s until ``give_up_s`` passes."""

    live = True

    def __init__(self, name: str, open_fn: Callable, calibration: StereoPair | None = None,
                 camera: Camera | None = None, fps: float = 30.0, give_up_s: float = 60.0, backoff=(0.5, 5.0),
                 log=print):
        self.name, self.open_fn, self.calibration, self.camera = name, open_fn, calibration, camera
        self.fps, self.give_up_s, self.backoff, self.log = fps, give_up_s, backoff, log
        self.stereo, self.cameras = calibration is not None, calibration or camera
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
                                 self.camera)
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


def camera_source(device: int | str, calibration: StereoPair | None = None, camera: Camera | None = None,
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
    return Reconnecting(f"{kind}:{device}", open_fn, calibration, camera, **kw)


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
        T = np.eye(4)
        T[0, 3] = -info.get_camera_baseline() / 1000.0  # rectified: the right camera is +baseline along x
        self.cameras = StereoPair(*(Camera(c.fx, c.fy, c.cx, c.cy) for c in (info.left_cam, info.right_cam)), T)

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
            yield CapturedFrame(i, time.time_ns(), views, self.cameras)
            i += 1

    def close(self):
        self.cam.close()

"""``--source`` names -> capture sources, and the synthetic stereo sequence as a source.

    synthetic            the shipped synthetic stereo clip (assets/demo_stereo.mcap: 90 frames of the mixed
                         gestures, ground truth), played at once and looped until --frames/--duration
    synthetic:kind       a synthetic stereo gesture sequence rendered first (kinds: mixed, wave, grasp, ...), looped
    webcam[:N]           a mono webcam (OpenCV device N, default 0)
    uvc:N                a side-by-side stereo UVC camera (a ZED without its SDK); needs --calibration
    zed                  a ZED through the ZED SDK (pyzed)
    PATH.mcap            a recording's input frames
    PATH (video)         a video file; with --calibration, side-by-side stereo
    PATH (folder)        the images of a folder
"""
from __future__ import annotations

import time
from pathlib import Path

from ..camera import Camera
from ..capture.calibration import load_calibration
from ..capture.files import media_kind
from ..capture.sources import (
    CapturedFrame,
    ImageFolderSource,
    Source,
    SourceError,
    VideoFileSource,
    ZedSource,
    camera_source,
)
from ..config import SOURCE_FORMS

#: The shipped synthetic clip (``python -m tools.build.demo_clip``): a first frame at once on a fresh machine.
DEMO_CLIP = Path(__file__).resolve().parent.parent / "assets" / "demo_stereo.mcap"


class Looped(Source):
    """A finite source played again and again: frame indices and capture times run on across the loops, so a
    session bounded by --frames/--duration (or stopped) sees one continuous stream."""

    def __init__(self, source: Source):
        self.source = source
        self.name = f"{source.name}, looped"
        self.fps, self.stereo = source.fps, getattr(source, "stereo", False)

    @property
    def cameras(self):
        return self.source.cameras

    def __getattr__(self, name):  # the played source's own attributes (samples, recording, ...), not its length
        if name == "source" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.source, name)

    def __iter__(self):
        index, base, offset, period = 0, None, 0, int(1e9 / (self.fps or 30))
        while True:
            first = last = None
            for f in self.source:
                if first is None:
                    first = f.capture_ns
                    base = first if base is None else base
                last = f.capture_ns - first
                f.index, f.capture_ns = index, base + offset + last
                index += 1
                yield f
            if first is None:
                return
            offset += last + period

    def close(self):
        self.source.close()


class SyntheticSource(Source):
    """The synthetic stereo gesture sequence with ground truth (rendered once, then played)."""

    def __init__(self, kind: str = "mixed", num_frames: int = 60, fps: float = 30.0, resolution: str = "640x480",
                 seed: int = 0, side: str = "right", model_path=None, stereo: bool = True, progress: bool = True):
        from ..synth.generate import SynthConfig, SynthGenerator

        gen = SynthGenerator(SynthConfig(rig="zedm", resolution=resolution, background_style="everyday",
                                         egocentric_ratio=1.0), seed=seed, model_path=model_path)
        self.samples = gen.sequence(0, kind=kind, num_frames=num_frames, fps=fps, side=side)
        self.fps, self.stereo, self.pair = fps, stereo, self.samples[0].pair
        self.name = f"synthetic:{kind} ({num_frames} frames, {resolution}, {'stereo' if stereo else 'mono'})"

    @property
    def cameras(self):
        """Both views' cameras when stereo, else the left one (``stereo`` may be switched before playing)."""
        return self.pair if self.stereo else self.pair.left

    def __len__(self):
        return len(self.samples)

    def __iter__(self):
        t0 = time.time_ns()
        stereo, cameras = self.stereo, self.cameras
        for i, s in enumerate(self.samples):
            views = [s.rgb_left, s.rgb_right] if stereo else [s.rgb_left]
            gt = {"side": s.side, "joints": s.joints3d, "vertices": s.vertices, "mask": s.label_left == 1}
            yield CapturedFrame(i, t0 + int(i * 1e9 / self.fps), views, cameras, gt)


def open_source(name: str, calibration: str | None = None, camera: Camera | None = None, frames: int = 60,
                model_path=None, stereo: bool = True, loop: bool = True, log=print) -> Source:
    """The capture source called ``name`` (see the module docstring). ``frames``: the length of a rendered
    synthetic sequence; ``loop``: synthetic sources play on until the session is bounded or stopped."""
    if not isinstance(name, str) or not name.strip():
        raise SourceError(f"the source is empty; name one ({SOURCE_FORMS}), or leave --source out for the default")
    kind, _, arg = name.partition(":")
    if calibration and (kind in ("synthetic", "webcam", "zed") or Path(name).suffix.lower() == ".mcap"
                        or Path(name).is_dir()):
        raise SourceError(f"--calibration is for side-by-side stereo sources (uvc:N, a side-by-side video file); "
                          f"{name} does not take one (a synthetic clip and a recording carry "
                          "their cameras, a ZED reads its own, a webcam and an image folder are one view)")
    if kind == "synthetic":
        if not arg and model_path is None and DEMO_CLIP.is_file():
            from ..recording import recording_source

            clip = recording_source(DEMO_CLIP)
            clip.name = "synthetic (the shipped stereo clip)"
            clip.stereo = clip.stereo and stereo
            return Looped(clip) if loop else clip
        src = SyntheticSource(kind=arg or "mixed", num_frames=frames, model_path=model_path, stereo=stereo)
        return Looped(src) if loop else src
    if kind in ("webcam", "uvc") and arg and not (arg.isdigit() or "://" in arg or Path(arg).exists()):
        raise SourceError(f"{name}: {arg!r} is not a camera index ({kind}:0), a device path ({kind}:/dev/video0) "
                          "or a stream URL")
    if kind == "webcam":
        return camera_source(arg or 0, camera=camera, log=log)
    if kind == "uvc":
        if not calibration:
            raise SourceError("a side-by-side stereo camera needs its calibration: --calibration SN<serial>.conf "
                              "(the ZED factory file) or an OpenCV stereo YAML")
        return camera_source(arg or 0, calibration=load_calibration(calibration, width=None), log=log)
    if kind == "zed":
        return ZedSource()
    path = Path(name)
    if path.suffix.lower() == ".mcap":
        from ..recording import recording_source

        return recording_source(path, log=log)
    if path.is_dir():
        return ImageFolderSource(path, camera=camera)
    if media_kind(path) == "video" or path.is_file():
        cal = None
        if calibration:
            import cv2

            cap = cv2.VideoCapture(str(path))
            width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) // 2
            cap.release()
            cal = load_calibration(calibration, width=width)
        return VideoFileSource(path, calibration=cal, camera=camera)
    raise SourceError(f"unknown source {name!r}: not a file or folder, and not one of {SOURCE_FORMS}")

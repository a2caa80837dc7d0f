"""``--source`` names -> capture sources.

    synthetic[:kind]     the synthetic stereo gesture sequence (kinds: mixed, wave, grasp, ...), ground truth
    webcam[:N]           a mono webcam (OpenCV device N, default 0)
    uvc:N                a side-by-side stereo UVC camera (a ZED without its SDK); needs --calibration
    zed                  a ZED through the ZED SDK (pyzed)
    PATH.mcap            a recording's input frames
    PATH (video)         a video file; with --calibration, side-by-side stereo
    PATH (folder)        the images of a folder
"""
from __future__ import annotations

from pathlib import Path

from ..capture.calibration import load_calibration
from ..capture.sources import (VIDEO_SUFFIXES, ImageFolderSource, SourceError, SyntheticSource, VideoFileSource,
                               ZedSource, camera_source)


def open_source(name: str, calibration: str | None = None, intrinsics=None, frames: int = 60, model_path=None,
                stereo: bool = True, log=print):
    """The capture source called ``name`` (see the module docstring)."""
    kind, _, arg = name.partition(":")
    if kind == "synthetic":
        return SyntheticSource(kind=arg or "mixed", num_frames=frames, model_path=model_path, stereo=stereo)
    if kind == "webcam":
        return camera_source(arg or 0, intrinsics=intrinsics, log=log)
    if kind == "uvc":
        if not calibration:
            raise SourceError("a side-by-side stereo camera needs its calibration: --calibration SN<serial>.conf "
                              "(the ZED factory file) or an OpenCV stereo YAML")
        return camera_source(arg or 0, calibration=load_calibration(calibration), log=log)
    if kind == "zed":
        return ZedSource()
    path = Path(name)
    if path.suffix.lower() == ".mcap":
        from ..recording import recording_source

        return recording_source(path)
    if path.is_dir():
        return ImageFolderSource(path, intrinsics=intrinsics)
    if path.suffix.lower() in VIDEO_SUFFIXES or path.is_file():
        cal = None
        if calibration:
            import cv2

            cap = cv2.VideoCapture(str(path))
            width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) // 2
            cap.release()
            cal = load_calibration(calibration, width=width)
        return VideoFileSource(path, calibration=cal, intrinsics=intrinsics)
    raise SourceError(f"unknown source {name!r}: not a file or folder, and not one of synthetic[:kind], "
                      "webcam[:N], uvc:N, zed")

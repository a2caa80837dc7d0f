"""Capture: cameras (ZED via pyzed, side-by-side stereo UVC, webcams), video files and image folders as iterators of
CapturedFrame (each with its realhands.Camera or StereoPair); stereo calibration files; reading image and video files.

Sources that need more than a camera live beside what they need: the synthetic sequence in realhands.live.sources,
recordings in realhands.recording."""
from ..errors import CalibrationError, MediaError, SourceError
from .calibration import load_calibration, load_yaml, load_zed_conf
from .files import expand_media, iter_video, media_kind, read_image
from .sources import CapturedFrame, ImageFolderSource, Reconnecting, Source, VideoFileSource, ZedSource, camera_source

__all__ = ["CalibrationError", "CapturedFrame", "ImageFolderSource", "MediaError", "Reconnecting", "Source",
           "SourceError", "VideoFileSource", "ZedSource", "camera_source", "expand_media", "iter_video",
           "load_calibration", "load_yaml", "load_zed_conf", "media_kind", "read_image"]

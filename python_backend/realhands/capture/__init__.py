"""Capture: cameras (ZED via pyzed, side-by-side stereo UVC, webcams), video files, image folders and the
synthetic stereo sequence, as iterators of CapturedFrame; stereo calibration files."""
from .calibration import CalibrationError, StereoCalibration, load_calibration, load_yaml, load_zed_conf
from .sources import (CapturedFrame, ImageFolderSource, Reconnecting, Source, SourceError, SyntheticSource,
                      VideoFileSource, ZedSource, camera_source, default_K)

__all__ = ["CalibrationError", "CapturedFrame", "ImageFolderSource", "Reconnecting", "Source", "SourceError",
           "StereoCalibration", "SyntheticSource", "VideoFileSource", "ZedSource", "camera_source", "default_K",
           "load_calibration", "load_yaml", "load_zed_conf"]

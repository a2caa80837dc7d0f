"""Every error RealHands raises on purpose, in one place (no heavy imports, so anything can catch them cheaply).

Each says what went wrong and how to fix it. All derive from ``RealHandsError``, so an application (the command
line) catches them in one clause; each also keeps the built-in base a caller would expect (ValueError for bad
input, RuntimeError for a resource that is missing or broken).
"""
from __future__ import annotations


class RealHandsError(Exception):
    """Base of the errors below: a clear, actionable message, never a bug."""


class ConfigError(RealHandsError, ValueError):
    """A configuration file or value is wrong; the message says which and how to fix it."""


class CameraError(RealHandsError, ValueError):
    """Camera intrinsics or a stereo calibration are malformed (non-finite, non-positive focal length, skew)."""


class CalibrationError(CameraError):
    """A calibration file is missing, unreadable or lacks a value; the message names it."""


class ModelFileError(RealHandsError, RuntimeError):
    """A model file is missing, unreadable, unsafe or not MANO-format."""


class PersonalHandError(RealHandsError, RuntimeError):
    """A saved personal hand (realhands capture-hand) is missing, damaged, or was captured with another hand model;
    the message names the file."""


class DatasetError(RealHandsError, RuntimeError):
    """A dataset folder, shard or annotation file is missing, corrupt or of another dataset; the message names the
    file."""


class MediaError(RealHandsError, ValueError):
    """An input image or video is missing, unreadable or not a picture at all."""


class OutputError(RealHandsError, OSError):
    """An output file or folder cannot be written (read-only, a folder where a file goes, an input in the way)."""


class SourceError(RealHandsError, RuntimeError):
    """A capture source cannot be opened or has failed for good; the message says what to check."""


class OnnxError(RealHandsError, RuntimeError):
    """The ONNX model is missing, corrupt, or onnxruntime is not installed."""


class RecipeError(RealHandsError, ValueError):
    """A training recipe is missing, malformed or names an unknown stage."""


class CheckpointError(RealHandsError, RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or of another model."""


class WireError(RealHandsError, ValueError):
    """A message is malformed, truncated, of another major version or of an unknown type."""


class StreamConfigError(RealHandsError, ValueError):
    """The endpoint or the security settings are wrong; the message says how to fix them."""


class RecordingError(RealHandsError, ValueError):
    """A recording is missing, not MCAP, or not a RealHands recording; the message says which."""

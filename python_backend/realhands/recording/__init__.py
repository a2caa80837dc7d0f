"""Session recording and reading (MCAP)."""
from .mcap_io import (Recorder, Recording, RecordingError, decode_image, pack_frames, read_recording,
                      recording_source, unpack_frames)

__all__ = ["Recorder", "Recording", "RecordingError", "decode_image", "pack_frames", "read_recording",
           "recording_source", "unpack_frames"]

"""Session recordings (MCAP): writing them (``Recorder``, and ``RecordingSink``, the live pipeline's recording sink),
reading them back, and playing their input frames as a capture source."""
from ..errors import RecordingError
from .mcap_io import Recorder, Recording, decode_image, pack_frames, read_recording, recording_source, unpack_frames
from .sink import RecordingSink

__all__ = ["Recorder", "Recording", "RecordingError", "RecordingSink", "decode_image", "pack_frames",
           "read_recording", "recording_source", "unpack_frames"]

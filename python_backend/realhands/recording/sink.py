"""A live session's recording, as a sink the pipeline hands its data to: the input views as the pipeline saw them
(JPEG), every message sent (byte for byte; rigs also attached), the hand meshes and the ground truth.

    sink = RecordingSink.open("session.mcap", source, live_config, endpoint)
    jpegs = sink.prepare(frame)            # capture thread: views -> JPEG -> the decoded pixels the pipeline uses
    sink.add_inputs(frame, jpegs)          # perception thread: every frame MediaPipe went through
    sink.add_processed(frame)              # reconstruction thread: every frame reconstructed
    sink.add_messages(messages)            # publish thread: realhands.streaming.Outgoing, in order
    sink.add_result(frame, hands, faces)   # publish thread: meshes and ground truth
    sink.close()
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..camera import calibration_to_json
from .mcap_io import GT_TOPIC, PROCESSED_TOPIC, Recorder, pack_frames


class RecordingSink:
    """Writes a session through a Recorder; safe to call from the pipeline's threads (the Recorder locks)."""

    def __init__(self, recorder: Recorder, jpeg_quality: int = 92):
        self.recorder, self.jpeg_quality = recorder, jpeg_quality

    @classmethod
    def open(cls, path: str | Path, source, config=None, endpoint: str | None = None) -> RecordingSink:
        """A new recording at ``path`` with the session's metadata: the source, its frame rate, the live
        configuration and the cameras (when the source knows them before its first frame)."""
        meta = {"source": source.name, "fps": str(source.fps or 30),
                "config": json.dumps({"live": asdict(config) if config is not None else None,
                                      "stream": {"endpoint": endpoint}}, default=str)}
        if source.cameras is not None:
            meta["calibration"] = calibration_to_json(source.cameras)
        return cls(Recorder(path, meta))

    def prepare(self, frame) -> list[bytes]:
        """JPEG-encode the views for the recording and go on with the decoded pixels, so that the pipeline sees
        exactly what a re-run of the recording will see. Returns the JPEG bytes, one per view."""
        import cv2

        jpegs, views = [], []
        for img in frame.views:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                raise ValueError("could not JPEG-encode a frame")
            jpegs.append(buf.tobytes())
            views.append(cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
        frame.views = views
        return jpegs

    def add_inputs(self, frame, jpegs: list[bytes]) -> None:
        for v, jpg in enumerate(jpegs):
            self.recorder.add_image(v, frame.capture_ns, jpg, frame.index)

    def add_processed(self, frame) -> None:
        """The reconstruction stage took this frame (in real time some are dropped before it)."""
        self.recorder.add_json(PROCESSED_TOPIC, frame.capture_ns, {"frame": frame.index})

    def add_messages(self, messages) -> None:
        for m in messages:
            self.recorder.add_wire(m.frames)
            if m.kind == "rig":
                self.recorder.attach(f"rig_{m.side}_v{m.version}.bin", pack_frames(m.frames))

    def add_result(self, frame, hands, faces: dict) -> None:
        """The frame's meshes (``faces``: per handedness) and, for synthetic sources, its ground truth."""
        self.recorder.add_scene(frame.index, frame.capture_ns,
                                [(h.handedness, h.vertices, faces[h.handedness]) for h in hands])
        gt = frame.ground_truth
        if gt is not None:
            self.recorder.add_json(GT_TOPIC, frame.capture_ns, {"frame": frame.index, "side": gt["side"],
                                                                "joints": np.round(gt["joints"], 5).tolist()})

    def close(self) -> None:
        self.recorder.close()  # writes the summary: a complete, indexed file

"""Session recordings as MCAP files: input frames, the exact published messages, calibration and rig.

Channels:
  /camera/left, /camera/right  foxglove.CompressedImage (JSON, JPEG bytes in base64): the input frames
  /realhands/wire              each published ZeroMQ multipart message, byte for byte (encoding below)
  /hands                       foxglove.SceneUpdate (JSON): the hand meshes, every ``scene_every``-th frame
  /realhands/ground_truth      JSON, synthetic sources only
  /realhands/processed         JSON {"frame"}: each frame the reconstruction stage processed (re-runs repeat them)
Metadata "realhands" holds the version, source and calibration (JSON); the rig message is also attached.

Wire messages are stored as ``u32 count, then per frame u32 length + bytes`` (little-endian), so replay sends
exactly what was published. Chunks are small (``chunk_size``) and flushed to disk as they fill, so a
recording cut off mid-write (a crash, a full disk) reads back up to its last complete chunk.
"""
from __future__ import annotations

import base64
import json
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CameraError, OutputError, RecordingError

WIRE_TOPIC = "/realhands/wire"
WIRE_ENCODING = "realhands-zmq-multipart"
CAMERA_TOPICS = ("/camera/left", "/camera/right")
SCENE_TOPIC = "/hands"
GT_TOPIC = "/realhands/ground_truth"
#: the frames the reconstruction stage processed (a real-time run drops some): a re-run processes the same ones
PROCESSED_TOPIC = "/realhands/processed"

_COMPRESSED_IMAGE_SCHEMA = {
    "title": "foxglove.CompressedImage", "type": "object",
    "properties": {
        "timestamp": {"type": "object", "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}}},
        "frame_id": {"type": "string"},
        "data": {"type": "string", "contentEncoding": "base64"},
        "format": {"type": "string"},
    },
}
_SCENE_UPDATE_SCHEMA = {
    "title": "foxglove.SceneUpdate", "type": "object",
    "properties": {"deletions": {"type": "array"}, "entities": {"type": "array"}},
}



def pack_frames(frames: list[bytes]) -> bytes:
    return struct.pack("<I", len(frames)) + b"".join(struct.pack("<I", len(f)) + bytes(f) for f in frames)


def unpack_frames(data: bytes) -> list[bytes]:
    """Inverse of pack_frames; RecordingError when the bytes are cut short."""
    try:
        (n,), off, out = struct.unpack_from("<I", data, 0), 4, []
        for _ in range(n):
            (k,) = struct.unpack_from("<I", data, off)
            off += 4
            if off + k > len(data):
                raise struct.error("short")
            out.append(bytes(data[off: off + k]))
            off += k
    except struct.error:
        raise RecordingError("a stored wire message is cut short") from None
    return out


def _stamp(ns: int) -> dict:
    return {"sec": int(ns // 1_000_000_000), "nsec": int(ns % 1_000_000_000)}


class Recorder:
    """Write a session to ``path`` (.mcap); safe to call from several threads."""

    def __init__(self, path: str | Path, metadata: dict, chunk_size: int = 256 * 1024, scene_every: int = 3):
        from mcap.writer import CompressionType, Writer

        self.path = Path(path)
        if self.path.is_dir():
            raise OutputError(f"{self.path} is a folder; give a recording file name, e.g. {self.path / 'session.mcap'}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb")  # noqa: SIM115 (the recorder's lifetime; closed by close())
        except OSError as exc:
            raise OutputError(f"cannot write the recording {self.path}: {exc.strerror or exc}") from None
        try:
            import zstandard  # noqa: F401
            compression = CompressionType.ZSTD
        except ImportError:
            compression = CompressionType.NONE
        self._w = Writer(self._file, chunk_size=chunk_size, compression=compression)
        self._w.start(profile="", library="realhands")
        self._w.add_metadata("realhands", {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})
        from ..streaming.wire import spec

        wire_schema = self._w.register_schema("realhands-wire", "realhands-wire-spec+json",
                                              json.dumps(spec()).encode())
        img = self._w.register_schema("foxglove.CompressedImage", "jsonschema",
                                      json.dumps(_COMPRESSED_IMAGE_SCHEMA).encode())
        scene = self._w.register_schema("foxglove.SceneUpdate", "jsonschema", json.dumps(_SCENE_UPDATE_SCHEMA).encode())
        self._ch = {WIRE_TOPIC: self._w.register_channel(WIRE_TOPIC, WIRE_ENCODING, wire_schema),
                    SCENE_TOPIC: self._w.register_channel(SCENE_TOPIC, "json", scene),
                    GT_TOPIC: self._w.register_channel(GT_TOPIC, "json", 0),
                    PROCESSED_TOPIC: self._w.register_channel(PROCESSED_TOPIC, "json", 0)}
        for t in CAMERA_TOPICS:
            self._ch[t] = self._w.register_channel(t, "json", img)
        self.scene_every = max(1, int(scene_every))
        self.messages, self._last_flush, self._attached = 0, time.monotonic(), set()
        self._lock = threading.Lock()

    def _add(self, topic: str, log_ns: int, data: bytes):
        with self._lock:  # the pipeline writes from its perception and publish threads
            self._add_locked(topic, log_ns, data)

    def _add_locked(self, topic: str, log_ns: int, data: bytes):
        self._w.add_message(self._ch[topic], log_time=int(log_ns), data=data, publish_time=int(log_ns),
                            sequence=self.messages)
        self.messages += 1
        if time.monotonic() - self._last_flush > 0.5:  # completed chunks reach the disk within half a second
            self._file.flush()
            self._last_flush = time.monotonic()

    def add_wire(self, frames: list[bytes], log_ns: int | None = None):
        self._add(WIRE_TOPIC, time.time_ns() if log_ns is None else log_ns, pack_frames(frames))

    def attach(self, name: str, data: bytes, media_type: str = "application/octet-stream"):
        """Attach a file once per name (the first rig of each hand, the calibration)."""
        if name in self._attached:
            return
        now = time.time_ns()
        with self._lock:
            self._w.add_attachment(create_time=now, log_time=now, name=name, media_type=media_type, data=data)
        self._attached.add(name)

    def add_image(self, view: int, capture_ns: int, jpeg: bytes, frame_index: int):
        msg = {"timestamp": _stamp(capture_ns), "frame_id": f"{('left', 'right')[view]}#{frame_index}",
               "data": base64.b64encode(jpeg).decode(), "format": "jpeg"}
        self._add(CAMERA_TOPICS[view], capture_ns, json.dumps(msg).encode())

    def add_scene(self, frame_index: int, capture_ns: int, meshes: list[tuple[str, object, object]]):
        """Hand meshes [(name, vertices (V,3) m camera coords, faces (F,3))] as a Foxglove SceneUpdate, every
        ``scene_every``-th frame."""
        if frame_index % self.scene_every:
            return
        entities = []
        for name, v, f in meshes:
            pts = [{"x": round(float(p[0]), 4), "y": round(float(p[1]), 4), "z": round(float(p[2]), 4)} for p in v]
            entities.append({"timestamp": _stamp(capture_ns), "frame_id": "camera_left", "id": name,
                             "lifetime": {"sec": 0, "nsec": 200_000_000}, "frame_locked": False,
                             "triangles": [{"pose": {"position": {"x": 0, "y": 0, "z": 0},
                                                     "orientation": {"x": 0, "y": 0, "z": 0, "w": 1}},
                                            "points": pts, "color": {"r": 0.85, "g": 0.65, "b": 0.55, "a": 1.0},
                                            "indices": [int(i) for i in f.reshape(-1)]}]})
        self._add(SCENE_TOPIC, capture_ns, json.dumps({"deletions": [], "entities": entities}).encode())

    def add_json(self, topic: str, log_ns: int, obj: dict):
        self._add(topic, log_ns, json.dumps(obj).encode())

    def close(self):
        if self._file.closed:
            return
        with self._lock:
            self._w.finish()
        self._file.close()


@dataclass
class RecordedMessage:
    topic: str
    log_ns: int
    data: bytes


@dataclass
class Recording:
    """What ``read_recording`` found: metadata, attachments (name -> bytes) and messages in file order;
    ``truncated`` with ``error`` when the file was cut off (everything before the cut is kept)."""

    path: Path
    metadata: dict = field(default_factory=dict)
    attachments: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    truncated: bool = False
    error: str = ""
    damaged: list = field(default_factory=list)  # what was skipped inside the file: chunks, attachments (one line each)

    def topic(self, name: str) -> list[RecordedMessage]:
        return [m for m in self.messages if m.topic == name]

    @property
    def calibration(self) -> dict | None:
        c = self.metadata.get("calibration")
        try:
            return json.loads(c) if c else None
        except (ValueError, TypeError, RecursionError):
            raise RecordingError(f"{self.path or 'the recording'}: its calibration metadata is damaged (not JSON)") \
                from None


def read_recording(path: str | Path) -> Recording:
    """Read a recording front to back. A cut-off end keeps everything before the cut (``truncated``); a damaged
    chunk (its CRC or its compression broken) or attachment (its CRC) is skipped, named in ``damaged``, and reading
    goes on with the next."""
    from mcap.exceptions import McapError
    from mcap.records import Attachment, Channel, Chunk, Message, Metadata
    from mcap.stream_reader import StreamReader, breakup_chunk

    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"recording not found: {path}")
    bad_attachments = _attachments_failing_crc(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if head != b"\x89MCAP0\r\n":
            raise RecordingError(f"{path} is not an MCAP recording (it starts with {head!r})")
        f.seek(0)
        rec, channels, messages, chunk_no = Recording(path), {}, [], 0

        def take(r):
            if isinstance(r, Channel):
                channels[r.id] = r.topic
            elif isinstance(r, Message):
                messages.append((r.channel_id, r.log_time, bytes(r.data)))
            elif isinstance(r, Metadata) and r.name == "realhands":
                rec.metadata.update(r.metadata)
            elif isinstance(r, Attachment):
                if r.name in bad_attachments:
                    rec.damaged.append(f"attachment {r.name}: its CRC does not match its bytes (left out)")
                else:
                    rec.attachments[r.name] = bytes(r.data)

        try:
            for r in StreamReader(f, emit_chunks=True).records:
                if isinstance(r, Chunk):
                    chunk_no += 1
                    try:
                        inner = breakup_chunk(r, validate_crc=True)
                    except Exception as exc:  # a CRC mismatch or a broken compressed stream: this chunk only
                        rec.damaged.append(f"chunk {chunk_no} (messages {r.message_start_time}..{r.message_end_time} "
                                           f"ns) is damaged ({type(exc).__name__}); skipped")
                        continue
                    for cr in inner:
                        take(cr)
                else:
                    take(r)
        except (McapError, EOFError, ValueError, struct.error, OSError) as exc:
            rec.truncated, rec.error = True, f"{exc.__class__.__name__}: {exc}"
        except Exception as exc:  # errors of a record cut in the middle come in library-specific types
            rec.truncated, rec.error = True, f"{exc.__class__.__name__}: {exc}"
    # channels may be defined in a chunk or only in the summary at the end: topics are resolved once all are read
    rec.messages = [RecordedMessage(channels.get(c, "?"), t, d) for c, t, d in messages]
    if not rec.metadata and not rec.messages:
        raise RecordingError(f"{path} holds no RealHands session" + (f" ({rec.error})" if rec.error else ""))
    return rec


def _attachments_failing_crc(path: Path) -> set[str]:
    """Names of the attachments whose stored CRC-32 does not match their bytes (the MCAP reader does not check;
    attachments are top-level records: opcode 0x09, u64 length, body whose last 4 bytes are the CRC of the rest)."""
    import zlib

    bad = set()
    with open(path, "rb") as f:
        data = f.read()
    pos = 8
    while pos + 9 <= len(data):
        opcode, length = data[pos], int.from_bytes(data[pos + 1:pos + 9], "little")
        body = data[pos + 9:pos + 9 + length]
        if len(body) < length or opcode == 0x02:  # cut off, or the footer
            break
        if opcode == 0x09 and length >= 24:
            name_len = int.from_bytes(body[16:20], "little")
            name = body[20:20 + name_len].decode("utf-8", "replace")
            if zlib.crc32(body[:-4]) != int.from_bytes(body[-4:], "little") and int.from_bytes(body[-4:], "little"):
                bad.add(name)
        pos += 9 + length
    return bad


def decode_image(msg: RecordedMessage):
    """(RGB uint8 image, capture_ns, frame index) of a /camera/* message."""
    import cv2
    import numpy as np

    try:
        d = json.loads(msg.data)
        jpeg = base64.b64decode(d["data"])
        if not jpeg:
            raise ValueError("no image data")
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError("not a decodable image")
        index = int(d["frame_id"].split("#")[1])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, cv2.error) as exc:
        raise RecordingError(f"a {msg.topic} message is corrupt: {' '.join(str(exc).split())[:200]}") from None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB), msg.log_ns, index


def _frame_key(m: RecordedMessage) -> str | None:
    """A /camera/* message's frame id ("left#12"), or None when the message is damaged."""
    try:
        key = json.loads(m.data)["frame_id"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return key if isinstance(key, str) else None


def recording_source(path: str | Path, log=None):
    """A capture source (realhands.capture.Source) that plays a recording's input frames, for re-running the
    pipeline on them. Stereo when the recording has both views and a calibration; frames carry the recorded
    ground truth when there is some. A damaged input frame, or a frame rate outside ``FPS_RANGE``, is skipped
    (the rate: DEFAULT_FPS instead) with a warning through ``log`` (default: standard error)."""
    import sys

    import numpy as np

    from ..camera import Camera, StereoPair, calibration_from_json
    from ..capture.files import DEFAULT_FPS, stated_fps
    from ..capture.sources import CapturedFrame, Source

    rec = read_recording(path)
    cal = rec.calibration
    damaged: list[str] = []  # input frames without a frame id: skipped, said once below
    left, right = {}, {}
    for topic, views in zip(CAMERA_TOPICS, (left, right), strict=True):
        for m in rec.topic(topic):
            key = _frame_key(m)
            if key is None:
                damaged.append(f"a {topic} message at {m.log_ns} ns without a frame id")
            else:
                views[key.replace("right", "left")] = m
    processed = set()
    for m in rec.topic(PROCESSED_TOPIC):
        try:
            processed.add(int(json.loads(m.data)["frame"]))
        except (ValueError, KeyError, TypeError):
            continue
    truth = {}  # frame index -> {"side", "joints" (21,3) left-camera coordinates, m}: synthetic sources only
    for m in rec.topic(GT_TOPIC):
        try:
            g = json.loads(m.data)
            truth[int(g["frame"])] = {"side": g["side"], "joints": np.asarray(g["joints"], np.float64).reshape(21, 3)}
        except (ValueError, KeyError, TypeError):
            continue  # a corrupt ground-truth message only loses that frame's truth
    if not left:
        raise RecordingError(f"{path} holds no input frames (/camera/left): record with `realhands run --record`")

    try:
        recorded_cameras = calibration_from_json(cal) if cal else None
    except CameraError as exc:
        raise RecordingError(f"{path}: its calibration is damaged ({exc})") from None
    say = log or (lambda m: print(m, file=sys.stderr))
    played_fps = stated_fps(rec.metadata.get("fps", DEFAULT_FPS)) or DEFAULT_FPS
    if "fps" in rec.metadata and stated_fps(rec.metadata["fps"]) is None:
        say(f"warning: {path}: its stated frame rate {rec.metadata['fps']!r} is not one (played at {played_fps:g} "
            "fps)")
    if damaged:
        say(f"warning: {path}: {len(damaged)} damaged input frame(s) skipped (the first: {damaged[0]})")

    class _RecordingSource(Source):
        name = f"recording:{Path(path).name}"
        fps = played_fps
        recording = rec
        cameras = recorded_cameras
        stereo = bool(right) and isinstance(recorded_cameras, StereoPair)
        # the frames the recorded run reconstructed (None: every frame; recordings before this was recorded)
        reconstructed = processed or None

        def __iter__(self):
            bad, first = 0, ""
            for key, m in left.items():
                try:
                    img, t_ns, index = decode_image(m)
                    second = decode_image(right[key])[0] if self.stereo and key in right else None
                except RecordingError as exc:  # one damaged frame loses that frame only
                    bad, first = bad + 1, first or str(exc)
                    continue
                if second is not None:
                    views, cams = [img, second], self.cameras
                else:  # one view: the left camera (or the default one when the recording has none)
                    views = [img]
                    cams = Camera.coerce(self.cameras.left if isinstance(self.cameras, StereoPair) else self.cameras,
                                         img.shape[1], img.shape[0])
                yield CapturedFrame(index, t_ns, views, cams, ground_truth=truth.get(index))
            if bad and not self._said:  # (once: a looped source plays the file again and again)
                self._said = True
                say(f"warning: {path}: {bad} input frame(s) could not be decoded and were skipped (the first: "
                    f"{first})")

        _said = False

    return _RecordingSource()

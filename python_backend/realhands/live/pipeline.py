"""The live pipeline: capture -> perception -> reconstruction (fit, refinement, texture) -> publish (+ record).

Each stage runs in its own thread and hands its newest result to the next through a one-slot queue. In real
time (``LiveConfig.realtime``) a slot that is still full is overwritten: a slow stage drops frames rather than
adding latency. Otherwise every frame is processed (re-running a recording). A frame that fails in any stage is
counted and skipped; the run goes on.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from ..capture.sources import CapturedFrame, Source
from ..config import LiveConfig
from ..reconstruct import Reconstructor, SecondView
from ..recording import pack_frames
from ..streaming.messages import frame_body, hand_body, rig_body, texture_body
from ..streaming.wire import encode

_END = object()
RIG_RESEND_DRIFT = 0.05  # a new rig when any shape coefficient moved this far (sd) from the rig's: <~1.5 mm
STAGES = ("capture", "perception", "reconstruction", "publish")


class _Slot:
    """A one-item hand-over between stages; ``drop``: a put replaces an item not yet taken (counted)."""

    def __init__(self, drop: bool):
        self.q, self.drop, self.dropped = queue.Queue(maxsize=1), drop, 0

    def put(self, item, stop: threading.Event):
        if item is _END:
            while True:  # the end marker is never dropped
                try:
                    self.q.put(item, timeout=0.1)
                    return
                except queue.Full:
                    if self.drop:
                        self._discard()
        while not stop.is_set():
            try:
                self.q.put_nowait(item) if self.drop else self.q.put(item, timeout=0.1)
                return
            except queue.Full:
                if self.drop:
                    self._discard()

    def _discard(self):
        try:
            old = self.q.get_nowait()
            if old is _END:  # keep the end marker
                self.q.put_nowait(old)
            else:
                self.dropped += 1
        except queue.Empty:
            pass

    def get(self, timeout: float):
        return self.q.get(timeout=timeout)


@dataclass
class FrameResult:
    """What the publish stage saw of one frame: the capture, its hands, per-stage ms and the wire bytes."""

    frame: CapturedFrame
    hands: list
    stage_ms: dict
    latency_ms: float
    wire_bytes: int
    textures: dict = field(default_factory=dict)


@dataclass
class RunReport:
    source: str
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    errors: int = 0
    error_messages: list = field(default_factory=list)
    seconds: float = 0.0
    stage_ms: dict = field(default_factory=dict)  # stage -> list of ms
    latency_ms: list = field(default_factory=list)
    hand_frame_bytes: list = field(default_factory=list)  # bytes of frame messages per hand in them
    joint_errors_mm: list = field(default_factory=list)  # per hand with ground truth: mean joint distance
    rel_joint_errors_mm: list = field(default_factory=list)  # the same with both wrists at the origin
    rig_bytes: int = 0
    texture_bytes: list = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        def stats(x):
            x = np.asarray(x, float)
            return {"median": round(float(np.median(x)), 2), "p95": round(float(np.percentile(x, 95)), 2)} \
                if len(x) else None

        return {"source": self.source, "frames_in": self.frames_in, "frames_out": self.frames_out,
                "dropped": self.dropped, "errors": self.errors, "seconds": round(self.seconds, 2),
                "fps": round(self.fps, 2), "latency_ms": stats(self.latency_ms),
                "stage_ms": {k: stats(v) for k, v in self.stage_ms.items()},
                "bytes_per_hand_frame": stats(self.hand_frame_bytes), "rig_bytes": self.rig_bytes,
                "texture_bytes": stats(self.texture_bytes),
                "mpjpe_mm": round(float(np.mean(self.joint_errors_mm)), 2) if self.joint_errors_mm else None,
                "root_relative_mpjpe_mm": round(float(np.mean(self.rel_joint_errors_mm)), 2)
                if self.rel_joint_errors_mm else None,
                "first_errors": self.error_messages[:5]}


class LivePipeline:
    """Run ``source`` through the pipeline, publishing on ``publisher`` (a streaming.HandPublisher or None)
    and recording to ``recorder`` (a recording.Recorder or None). ``on_result(FrameResult)`` is called in
    the publish thread for every published frame."""

    def __init__(self, source: Source, config: LiveConfig | None = None, publisher=None, recorder=None,
                 model_path=None, on_result=None, log=print):
        self.source, self.cfg = source, config or LiveConfig()
        self.publisher, self.recorder, self.on_result, self.log = publisher, recorder, on_result, log
        self.rec = Reconstructor(video=True, mask=self.cfg.mask, regressor=self.cfg.regressor, model_path=model_path,
                                 refine_iterations=self.cfg.refine_iterations, texture_size=self.cfg.texture_size)
        self.rec.warm_up()  # one-off costs (MediaPipe graph, UV atlases) before the first frame, not during it
        self.stop_event = threading.Event()
        self.report = RunReport(source.name)
        self._lock = threading.Lock()
        self._rigs: dict[str, dict] = {}
        self._rig_sent_at: dict[str, float] = {}
        self._tracking: dict[str, str] = {}
        self._last_hands: dict[str, dict] = {}
        self._texture_sent: dict[str, tuple[int, float]] = {}
        self._seq = 0
        self._slots: list[_Slot] = []
        self._recent = defaultdict(lambda: deque(maxlen=60))
        self._last_stats = time.monotonic()
        self._t0 = time.monotonic()

    def stop(self):
        """Finish soon (from any thread, e.g. on Ctrl-C): frames in flight are dropped, the recording is kept."""
        self.stop_event.set()

    def _error(self, stage: str, exc: BaseException, frame=None):
        with self._lock:
            self.report.errors += 1
            msg = f"{stage}: frame {getattr(frame, 'index', '?')}: {exc.__class__.__name__}: {exc}"
            self.report.error_messages.append(msg)
            if self.report.errors <= 5 or self.report.errors % 100 == 0:
                self.log(f"warning: {msg} (skipped; {self.report.errors} so far)")

    def _timed(self, stage: str, ms: float):
        with self._lock:
            self.report.stage_ms.setdefault(stage, []).append(ms)
            self._recent[stage].append(ms)

    @staticmethod
    def _compress(frame: CapturedFrame, quality: int = 92):
        """JPEG-encode the views for the recording and go on with the decoded pixels, so that the pipeline
        sees exactly what a re-run of the recording will see."""
        import cv2

        jpegs, views = [], []
        for img in frame.views:
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise ValueError("could not JPEG-encode a frame")
            jpegs.append(buf.tobytes())
            views.append(cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
        frame.views, frame.meta["jpeg"] = views, jpegs

    # -- stages ---------------------------------------------------------------------------------------------
    def _capture(self, out: _Slot, max_frames, duration_s):
        pace = self.cfg.realtime and not self.source.live and self.source.fps
        t_start = time.monotonic()
        it = iter(self.source)
        try:
            n = 0
            while not self.stop_event.is_set():
                if pace:
                    wait = t_start + n / self.source.fps - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                t = time.monotonic()
                try:
                    frame = next(it)
                except StopIteration:
                    break
                if self.recorder is not None:
                    self._compress(frame)
                frame.meta["t_in"] = time.monotonic()
                self._timed("capture", (frame.meta["t_in"] - t) * 1000)
                with self._lock:
                    self.report.frames_in += 1
                out.put(frame, self.stop_event)
                n += 1
                if (max_frames and n >= max_frames) or (duration_s and time.monotonic() - t_start > duration_s):
                    break
        except Exception as exc:  # the source failed for good (e.g. a camera that never came back)
            self._error("capture", exc)
        finally:
            self.source.close()
            out.put(_END, self.stop_event)

    def _loop(self, name: str, inp: _Slot, out: _Slot, step):
        """A middle stage: ``step(item)`` on every item from ``inp``, its result to ``out``; errors skip the item."""
        while True:
            try:
                item = inp.get(0.1)
            except queue.Empty:
                continue
            if item is _END:
                out.put(_END, self.stop_event)
                return
            try:
                out.put(step(item), self.stop_event)
            except Exception as exc:
                self._error(name, exc, item[0] if isinstance(item, tuple) else item)

    def _perceive(self, frame: CapturedFrame):
        t = time.perf_counter()
        dets = self.rec.detect(frame.views[0])
        frame.meta["detect_ms"] = (time.perf_counter() - t) * 1000
        self._timed("perception", frame.meta["detect_ms"])
        if self.recorder is not None:  # every frame MediaPipe tracked through, published or not
            for v, jpg in enumerate(frame.meta["jpeg"]):
                self.recorder.add_image(v, frame.capture_ns, jpg, frame.index)
        return frame, dets

    def _reconstruct(self, item):
        frame, dets = item
        t = time.perf_counter()
        K = frame.K[0]
        second = None
        if self.cfg.stereo and frame.stereo:
            second = SecondView(frame.views[1], frame.K[1], frame.T_right_from_left)
        hands = self.rec.solve(frame.views[0], dets, (K[0, 0], K[1, 1], K[0, 2], K[1, 2]),
                               timestamp=frame.capture_ns / 1e9, detect_ms=frame.meta["detect_ms"],
                               second_view=second)
        textures = {}
        now = time.monotonic()
        for h in hands:  # snapshot textures here, where they are written, at most texture_hz
            fusion = self.rec.textures.get(h.handedness)
            last = self._texture_sent.get(h.handedness, (-1, 0.0))
            if fusion is not None and fusion.version != last[0] and now - last[1] >= 1 / self.cfg.texture_hz:
                textures[h.handedness] = (fusion.version, fusion.image())
                self._texture_sent[h.handedness] = (fusion.version, now)
        self._timed("reconstruction", (time.perf_counter() - t) * 1000)
        return frame, hands, textures

    def _send(self, kind: str, body: dict, log_ns: int | None = None) -> int:
        frames = encode(kind, body)
        if self.publisher is not None:
            self.publisher.publish(frames)
        if self.recorder is not None:
            self.recorder.add_wire(frames, log_ns)
        return sum(len(f) for f in frames)

    def _ensure_rig(self, side: str, betas: np.ndarray):
        rig = self._rigs.get(side)
        drift = np.abs(rig["shape"] - betas[:10]).max() if rig is not None else np.inf
        if rig is None or (drift > RIG_RESEND_DRIFT and time.monotonic() - self._rig_sent_at[side] > 2.0):
            version = rig["rig_version"] + 1 if rig is not None else 1
            rig = rig_body(self.rec.models[side], betas, version)
            self._rigs[side], self._rig_sent_at[side] = rig, time.monotonic()
            frames = encode("rig", rig)
            if self.publisher is not None:
                self.publisher.set_rig(side, frames)
            if self.recorder is not None:
                self.recorder.add_wire(frames)
                self.recorder.attach(f"rig_{side}_v{version}.bin", pack_frames(frames))
            self.report.rig_bytes = sum(len(f) for f in frames)

    def _heartbeat(self, force: bool = False):
        now = time.monotonic()
        if not force and now - self._last_stats < 1.0:
            if self.publisher is not None:
                self.publisher.service()
            return
        with self._lock:
            stage = {k: round(float(np.median(v)), 2) for k, v in self._recent.items() if v}
            frames, dropped = self.report.frames_out, sum(s.dropped for s in self._slots)
        fps = frames / max(now - self._t0, 1e-6)
        self._send("stats", {"publish_ns": time.time_ns(), "uptime_s": now - self._t0, "frames": self._seq,
                             "dropped": dropped, "fps": fps, "stage_ms": stage, "source": self.source.name})
        self._last_stats = now

    def _publish(self, inp: _Slot):
        while True:
            try:
                item = inp.get(0.1)
            except queue.Empty:
                self._heartbeat()
                continue
            if item is _END:
                self._heartbeat(force=True)
                return
            frame, hands, textures = item
            try:
                t = time.perf_counter()
                bodies, seen = [], set()
                for h in hands:
                    side = h.handedness
                    seen.add(side)
                    self._ensure_rig(side, h.mano["betas"])
                    state = "tracked" if self._tracking.get(side) in ("tracked", "new") else "new"
                    self._tracking[side] = state
                    b = hand_body(h, self.rec.models[side], self._rigs[side], state, self.cfg.send_offsets)
                    self._last_hands[side] = b
                    bodies.append(b)
                for side in list(self._tracking):
                    if side not in seen:  # the hand left: its last state once more, marked lost
                        self._tracking.pop(side)
                        bodies.append(dict(self._last_hands.pop(side), tracking="lost", confidence=0.0))
                self._seq += 1
                nbytes = self._send("frame", frame_body(self._seq, frame.index, frame.capture_ns, bodies))
                tex_bytes = {}
                for side, (version, img) in textures.items():
                    tex_bytes[side] = self._send("texture", texture_body(side, version, img))
                if self.recorder is not None:
                    self.recorder.add_scene(frame.index, frame.capture_ns,
                                            [(h.handedness, h.vertices, self.rec.models[h.handedness].faces)
                                             for h in hands])
                    if frame.ground_truth is not None:
                        gt = frame.ground_truth
                        self.recorder.add_json("/realhands/ground_truth", frame.capture_ns,
                                               {"frame": frame.index, "side": gt["side"],
                                                "joints": np.round(gt["joints"], 5).tolist()})
                ms = (time.perf_counter() - t) * 1000
                self._timed("publish", ms)
                latency = (time.monotonic() - frame.meta["t_in"]) * 1000
                with self._lock:
                    r = self.report
                    r.frames_out += 1
                    r.latency_ms.append(latency)
                    if bodies:
                        r.hand_frame_bytes.append(nbytes / len(bodies))
                    r.texture_bytes += list(tex_bytes.values())
                    gt = frame.ground_truth
                    if gt is not None:
                        for h in hands:
                            if h.handedness == gt["side"]:
                                d = h.joints_3d - gt["joints"]
                                r.joint_errors_mm.append(float(np.linalg.norm(d, axis=1).mean() * 1000))
                                r.rel_joint_errors_mm.append(float(np.linalg.norm(d - d[:1], axis=1).mean() * 1000))
                if self.on_result is not None:
                    self.on_result(FrameResult(frame, hands, dict(frame.meta), latency, nbytes, textures))
                self._heartbeat()
            except Exception as exc:
                self._error("publish", exc, frame)

    # -- running --------------------------------------------------------------------------------------------
    def run(self, max_frames: int | None = None, duration_s: float | None = None) -> RunReport:
        """Process the source until it ends, ``max_frames`` or ``duration_s`` pass, or ``stop()``."""
        drop = self.cfg.realtime
        slots = self._slots = [_Slot(drop) for _ in range(3)]
        threads = [threading.Thread(target=self._capture, args=(slots[0], max_frames, duration_s), name="capture"),
                   threading.Thread(target=self._loop, args=("perception", slots[0], slots[1], self._perceive),
                                    name="perception"),
                   threading.Thread(target=self._loop, args=("reconstruction", slots[1], slots[2], self._reconstruct),
                                    name="reconstruction"),
                   threading.Thread(target=self._publish, args=(slots[2],), name="publish")]
        self._t0 = time.monotonic()
        for th in threads:
            th.daemon = True
            th.start()
        try:
            for th in threads:
                while th.is_alive():
                    th.join(0.2)
        except KeyboardInterrupt:
            self.stop()
            for th in threads:
                th.join(5.0)
        self.report.seconds = time.monotonic() - self._t0
        self.report.dropped = sum(s.dropped for s in slots)
        return self.report

    def close(self):
        self.rec.close()

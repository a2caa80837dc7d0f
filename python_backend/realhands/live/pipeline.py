"""The live pipeline's threads: capture -> perception -> reconstruction -> publish.

Each stage runs in its own thread and hands its items to the next through a short queue. In real time
(``LiveConfig.realtime``) it holds ``LiveConfig.queue_frames`` frames and a full one drops its oldest: one slow frame
(a cold restart) delays the frame behind it instead of costing it, and a stage that stays slow drops frames rather
than adding latency. Otherwise every frame is processed (re-running a recording). A frame that fails in any stage is
counted and skipped; the run goes on.

What the stages do is elsewhere: the hands come from realhands.reconstruct.Reconstructor, the messages and the
stream's rules (rigs and their resend rule, tracking states, texture and stats cadence) from
realhands.streaming.StreamProtocol, the sinks are the ZeroMQ publisher (realhands.streaming.HandPublisher) and the
recording (realhands.recording.RecordingSink), and accuracy against a source's ground truth is
realhands.metrics.joint_errors.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from ..capture.sources import CapturedFrame, Source
from ..config import LiveConfig
from ..errors import ConfigError, RealHandsError
from ..metrics import joint_errors
from ..reconstruct import Reconstructor, SecondView, realtime_threads
from ..streaming.protocol import StreamProtocol

_END = object()


class _Skip(Exception):  # noqa: N818 (not an error: a frame a re-run passes over on purpose)
    """A stage passes this frame on purpose (counted in RunReport.skipped)."""
STAGES = ("capture", "perception", "reconstruction", "publish")


#: the texture stage's CPU budget (LivePipeline._budget): the running mean of a view's cost keeps this share of
#: itself per nominal period (1 / texture_fuse_hz) since the last view; the views held below the cadence are let
#: go again when the interval they need falls under this share of the nominal period
BUDGET_KEEP, BUDGET_RELEASE = 0.75, 0.8
_STOPPED = threading.Event()  # always set: a put that may drop the oldest item (its consumer has ended)
_STOPPED.set()


class _Slot:
    """A hand-over between stages of up to ``depth`` items; ``drop``: a put into a full one drops its oldest item
    (counted, ``size(item)`` each: 1, or the views of a list of texture jobs), else it waits for room. One producer,
    one consumer; the end marker is never dropped. Whether it is full, and what is dropped, is decided under one
    lock, so an item is dropped only while the slot is full (not after the consumer has just made room)."""

    def __init__(self, drop: bool, size=lambda item: 1, depth: int = 1):
        self.drop, self.dropped, self.size, self.depth = drop, 0, size, depth
        self.buf: deque = deque()
        self.cv = threading.Condition()

    def put(self, item, stop: threading.Event):
        """Put ``item``; once ``stop`` is set only the end marker goes in (frames in flight are dropped, not
        processed): a put waiting for room gives up, and the end marker makes room by dropping what waits."""
        if stop.is_set() and item is not _END:
            return
        with self.cv:
            while len(self.buf) >= self.depth:
                if (self.drop or stop.is_set()) and self.buf[0] is not _END:  # (stopped: only the end marker comes)
                    self.dropped += self.size(self.buf.popleft())
                    continue
                if stop.is_set():  # an end marker is already waiting: nothing more is taken
                    return
                self.cv.wait(0.1)
            self.buf.append(item)
            self.cv.notify_all()

    def finish(self, stop: threading.Event, consumer: threading.Thread | None = None):
        """The end marker after there is room for it without dropping the items still waiting (they are taken),
        unless ``stop`` is set or the ``consumer`` thread has ended (nothing will take them: then the oldest may be
        dropped)."""
        with self.cv:
            while len(self.buf) >= self.depth and not stop.is_set() and (consumer is None or consumer.is_alive()):
                self.cv.wait(0.1)
        self.put(_END, stop if consumer is None or consumer.is_alive() else _STOPPED)

    def items(self, on_idle=None):
        """The items put, in order, until the end marker; ``on_idle()`` each 0.1 s nothing comes."""
        while True:
            with self.cv:
                if not self.buf:
                    self.cv.wait(0.1)
                got = bool(self.buf)
                if got:
                    item = self.buf.popleft()
                    self.cv.notify_all()
            if not got:
                if on_idle is not None:
                    on_idle()
                continue
            if item is _END:
                return
            yield item


@dataclass
class _Work:
    """One frame on its way through the threads."""

    frame: CapturedFrame
    t_in: float = 0.0  # time.monotonic() when captured
    stage_ms: dict = field(default_factory=dict)
    jpegs: list | None = None  # the views as recorded
    detections: list = field(default_factory=list)
    detections2: list | None = None  # the stereo pair's other view (None: mono, or stereo off)
    detect_ms: float = 0.0  # MediaPipe's share of the perception stage
    hands: list = field(default_factory=list)
    textures: dict = field(default_factory=dict)


@dataclass
class FrameResult:
    """What the publish stage saw of one frame: the capture, its hands, this frame's milliseconds per stage
    (capture, perception, reconstruction, publish), capture-to-publish latency, bytes of its frame message, the
    textures sent with it and, with ground truth, the accuracy of its hand (``metrics.joint_errors`` plus the
    hand's stage timings)."""

    frame: CapturedFrame
    hands: list
    stage_ms: dict
    latency_ms: float
    wire_bytes: int
    textures: dict = field(default_factory=dict)
    accuracy: dict | None = None


@dataclass
class RunReport:
    source: str
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    skipped: int = 0  # frames a re-run perceived but, like the recorded run, did not reconstruct
    errors: int = 0
    error_messages: list = field(default_factory=list)
    seconds: float = 0.0
    stage_ms: dict = field(default_factory=dict)  # stage -> list of ms
    latency_ms: list = field(default_factory=list)
    hand_frame_bytes: list = field(default_factory=list)  # bytes of frame messages per hand in them
    accuracy: list = field(default_factory=list)  # per frame with ground truth: FrameResult.accuracy
    rig_bytes: int = 0
    texture_bytes: list = field(default_factory=list)
    #: real time: texture views fused by the texture stage, and those it was still busy for (skipped: the next due
    #: view comes a fraction of a second later; no frame waits for the texture)
    texture_views: int = 0
    texture_views_skipped: int = 0

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        def stats(x):
            x = np.asarray(x, float)
            return {"median": round(float(np.median(x)), 2), "p95": round(float(np.percentile(x, 95)), 2)} \
                if len(x) else None

        def mean(key):
            return round(float(np.mean([a[key] for a in self.accuracy])), 2) if self.accuracy else None

        return {"source": self.source, "frames_in": self.frames_in, "frames_out": self.frames_out,
                "dropped": self.dropped, "skipped": self.skipped, "errors": self.errors,
                "seconds": round(self.seconds, 2),
                "fps": round(self.fps, 2), "latency_ms": stats(self.latency_ms),
                "stage_ms": {k: stats(v) for k, v in self.stage_ms.items()},
                "texture_views": self.texture_views, "texture_views_skipped": self.texture_views_skipped,
                "bytes_per_hand_frame": stats(self.hand_frame_bytes), "rig_bytes": self.rig_bytes,
                "texture_bytes": stats(self.texture_bytes),
                "mpjpe_mm": mean("mpjpe_mm"), "root_relative_mpjpe_mm": mean("root_relative_mpjpe_mm"),
                "first_errors": self.error_messages[:5]}


def frame_accuracy(hands: list, ground_truth: dict | None) -> dict | None:
    """The hand of the ground truth's side against it (``metrics.joint_errors``, with the hand's stage timings), or
    None without ground truth or without that hand."""
    if ground_truth is None:
        return None
    for h in hands:
        if h.handedness == ground_truth["side"]:
            return dict(joint_errors(h.joints_3d, ground_truth["joints"]), timings_ms=dict(h.timings_ms))
    return None


class LivePipeline:
    """Run ``source`` through the pipeline, sending its messages to ``publisher`` (a streaming.HandPublisher or
    None) and its data to ``recorder`` (a recording.RecordingSink or None). ``on_result(FrameResult)`` is called in
    the publish thread for every published frame. ``reconstruct_only``: the frame indices to reconstruct (the
    others are perceived, keeping MediaPipe's tracking as it was, and passed over): how a re-run repeats a real-time
    run that dropped frames."""

    def __init__(self, source: Source, config: LiveConfig | None = None, publisher=None, recorder=None,
                 model_path=None, on_result=None, log=print, reconstruct_only: set | None = None, capture=None):
        self.source, self.cfg = source, config or LiveConfig()
        #: a guided capture (realhands.personal.HandCapture) fed every reconstructed frame; its progress goes out
        #: in the stats messages, and the run ends when it is done
        self.capture = capture
        self._captured = threading.Event()
        self.publisher, self.recorder, self.on_result, self.log = publisher, recorder, on_result, log
        self.reconstruct_only = reconstruct_only  # frame indices (a re-run of a real-time recording), None: all
        if capture is not None and not self.cfg.texture_size:
            raise ConfigError("the guided capture needs the texture: a texture_size above 0")
        self.rec = Reconstructor(self.cfg, video=True, model_path=model_path)
        for note in self.rec.notes:
            self.log(note)
        # one-off costs (MediaPipe's graphs, HandNet's first runs, UV atlases) before the first frame, not during it
        self.rec.warm_up(views=2 if self.cfg.stereo and getattr(source, "stereo", False) else 1)
        #: texture views are fused in a stage of their own, beside the frames (Reconstructor.defer_textures): in real
        #: time a view the stage is busy for is skipped; in a re-run or the demo (every frame processed) each waits
        #: its turn, so the texture is as reproducible as the joints, and a re-run fits exactly as its real-time
        #: recording did (no mask made in the frame). Not for a guided capture (it reads the texture every frame)
        #: or with refinement (it takes the mask in the frame)
        self.texture_stage = bool(self.cfg.texture_size and capture is None and not self.cfg.refine_iterations)
        if self.texture_stage:
            self.rec.defer_textures()
        # the texture stage's snapshots not yet published: {side: (its texture's generation, (version, image))}
        self._textures_out: dict = {}
        # the texture stage's CPU budget (_budget): a view's recent CPU cost (s), when each side last fed it, told
        self._texture_cost: float | None = None
        self._texture_sides: dict[str, float] = {}
        self._texture_held = False
        self._texture_last: float | None = None  # when the last view began (time.perf_counter)
        self.protocol = StreamProtocol(self.rec.models, self.cfg.send_offsets, self.cfg.texture_hz,
                                       extrapolate_ms=self.cfg.extrapolate_ms)
        self.stop_event = threading.Event()
        self.report = RunReport(source.name)
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._recent = defaultdict(lambda: deque(maxlen=60))
        self._latencies: deque = deque(maxlen=1000)  # (time.monotonic() of the publish, capture-to-publish ms)
        self._t0 = time.monotonic()

    def stop(self):
        """Finish soon (from any thread, e.g. on Ctrl-C): frames in flight are dropped, the recording is kept."""
        self.stop_event.set()

    def _error(self, stage: str, exc: BaseException, frame=None):
        with self._lock:
            self.report.errors += 1
            where = f"{stage}: frame {frame.index}" if frame is not None else stage
            msg = f"{where}: {exc}" if isinstance(exc, RealHandsError) else f"{where}: {type(exc).__name__}: {exc}"
            self.report.error_messages.append(msg)
            if self.report.errors <= 5 or self.report.errors % 100 == 0:
                self._say(f"warning: {msg} (skipped; {self.report.errors} so far)")

    def _say(self, text: str) -> None:
        """``log(text)`` from a stage's thread: a log that fails (a closed terminal: ``realhands run | head``) loses
        the line, never the stage (a dead texture thread would leave the reconstruction stage waiting for it)."""
        with contextlib.suppress(Exception):  # the line is lost, the run goes on
            self.log(text)

    def _timed(self, work: _Work, stage: str, t_start: float):
        ms = (time.perf_counter() - t_start) * 1000
        work.stage_ms[stage] = ms
        with self._lock:
            self.report.stage_ms.setdefault(stage, []).append(ms)
            self._recent[stage].append(ms)

    # -- stages ---------------------------------------------------------------------------------------------
    def _capture(self, out: _Slot, max_frames, duration_s):
        pace = self.cfg.realtime and not self.source.live and self.source.fps
        t_start = time.monotonic()
        it = iter(self.source)
        try:
            n = 0
            while not self.stop_event.is_set() and not self._captured.is_set():
                if pace:
                    wait = t_start + n / self.source.fps - time.monotonic()
                    if wait > 0 and self.stop_event.wait(wait):
                        break  # stopped while waiting for the frame's time
                t = time.perf_counter()
                try:
                    frame = next(it)
                except StopIteration:
                    break
                work = _Work(frame)
                if self.recorder is not None:
                    work.jpegs = self.recorder.prepare(frame)
                work.t_in = time.monotonic()
                self._timed(work, "capture", t)
                with self._lock:
                    self.report.frames_in += 1
                out.put(work, self.stop_event)
                n += 1
                if (max_frames and n >= max_frames) or (duration_s and time.monotonic() - t_start > duration_s):
                    break
        except Exception as exc:  # the source failed for good (e.g. a camera that never came back)
            self._error("capture", exc)
        finally:
            self.source.close()
            out.put(_END, self.stop_event)

    def _loop(self, name: str, inp: _Slot, out: _Slot, step):
        """A middle stage: ``step(work)`` on every item from ``inp``, then on to ``out``; errors skip the item."""
        for work in inp.items():
            try:
                t = time.perf_counter()
                step(work)
                self._timed(work, name, t)
                out.put(work, self.stop_event)
            except _Skip:
                with self._lock:
                    self.report.skipped += 1
            except Exception as exc:
                self._error(name, exc, work.frame)
        out.put(_END, self.stop_event)

    def _perceive(self, work: _Work):
        t = time.perf_counter()
        # one view after the other: on 2 cores detecting both views at once (Reconstructor.detect_pair) takes the
        # other stages' core (docs/live.md: fewer frames published, more dropped)
        work.detections = self.rec.detect(work.frame.views[0])
        if self.cfg.stereo and work.frame.stereo:  # the other view too: the stereo fit places the hand from both
            work.detections2 = self.rec.detect(work.frame.views[1], view=1)
        work.detect_ms = (time.perf_counter() - t) * 1000
        if self.recorder is not None:  # every frame MediaPipe tracked through, published or not
            self.recorder.add_inputs(work.frame, work.jpegs)

    def _reconstruct(self, work: _Work):
        frame = work.frame
        if self.reconstruct_only is not None and frame.index not in self.reconstruct_only:
            raise _Skip  # a re-run: the recorded run did not reconstruct this frame (it only tracked through it)
        if self.recorder is not None:
            self.recorder.add_processed(frame)
        second = SecondView(frame.views[1], frame.pair, work.detections2) if self.cfg.stereo and frame.stereo \
            else None
        work.hands = self.rec.solve(frame.views[0], work.detections, frame.camera, timestamp=frame.capture_ns / 1e9,
                                    detect_ms=work.detect_ms, second_view=second)
        if self.texture_stage:  # the texture stage fuses this frame's views; what it finished goes out now
            jobs, self.rec.texture_jobs = self.rec.texture_jobs, []
            if jobs:
                self._texture_slot.put(jobs, self.stop_event)
            work.textures = self._take_textures()
        else:  # snapshot textures here, where they are written
            work.textures = self.protocol.take_textures(self.rec.textures, [h.handedness for h in work.hands])
        if self.capture is not None and self.capture.update(self.rec, work.hands).done:
            self._captured.set()  # captured: no more frames are read; this one and those in flight go out

    def _texture(self, inp: _Slot):
        """The texture stage: fuses the views the reconstruction stage left (Reconstructor.run_texture_job) and
        snapshots the textures due for publishing (StreamProtocol.take_textures). In real time it keeps within its
        CPU share (LiveConfig.texture_cpu_share, ``_budget``)."""
        for jobs in inp.items():
            for job in jobs:
                t, cpu = time.perf_counter(), time.thread_time()  # (HandNet and NumPy work in this thread)
                try:
                    if self.rec.run_texture_job(job) is None:  # dropped: its side's texture was reset or taken back
                        continue
                    with self.rec.texture_lock:  # (a reset or a take-back on the reconstruction thread waits)
                        out = self.protocol.take_textures(self.rec.textures, [job.side])
                        generation = self.rec.texture_generation(job.side)
                    if self.cfg.realtime:
                        self._budget(job.side, time.thread_time() - cpu, t)
                except Exception as exc:
                    self._error("texture", exc)
                    continue
                ms = (time.perf_counter() - t) * 1000
                with self._lock:
                    self._textures_out.update({side: (generation, snap) for side, snap in out.items()})
                    self.report.texture_views += 1
                    self.report.stage_ms.setdefault("texture", []).append(ms)
                    self._recent["texture"].append(ms)

    def _budget(self, side: str, cpu_s: float, started: float) -> None:
        """After a texture view begun at ``started`` (time.perf_counter) that took ``cpu_s`` of this thread's CPU
        time: the least time between a side's views (Reconstructor.texture_min_interval_s) that keeps the stage
        within LiveConfig.texture_cpu_share of one core, from the views' recent cost and the sides fed in the last
        second. The cost is a running mean over time, not over views: a view that comes k nominal periods (1 /
        texture_fuse_hz) after the last weighs as k views would (held views are sparse; a CPU that got faster, or
        a busy spell that passed, is followed within a few nominal periods' worth of views). Told when it starts
        holding the views below texture_fuse_hz, and when it stops (with a margin, so not at every view)."""
        nominal = 1.0 / self.cfg.texture_fuse_hz
        gap = started - self._texture_last if self._texture_last is not None else nominal
        self._texture_last = started
        keep = BUDGET_KEEP ** max(1.0, gap / nominal)
        self._texture_cost = cpu_s if self._texture_cost is None else keep * self._texture_cost + (1 - keep) * cpu_s
        self._texture_sides[side] = started
        sides = sum(started - t <= 1.0 for t in self._texture_sides.values())
        interval = sides * self._texture_cost / self.cfg.texture_cpu_share
        self.rec.texture_min_interval_s = interval
        share = f"to keep within {self.cfg.texture_cpu_share:g} of a core (live.texture_cpu_share)"
        if interval > nominal and not self._texture_held:
            self._texture_held = True
            self._say(f"texture: a view costs {self._texture_cost * 1000:.0f} ms of CPU here; taking "
                      f"{sides / interval:.1f} views a second instead of {sides * self.cfg.texture_fuse_hz:g}, {share}")
        elif interval < BUDGET_RELEASE * nominal and self._texture_held:
            self._texture_held = False
            self._say(f"texture: a view costs {self._texture_cost * 1000:.0f} ms of CPU now; back to "
                      f"{sides * self.cfg.texture_fuse_hz:g} views a second, {share}")

    def _publish_one(self, work: _Work):
        t = time.perf_counter()
        frame, hands = work.frame, work.hands
        messages = self.protocol.frame(frame.index, frame.capture_ns, hands, work.textures,
                                       ahead_s=time.monotonic() - work.t_in)
        for m in messages:
            if self.publisher is not None:
                self.publisher.send(m)
        if self.recorder is not None:
            self.recorder.add_messages(messages)
            self.recorder.add_result(frame, hands, {s: m.faces for s, m in self.rec.models.items()})
        accuracy = frame_accuracy(hands, frame.ground_truth)
        self._timed(work, "publish", t)
        latency = (time.monotonic() - work.t_in) * 1000
        frame_msg = next(m for m in messages if m.kind == "frame")
        with self._lock:
            r = self.report
            r.frames_out += 1
            r.latency_ms.append(latency)
            self._latencies.append((time.monotonic(), latency))
            if frame_msg.hands:
                r.hand_frame_bytes.append(frame_msg.nbytes / frame_msg.hands)
            for m in messages:
                if m.kind == "rig":
                    r.rig_bytes = m.nbytes
                elif m.kind == "texture":
                    r.texture_bytes.append(m.nbytes)
            if accuracy is not None:
                r.accuracy.append(accuracy)
        if self.on_result is not None:
            self.on_result(FrameResult(frame, hands, dict(work.stage_ms), latency, frame_msg.nbytes, work.textures,
                                       accuracy))

    def _heartbeat(self, force: bool = False):
        """The stats message when due; otherwise let the publisher answer subscriptions."""
        if not force and not self.protocol.stats_due():
            if self.publisher is not None:
                self.publisher.service()
            return
        now = time.monotonic()
        with self._lock:
            stage = {k: round(float(np.median(v)), 2) for k, v in self._recent.items() if v}
            frames, dropped = self.report.frames_out, sum(s.dropped for s in self._slots)
            recent = [ms for t, ms in self._latencies if t >= now - 1.0]
        latency = {"p50": round(float(np.median(recent)), 2), "p95": round(float(np.percentile(recent, 95)), 2)} \
            if recent else {}
        msg = self.protocol.stats(now - self._t0, dropped, frames / max(now - self._t0, 1e-6), stage,
                                  self.source.name, latency, None if self.capture is None else self.capture.last)
        if self.publisher is not None:
            self.publisher.send(msg)
        if self.recorder is not None:
            self.recorder.add_messages([msg])

    def _safe_heartbeat(self, force: bool = False):
        """The heartbeat, after a frame, between frames and after the last: a failure (a recording's full disk, a
        closed socket) is counted as the stats' own error, and the publish thread goes on (it alone takes frames
        off the last hand-over: were it to die, a real-time run would drop every later frame, a re-run would wait
        for ever)."""
        try:
            self._heartbeat(force)
        except Exception as exc:
            self._error("publish (stats)", exc)

    def _publish(self, inp: _Slot):
        for work in inp.items(on_idle=self._safe_heartbeat):
            try:
                self._publish_one(work)
            except Exception as exc:
                self._error("publish", exc, work.frame)
            self._safe_heartbeat()
        self._safe_heartbeat(force=True)

    # -- running --------------------------------------------------------------------------------------------
    def run(self, max_frames: int | None = None, duration_s: float | None = None) -> RunReport:
        """Process the source until it ends, ``max_frames`` or ``duration_s`` pass, or ``stop()``."""
        drop = self.cfg.realtime
        slots = self._slots = [_Slot(drop, depth=self.cfg.queue_frames) for _ in range(3)]
        # in real time a view the texture stage is too busy for is skipped, not queued
        self._texture_slot = _Slot(drop, size=len)

        def reconstruction():
            try:
                self._loop("reconstruction", slots[1], slots[2], self._reconstruct)
            finally:  # the views still waiting are fused, then the texture stage ends
                self._texture_slot.finish(self.stop_event, texture_thread)

        threads = [threading.Thread(target=self._capture, args=(slots[0], max_frames, duration_s), name="capture"),
                   threading.Thread(target=self._loop, args=("perception", slots[0], slots[1], self._perceive),
                                    name="perception"),
                   threading.Thread(target=reconstruction, name="reconstruction"),
                   threading.Thread(target=self._publish, args=(slots[2],), name="publish")]
        texture_thread = threading.Thread(target=self._texture, args=(self._texture_slot,), name="texture")
        if self.texture_stage:
            threads.append(texture_thread)
        self._t0 = time.monotonic()
        with realtime_threads():  # torch on one core while MediaPipe works on the other (reconstruct.py)
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
        self.report.texture_views_skipped = self._texture_slot.dropped
        try:
            self._send_last_textures()
        except Exception as exc:  # a closed socket or a full disk: the run's report is still the caller's
            self._error("publish (textures)", exc)
        return self.report

    def _take_textures(self) -> dict:
        """The texture stage's snapshots not yet published ({side: (version, image)}), less those of a side whose
        texture was reset or taken back after the snapshot (Reconstructor.disown): a texture the reconstruction
        thread has since found polluted is never sent."""
        with self._lock:
            taken, self._textures_out = self._textures_out, {}
        out = {}
        for side, (generation, snap) in taken.items():
            if generation == self.rec.texture_generation(side):
                out[side] = snap
            else:
                self.protocol.withdraw_texture(side, snap[0])
        return out

    def _send_last_textures(self):
        """What the texture stage fused after the last frame went out: sent (and recorded) on its own."""
        messages = self.protocol.textures(self._take_textures())
        for m in messages:
            if self.publisher is not None:
                self.publisher.send(m)
        if self.recorder is not None and messages:
            self.recorder.add_messages(messages)

    def close(self):
        self.rec.close()

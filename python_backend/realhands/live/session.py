"""Sessions behind the commands: ``run`` (live, optionally recording), ``replay`` (re-publish a recording, or
re-run the pipeline on its inputs and compare), ``listen`` (print what a publisher sends)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

from ..config import MAX_EXTRAPOLATE_MS, Config
from ..errors import RecordingError, SourceError, StreamConfigError, WireError
from ..metrics import joint_errors
from ..recording import RecordingSink, read_recording, unpack_frames
from ..recording.mcap_io import WIRE_TOPIC
from ..streaming import HandPublisher, HandSubscriber, decode
from ..streaming.extrapolation import PoseExtrapolator
from .pipeline import LivePipeline, RunReport
from .sources import open_source


def make_publisher(cfg: Config, endpoint: str | None = None) -> HandPublisher:
    s = cfg.stream
    return HandPublisher(endpoint or s.endpoint, lan=s.lan, allow=s.allow, hwm=s.hwm,
                         curve_secret_key=s.curve_secret_key or None, curve_clients=s.curve_clients or None,
                         log=lambda m: print(m, file=sys.stderr))


class _Progress:
    """A one-line status (frames, fps, drops, ETA when the length is known) for the terminal."""

    def __init__(self, total: int | None):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="frame", desc="live", dynamic_ncols=True)

    def __call__(self, result):
        self.bar.update(1)
        self.bar.set_postfix_str(f"{result.latency_ms:.0f} ms latency, {len(result.hands)} hand(s)", refresh=False)

    def close(self):
        self.bar.close()


def run_session(cfg: Config, source_name: str | None = None, record: str | Path | None = None,
                frames: int | None = None, duration_s: float | None = None, calibration: str | None = None,
                publish: bool = True, endpoint: str | None = None, on_result=None, progress: bool = True,
                synthetic_frames: int = 90, capture=None, loop: bool = True) -> RunReport:
    """Run the live pipeline from ``source_name`` (default cfg.live.source), publishing and recording.
    ``capture``: a guided capture (realhands.personal.HandCapture) to feed, ending the run when done; ``loop``:
    synthetic sources play on until bounded or stopped."""
    live = cfg.live
    with contextlib.ExitStack() as opened:  # whatever fails, everything opened so far is closed, newest first
        publisher = make_publisher(cfg, endpoint) if publish else None  # first: a wrong endpoint or key fails at once
        if publisher is not None:
            opened.callback(publisher.close)
        name = live.source if source_name is None else source_name
        source = open_source(name, calibration=calibration, frames=synthetic_frames, model_path=cfg.model.path,
                             stereo=live.stereo, loop=loop, log=_stderr)  # (stdout: the run's summary)
        pipeline = None

        def close_source():  # once the pipeline exists, its capture stage closes the source (in its own thread)
            if pipeline is None:
                source.close()

        opened.callback(close_source)
        recorder = RecordingSink.open(record, source, live, publisher.endpoint if publisher else None) \
            if record else None
        if recorder is not None:
            opened.callback(recorder.close)  # writes the summary: a complete, indexed file
        bar = _Progress(frames or getattr(source, "__len__", lambda: None)()) if progress else None
        if bar is not None:
            opened.callback(bar.close)

        def each(result):
            if bar is not None:
                bar(result)
            if on_result is not None:
                on_result(result)

        # a bad setting (e.g. a --hand of another model) fails here: nothing opened is left open
        pipeline = LivePipeline(source, live, publisher=publisher, recorder=recorder, model_path=cfg.model.path,
                                on_result=each, log=lambda m: print(m, file=sys.stderr), capture=capture)
        opened.callback(pipeline.close)
        try:
            previous = signal.signal(signal.SIGTERM, lambda *_: pipeline.stop())  # a service manager's stop
        except ValueError:  # not the main thread
            previous = None
        if previous is not None:  # (None: a handler set outside Python, which cannot be put back)
            opened.callback(signal.signal, signal.SIGTERM, previous)
        return pipeline.run(max_frames=frames, duration_s=duration_s)


#: the guided capture's texture: finer than the live default's, every frame taken in, the shading divided out, and
#: the mesh aligned to the hand's silhouette first (tools.bench.texture --kind turn: the whole atlas 21.4 -> 24.0 dB
#: with 3 refinement steps, 25.6 with 10, pipeline stereo; docs/refinement.md)
CAPTURE_TEXTURE_SIZE = 512
CAPTURE_FUSE_HZ = 1000.0
CAPTURE_REFINE_ITERATIONS = 10


class _CaptureDisplay:
    """The guided capture in the terminal: the instruction when it changes, progress per region on a bar."""

    def __init__(self, capture):
        self.capture, self.step, self.bar = capture, None, None  # the bar from the first frame (a source that
        # fails to open leaves its one error line alone)

    def __call__(self, result):
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(unit="frame", desc="capture", dynamic_ncols=True)
        p = self.capture.last
        if p.step != self.step:
            self.step = p.step
            self.bar.write(f"-> {p.instruction}")
        self.bar.update(1)
        self.bar.set_postfix_str(" ".join(f"{k} {v:.0%}" for k, v in p.progress.items()), refresh=False)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def capture_hand(cfg: Config, out: str | Path, source_name: str | None = None, side: str | None = None,
                 frames: int | None = None, duration_s: float | None = None, calibration: str | None = None,
                 publish: bool = True, force: bool = False, synthetic_frames: int = 120, endpoint: str | None = None,
                 progress: bool = True):
    """The guided capture (``realhands capture-hand``): the live pipeline over ``source_name`` (default
    synthetic:turn) with the texture at CAPTURE_TEXTURE_SIZE taking in every frame as albedo after
    CAPTURE_REFINE_ITERATIONS steps of silhouette refinement, its progress
    published in the stats messages, until every region is seen well (or the source ends, ``frames`` or
    ``duration_s`` pass, or Ctrl-C); the hand is then written to ``out``. Returns (PersonalHand, RunReport)."""
    from ..personal import HandCapture
    from ..personal.hand import check_folder

    out = check_folder(out, force)  # before minutes of capture, not after
    live = dataclasses.replace(cfg.live, texture_size=max(cfg.live.texture_size, CAPTURE_TEXTURE_SIZE),
                               texture_delight=True, texture_fuse_hz=CAPTURE_FUSE_HZ, realtime=False, hands=(),
                               refine_iterations=max(cfg.live.refine_iterations, CAPTURE_REFINE_ITERATIONS),
                               mask="auto" if cfg.live.mask == "none" else cfg.live.mask)
    capture = HandCapture(side)
    display = _CaptureDisplay(capture) if progress else None
    try:
        name = "synthetic:turn" if source_name is None else source_name
        report = run_session(dataclasses.replace(cfg, live=live), name,
                             frames=frames, duration_s=duration_s, calibration=calibration, publish=publish,
                             endpoint=endpoint, on_result=display, progress=False,
                             synthetic_frames=synthetic_frames, capture=capture, loop=False)
    finally:
        if display is not None:
            display.close()
    if not report.frames_in and report.errors:
        raise SourceError(report.error_messages[0])
    hand = capture.finish()
    hand.save(out, model=capture.model, force=force)
    return hand, report


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def recorded_wire(rec, log=print, decoded: bool = True) -> list[tuple[int, list[bytes], tuple[str, dict] | None]]:
    """(log time ns, frames, decoded (type, fields) or None) of each published message a recording holds. A damaged
    one is skipped, with one warning line saying how many and the first one's fault: cut short or of fewer than two
    frames; with ``decoded``, also one this reader cannot decode (``replay`` re-sends messages byte for byte, so it
    asks only for their frames: a recording of another wire version is still re-sent as it was)."""
    out, bad, first = [], 0, ""
    for m in rec.topic(WIRE_TOPIC):
        try:
            frames = unpack_frames(m.data)
            if len(frames) < 2:
                raise WireError(f"a message has at least 2 frames (topic, header), got {len(frames)}")
            out.append((m.log_ns, frames, decode(frames) if decoded else None))
        except (RecordingError, WireError) as exc:
            bad, first = bad + 1, first or f"at {m.log_ns} ns: {exc}"
    if bad:
        log(f"warning: {rec.path}: {bad} damaged published message(s) skipped (the first {first})")
    return out


#: replay: the longest wait between two messages, at any speed (a damaged time far ahead would stall it for days)
MAX_REPLAY_GAP_S = 10.0


def replay_publish(path: str | Path, cfg: Config, speed: float = 1.0, loop: bool = False,
                   endpoint: str | None = None, max_messages: int | None = None, log=print) -> int:
    """Re-publish a recording's wire messages byte for byte at ``speed`` x the recorded pace (0: as fast as
    possible). Returns the number of messages sent."""
    rec = read_recording(path)
    if rec.truncated:
        log(f"warning: {path} is cut off ({rec.error}); replaying its {len(rec.messages)} complete messages")
    for damage in rec.damaged:
        log(f"warning: {path}: {damage}")
    messages = [(ns, frames) for ns, frames, _ in recorded_wire(rec, log, decoded=False)]
    if not messages:
        raise RecordingError(f"{path} holds no published messages to replay")
    pub = make_publisher(cfg, endpoint)
    sent = 0
    try:
        time.sleep(0.3)  # let subscribers that are already waiting connect ...
        pub.service()  # ... and take their subscriptions now, so they get the recorded rigs once, in order
        while True:
            t0, first = time.monotonic(), messages[0][0]
            for log_ns, frames in messages:
                if speed > 0:
                    wait = t0 + (log_ns - first) / 1e9 / speed - time.monotonic()
                    if wait > MAX_REPLAY_GAP_S:  # a recorded time far ahead (damaged, or a paused session)
                        log(f"warning: {path}: a gap of {wait:.0f} s in the recorded times; replayed as "
                            f"{MAX_REPLAY_GAP_S:g} s")
                        t0 -= wait - MAX_REPLAY_GAP_S
                        wait = MAX_REPLAY_GAP_S
                    if wait > 0:
                        time.sleep(wait)
                if frames[0] == b"rh.rig":
                    try:
                        pub.set_rig(decode(frames)[1]["handedness"], frames)  # late joiners of the replay get it too
                    except (WireError, KeyError, TypeError):
                        pub.publish(frames)
                else:
                    pub.publish(frames)
                sent += 1
                if max_messages and sent >= max_messages:
                    return sent
            if not loop:
                return sent
    finally:
        time.sleep(0.2)
        pub.close()


def replay_rerun(path: str | Path, cfg: Config, tolerance_mm: float = 5.0, report_path: str | Path | None = None,
                 progress: bool = True) -> dict:
    """Re-run the pipeline on a recording's input frames and compare the new joints with the recorded ones
    per frame and hand: a regression check. Returns the report (also written to ``report_path``)."""
    rec = read_recording(path)
    recorded, published, ahead_ms = {}, set(), {}
    for _, frames, (_, body) in recorded_wire(rec, _stderr):
        if frames[0] != b"rh.frame":
            continue
        published.add(body["source_frame"])
        for h in body["hands"]:
            if h["tracking"] != "lost":
                recorded[(body["source_frame"], h["handedness"])] = h["joints"].astype(np.float64)
                ahead_ms[(body["source_frame"], h["handedness"])] = h["extrapolated_ms"]
    live = dataclasses.replace(cfg.live, realtime=False)  # every recorded frame, none dropped
    new = {}
    # the recorded hands were moved to their publish time (extrapolated_ms, a latency the re-run does not have):
    # the re-run's hands are moved by the same amounts, along their own motion over the frames published then
    replay, present = PoseExtrapolator(MAX_EXTRAPOLATE_MS / 1000.0), set()

    def each(result):
        nonlocal present
        index = result.frame.index
        if index not in published:
            for h in result.hands:
                new[(index, h.handedness)] = h.joints_3d
            return
        for h in result.hands:
            body = {"joints": h.joints_3d, "pose": h.mano["global_orient"], "root_translation": h.mano["transl"]}
            if h.handedness not in present:  # new to the stream: sent as measured, its motion starts here
                replay.forget(h.handedness)
            replay.observe(h.handedness, result.frame.capture_ns / 1e9, body)
            ahead = ahead_ms.get((index, h.handedness), 0.0) / 1000.0
            new[(index, h.handedness)] = replay.moved(h.handedness, body, ahead)["joints"].astype(np.float64)
        present = {h.handedness for h in result.hands}

    source = open_source(str(path), stereo=live.stereo, log=_stderr)
    # the frames the recorded run reconstructed (real time drops some): the re-run reconstructs the same ones, so
    # tracking and smoothing see what they saw then
    pipeline = LivePipeline(source, live, model_path=cfg.model.path, on_result=each,
                            reconstruct_only=getattr(source, "reconstructed", None),
                            log=_stderr)  # stdout carries the JSON report
    try:
        pipeline.run()
    finally:
        pipeline.close()
    # compared: the frames the recording published. Not: those reconstructed then but dropped before publishing
    # (real time), nor those whose results a cut-off file lost (input frames are written before their results)
    last_frame = max(published, default=-1)
    after_cut = sum(frame > last_frame for frame, _ in new) if rec.truncated else 0
    new = {k: v for k, v in new.items() if k[0] in published}
    both = sorted(set(recorded) & set(new))
    dist = [joint_errors(new[k], recorded[k])["mpjpe_mm"] for k in both]
    report = {"recording": str(path), "truncated": rec.truncated, "damaged": rec.damaged,
              "hand_frames_recorded": len(recorded),
              "hand_frames_new": len(new), "compared": len(both),
              "only_recorded": len(set(recorded) - set(new)), "only_new": len(set(new) - set(recorded)),
              "new_after_the_cut": after_cut,
              "mean_joint_distance_mm": round(float(np.mean(dist)), 3) if dist else None,
              "max_joint_distance_mm": round(float(np.max(dist)), 3) if dist else None,
              "tolerance_mm": tolerance_mm}
    report["passed"] = bool(dist) and report["mean_joint_distance_mm"] <= tolerance_mm and \
        report["only_recorded"] + report["only_new"] <= max(1, 0.05 * len(both))
    if report_path:
        Path(report_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def describe_message(kind: str, body: dict) -> str:
    """One line for a decoded message (``realhands listen``)."""
    if kind == "frame":
        hands = ", ".join(f"{h['handedness']} {h['tracking']} wrist {np.round(h['joints'][0], 3).tolist()}"
                          + f" {h['views']} view{'s' if h['views'] != 1 else ''}"
                          + (" pose held" if h["pose_held"] else "")
                          + (f" (+{h['extrapolated_ms']:.0f} ms)" if h["extrapolated_ms"] else "")
                          for h in body["hands"]) or "no hand"
        return f"frame {body['seq']}: {hands}"
    if kind == "rig":
        return f"rig {body['handedness']} v{body['rig_version']}: {body['vertex_count']} vertices, model " \
               f"{body['model_id']}"
    if kind == "texture":
        return f"texture {body['handedness']} v{body['version']}: {body['width']}x{body['height']} {body['format']}, " \
               f"{len(body['data'])} bytes"
    lat = body["latency_ms"]
    return (f"stats: {body['fps']:.1f} fps, {body['frames']} frames, {body['dropped']} dropped, "
            + (f"latency p50 {lat['p50']:.0f} ms p95 {lat['p95']:.0f} ms, " if "p50" in lat and "p95" in lat else "")
            + f"stages {body['stage_ms']}")


def listen(endpoint: str, count: int | None = None, timeout_s: float = 10.0, out=print) -> int:
    """Print a line per received message until ``count`` came or none for ``timeout_s`` seconds; returns how many
    came. A message that cannot be read is counted and skipped, never the end of the listening."""
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise StreamConfigError(f"--count must be a whole number of messages above 0, got {count!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or \
            not (np.isfinite(timeout_s) and timeout_s > 0):
        raise StreamConfigError(f"--timeout must be a finite number of seconds above 0, got {timeout_s!r}")
    sub = HandSubscriber(endpoint)
    n, deadline, unreadable, last = 0, time.monotonic() + timeout_s, 0, None
    try:
        while (count is None or n < count) and time.monotonic() < deadline:
            msg = sub.recv(200)
            if msg is None:
                continue
            n += 1
            deadline = time.monotonic() + timeout_s
            try:
                line = describe_message(*msg)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:  # decoded, but odd
                unreadable, last = unreadable + 1, f"{msg[0]}: {type(exc).__name__}: {exc}"
                continue
            out(line)
        if sub.malformed or unreadable:
            out(f"{sub.malformed + unreadable} malformed message(s) skipped; last: {last or sub.last_error}")
        if n == 0:
            out(f"nothing arrived on {endpoint} in {timeout_s:g} s: is `realhands run` publishing there "
                "(--endpoint)?")
    finally:
        sub.close()
    return n

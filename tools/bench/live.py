#!/usr/bin/env python3
"""End-to-end figures of the live pipeline on this machine: throughput and latency (median, p95) in real time,
mono and stereo, on the synthetic 30 fps stereo sequence, beside MediaPipe alone run live on the same frames (this
machine's reference: the pipeline cannot be faster than its own first stage); bytes per hand-frame on the wire; and
how a stalled subscriber affects the publisher (publish-call time with and without one, publisher memory).

    python -m tools.bench.live [--frames 150]
"""
import argparse
import resource
import socket
import time

import numpy as np

from realhands.config import LiveConfig
from realhands.live import LivePipeline
from realhands.live.sources import SyntheticSource
from realhands.reconstruct import Reconstructor
from realhands.streaming import HandPublisher, HandSubscriber


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _placement(frames: list, measured: dict, truth: np.ndarray, side: str, fps: float) -> dict:
    """The true side's hand, as published (moved to its publish time) and as measured, against the truth at
    publish time (linear between source frames, the frame's capture-to-publish latency after its capture): mean
    MPJPE and median wrist error, mm, over the same hand-frames."""
    err = {"published": [], "measured": []}
    wrist = {"published": [], "measured": []}
    ahead = []
    for body in frames:
        i = body["source_frame"]
        hands = [h for h in body["hands"] if h["handedness"] == side and h["tracking"] != "lost"]
        if not hands or i not in measured or side not in measured[i][1]:
            continue
        latency_ms, as_measured = measured[i]
        t = min(i + latency_ms / 1000.0 * fps, len(truth) - 1.0)
        k, f = int(np.floor(t)), t - np.floor(t)
        now = truth[k] * (1 - f) + truth[min(k + 1, len(truth) - 1)] * f
        for name, j in (("published", hands[0]["joints"].astype(np.float64)), ("measured", as_measured[side])):
            err[name].append(np.linalg.norm(j - now, axis=1).mean() * 1000)
            wrist[name].append(np.linalg.norm(j[0] - now[0]) * 1000)
        ahead.append(hands[0]["extrapolated_ms"])
    out = {f"mpjpe_{k}": float(np.mean(v)) if v else float("nan") for k, v in err.items()}
    out.update({f"wrist_{k}": float(np.median(v)) if v else float("nan") for k, v in wrist.items()})
    out["extrapolated"] = 100 * float(np.mean([a > 0 for a in ahead])) if ahead else 0.0
    out["ahead_ms"] = float(np.median([a for a in ahead if a > 0])) if any(a > 0 for a in ahead) else 0.0
    return out


def screen_age(published: dict) -> dict:
    """How old the newest hand on a subscriber's screen is over the run: from each frame's capture and publish times
    (s; {source frame: (capture, publish)}), the age at every millisecond between the first and the last publish of
    the newest-captured frame published by then; mean and p95, ms. A dropped frame leaves the one before on screen
    longer; a frame that waited goes out late but still newer than what was shown."""
    items = sorted(published.values(), key=lambda cp: cp[1])
    if len(items) < 2:
        return {"mean": float("nan"), "p95": float("nan")}
    t = np.arange(items[0][1], items[-1][1], 0.001)
    pub = np.array([p for _, p in items])
    newest = np.maximum.accumulate(np.array([c for c, _ in items]))
    age = (t - newest[np.searchsorted(pub, t, side="right") - 1]) * 1000
    return {"mean": float(age.mean()), "p95": float(np.percentile(age, 95))}


def mediapipe_live(src: SyntheticSource, stereo: bool) -> dict:
    """MediaPipe Hands alone, as an app would run it live (``mp.solutions.hands``'s video mode: the palm detector on
    every frame; a stereo frame's two views one after the other), on ``src``'s frames at their frame rate: each
    time it is free it takes the newest frame captured by then, and the frames it skipped are dropped. Frames done
    per second of the clip, frames dropped, latency from capture to landmarks (median, p95 ms)."""
    src.stereo = stereo
    frames = list(src)
    rec = Reconstructor(video=True, texture_size=0, palm_search_frames=1)
    try:
        rec.detect(frames[0].views[0])  # (MediaPipe's graphs built and warm, as the pipeline's are before it starts)
        if stereo:
            rec.detect(frames[0].views[1], view=1)
        period, latency, nxt, dropped = 1.0 / src.fps, [], 0, 0
        t0 = time.monotonic()
        while nxt < len(frames):
            now = time.monotonic() - t0
            newest = min(int(now / period), len(frames) - 1)
            if newest < nxt:  # waiting for the next frame to be captured
                time.sleep(nxt * period - now)
                continue
            dropped += newest - nxt
            f = frames[newest]
            rec.detect(f.views[0])
            if stereo:
                rec.detect(f.views[1], view=1)
            latency.append((time.monotonic() - t0 - newest * period) * 1000)
            nxt = newest + 1
        clip_s = time.monotonic() - t0
    finally:
        rec.close()
    return {"fps": len(latency) / clip_s, "frames_out": len(latency), "dropped": dropped,
            "latency_ms": {"median": float(np.median(latency)), "p95": float(np.percentile(latency, 95))}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--queue-frames", type=int, default=LiveConfig.queue_frames,
                    help="LiveConfig.queue_frames: frames that may wait for a busy stage (1: the frame behind a slow "
                         "one is dropped)")
    ap.add_argument("--texture-size", type=int, default=LiveConfig.texture_size,
                    help="LiveConfig.texture_size (0: no texture)")
    ap.add_argument("--texture-fuse-hz", type=float, default=LiveConfig.texture_fuse_hz,
                    help="LiveConfig.texture_fuse_hz: views a second a hand's texture takes in (each with its mask)")
    ap.add_argument("--texture-cpu-share", type=float, default=LiveConfig.texture_cpu_share,
                    help="LiveConfig.texture_cpu_share: the most of one core the texture stage takes (1: a whole core)")
    ap.add_argument("--modes", nargs="+", choices=("mono", "stereo"), default=["mono", "stereo"])
    args = ap.parse_args()
    src = SyntheticSource(num_frames=args.frames, resolution="640x480", stereo=True)
    truth = np.stack([s.joints3d for s in src.samples])  # (T,21,3) per source frame
    rows, frame_bytes, placement, alone = [], None, [], {}
    for mode, stereo, extrapolate in (("mono", False, 100.0), ("stereo", True, 100.0)):
        if mode not in args.modes:
            continue
        alone[mode] = mediapipe_live(src, stereo)
        src.stereo = stereo
        ep = f"tcp://127.0.0.1:{_port()}"
        pub, sub = HandPublisher(ep), HandSubscriber(ep)
        time.sleep(0.2)
        measured = {}  # source frame -> (capture-to-publish ms, the hands as measured)
        times = {}  # source frame -> (capture, publish) s

        def keep(r, measured=measured, times=times):
            measured[r.frame.index] = (r.latency_ms, {h.handedness: h.joints_3d for h in r.hands})
            now = time.monotonic()  # on_result runs as the frame is published; latency_ms is from its capture
            times[r.frame.index] = (now - r.latency_ms / 1000, now)
        pipe = LivePipeline(src, LiveConfig(stereo=stereo, realtime=True, extrapolate_ms=extrapolate,
                                            queue_frames=args.queue_frames, texture_size=args.texture_size,
                                            texture_fuse_hz=args.texture_fuse_hz,
                                            texture_cpu_share=args.texture_cpu_share), publisher=pub, on_result=keep)
        s = pipe.run().summary()
        pipe.close()
        published = []
        while (msg := sub.recv(100)) is not None:
            if msg[0] == "frame":
                published.append(msg[1])
        sub.close()
        pub.close()
        rows.append((mode, s, screen_age(times)))
        s["texture_rate"] = s["texture_views"] / s["seconds"] if s["seconds"] else 0.0
        placement.append((mode, _placement(published, measured, truth, src.samples[0].side, src.fps)))
        frame_bytes = s["bytes_per_hand_frame"]
    texture = f"texture {args.texture_size}^2 at {args.texture_fuse_hz:g} views/s, at most " \
        f"{args.texture_cpu_share:g} of a core" if args.texture_size else "no texture"
    print(f"live pipeline, synthetic 640x480 stereo sequence at 30 fps, {args.frames} frames, real time "
          f"({args.queue_frames} frame(s) may wait for a busy stage, more are dropped); {texture}, no refinement; "
          "screen age: how old the newest published hand is, over time")
    print(f"{'mode':8s} {'fps':>6s} {'published':>10s} {'dropped':>8s} {'latency med':>12s} {'p95':>7s} "
          f"{'screen age':>11s} {'p95':>6s}  stage medians ms")
    for mode, s, age in rows:
        st = ", ".join(f"{k} {v['median']}" for k, v in s["stage_ms"].items() if v)
        print(f"{mode:8s} {s['fps']:6.1f} {s['frames_out']:10d} {s['dropped']:8d} {s['latency_ms']['median']:10.1f}ms "
              f"{s['latency_ms']['p95']:6.1f} {age['mean']:9.1f}ms {age['p95']:6.1f}  {st}"
              + (f"; {s['texture_rate']:.1f} texture views/s" if args.texture_size else ""))
        a = alone[mode]
        print(f"{'  MP alone':8s} {a['fps']:6.1f} {a['frames_out']:10d} {a['dropped']:8d} "
              f"{a['latency_ms']['median']:10.1f}ms {a['latency_ms']['p95']:6.1f}  (MediaPipe Hands alone, live, the "
              "same frames: this machine's reference)")
    print("the hand against where it is at publish time (the truth interpolated to capture + latency), same "
          "hand-frames, mm: MPJPE mean and wrist median")
    for mode, p in placement:
        print(f"{mode:8s} moved to publish time (extrapolate_ms 100): MPJPE {p['mpjpe_published']:5.1f}, wrist "
              f"{p['wrist_published']:5.1f}   as measured: MPJPE {p['mpjpe_measured']:5.1f}, wrist "
              f"{p['wrist_measured']:5.1f}   ({p['extrapolated']:.0f} % of hand-frames moved, {p['ahead_ms']:.0f} ms "
              "median)")
    tex = rows[0][1]["texture_bytes"]
    print(f"wire: {frame_bytes['median']:.0f} bytes per hand-frame (median; textures and rigs excluded), "
          f"rig {rows[0][1]['rig_bytes']} bytes once" + (f", texture {tex['median']:.0f} bytes per update" if tex
                                                          else ""))
    # a stalled subscriber
    from realhands.streaming import encode, frame_body

    frames = encode("frame", frame_body(1, 1, 1, [])) + [np.zeros(18_000, np.uint8).tobytes()]  # a hand-frame's size
    for stalled in (False, True):
        ep = f"tcp://127.0.0.1:{_port()}"
        pub = HandPublisher(ep, hwm=50)
        subs = [HandSubscriber(ep, rcvhwm=10)] if stalled else []
        time.sleep(0.2)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        for _ in range(5000):
            pub.publish(frames)
        us = (time.perf_counter() - t) / 5000 * 1e6
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        print(f"publish an 18 kB message, {'one stalled subscriber' if stalled else 'no subscriber':22s}: "
              f"{us:6.1f} us per call, publisher memory +{rss:.1f} MiB after 5000 (90 MB offered)")
        for s_ in subs:
            s_.close()
        pub.close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end figures of the live pipeline on this machine: throughput and latency (median, p95) in real time,
mono and stereo, on the synthetic 30 fps stereo sequence; bytes per hand-frame on the wire; and how a stalled
subscriber affects the publisher (publish-call time with and without one, publisher memory).

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
from realhands.streaming import HandPublisher, HandSubscriber


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    args = ap.parse_args()
    src = SyntheticSource(num_frames=args.frames, resolution="640x480", stereo=True)
    rows, frame_bytes = [], None
    for stereo in (False, True):
        src.stereo = stereo
        ep = f"tcp://127.0.0.1:{_port()}"
        pub, sub = HandPublisher(ep), HandSubscriber(ep)
        time.sleep(0.2)
        pipe = LivePipeline(src, LiveConfig(stereo=stereo, realtime=True), publisher=pub)
        s = pipe.run().summary()
        pipe.close()
        got = 0
        while sub.recv_raw(100) is not None:
            got += 1
        sub.close()
        pub.close()
        rows.append((("stereo" if stereo else "mono"), s, got))
        frame_bytes = s["bytes_per_hand_frame"]
    print(f"live pipeline, synthetic 640x480 stereo sequence at 30 fps, {args.frames} frames, real time "
          "(frames a busy stage cannot take are dropped); texture 256^2, no refinement")
    print(f"{'mode':8s} {'fps':>6s} {'published':>10s} {'dropped':>8s} {'latency med':>12s} {'p95':>7s}  "
          "stage medians ms")
    for mode, s, _ in rows:
        st = ", ".join(f"{k} {v['median']}" for k, v in s["stage_ms"].items() if v)
        print(f"{mode:8s} {s['fps']:6.1f} {s['frames_out']:10d} {s['dropped']:8d} {s['latency_ms']['median']:10.1f}ms "
              f"{s['latency_ms']['p95']:6.1f}  {st}")
    print(f"wire: {frame_bytes['median']:.0f} bytes per hand-frame (median; textures and rigs excluded), "
          f"rig {rows[0][1]['rig_bytes']} bytes once, texture {rows[0][1]['texture_bytes']['median']:.0f} bytes "
          "per update")
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

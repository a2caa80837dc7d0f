#!/usr/bin/env python3
"""How soon the default `realhands run` delivers: the time from starting the process to the first hand frame a
subscriber receives, and the frames received in the following seconds (the shipped clip loops, so they keep
coming). Each repeat is a fresh process, as a user pressing Play in Unity would start it.

    python -m tools.bench.first_frame [--repeats 3] [--watch-s 10]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

from tools.bench.live import _port


def one_run(watch_s: float, limit_s: float = 120.0) -> dict:
    import zmq

    from realhands.streaming.wire import decode

    endpoint = f"tcp://127.0.0.1:{_port()}"
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RCVTIMEO, 200)
    sub.connect(endpoint)
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "realhands.cli", "run", "--endpoint", endpoint],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first, frames = None, 0
    try:
        while time.monotonic() - t0 < limit_s and (first is None or time.monotonic() - t0 < first + watch_s):
            try:
                parts = sub.recv_multipart()
            except zmq.Again:
                if proc.poll() is not None:
                    break
                continue
            if parts[0] == b"rh.frame":
                decode(parts)
                frames += 1
                if first is None:
                    first = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        sub.close()
    return {"first_s": first, "fps_after": frames / watch_s if first is not None else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--watch-s", type=float, default=10.0, help="seconds to count frames after the first")
    args = ap.parse_args()
    runs = [one_run(args.watch_s) for _ in range(args.repeats)]
    firsts = [r["first_s"] for r in runs if r["first_s"] is not None]
    print("| run | first hand frame after start (s) | hand frames per second in the next "
          f"{args.watch_s:.0f} s |\n| --- | ---: | ---: |")
    for i, r in enumerate(runs, 1):
        first = "none" if r["first_s"] is None else f"{r['first_s']:.1f}"
        print(f"| {i} | {first} | {r['fps_after']:.1f} |")
    if firsts:
        print(f"| median | {np.median(firsts):.1f} | {np.median([r['fps_after'] for r in runs]):.1f} |")
    print(f"\nCommand: `python -m tools.bench.first_frame --repeats {args.repeats}`, {time.strftime('%Y-%m-%d')}.")
    return 0 if len(firsts) == len(runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())

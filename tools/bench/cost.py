#!/usr/bin/env python3
"""The default pipeline's cost per frame beside MediaPipe alone: the same frames, the same process, one after the
other, every frame processed (no real-time dropping).

    python -m tools.bench.cost                          # 2 sequences x 150 frames of the stereo benchmark's
    python -m tools.bench.cost --markdown docs/live.md  # also write the table between markers

Per path (mono: the left view; stereo: both views), per frame: MediaPipe Hands alone in video mode as
``mp.solutions.hands`` runs it (what an app using MediaPipe pays: with one hand in view and two allowed, its palm
detector runs on every frame; the ratios are to this), the same graph at the pipeline's palm-search cadence
(``palm_search_frames``), and ``Reconstructor(video=True)`` with the live defaults (its own MediaPipe included), without
and with the texture (256-texel atlas, fused at ``texture_fuse_hz``), with the live process's thread settings
(``realtime_threads``). The ratio is of the means: what a second of
video costs. The machine is noisy; ratios measured in one run are what compare.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

from realhands.config import LiveConfig
from realhands.live.sources import SyntheticSource
from realhands.reconstruct import Reconstructor, SecondView, realtime_threads

from . import report_table
from .stereo import KINDS


def _time(frames, step) -> list[float]:
    ms = []
    for f in frames:
        t = time.perf_counter()
        step(f)
        ms.append((time.perf_counter() - t) * 1000)
    return ms


def mediapipe_alone(frames, stereo: bool, palm_search_frames: int = 1) -> list[float]:
    """MediaPipe's hands in each frame and nothing else; palm_search_frames 1 is ``mp.solutions.hands`` itself."""
    rec = Reconstructor(video=True, texture_size=0, palm_search_frames=palm_search_frames)
    try:
        return _time(frames, lambda f: (rec.detect(f.views[0]), rec.detect(f.views[1], view=1) if stereo else None))
    finally:
        rec.close()


def default(frames, stereo: bool, texture_size: int) -> list[float]:
    rec = Reconstructor(LiveConfig(), video=True, texture_size=texture_size)  # the live process's choices

    def step(f):
        ts = f.capture_ns / 1e9
        if not stereo:
            return rec(f.views[0], f.camera, timestamp=ts)
        t = time.perf_counter()
        left, right = rec.detect(f.views[0]), rec.detect(f.views[1], view=1)
        return rec.solve(f.views[0], left, f.camera, timestamp=ts, detect_ms=(time.perf_counter() - t) * 1000,
                         second_view=SecondView(f.views[1], f.pair, right))

    try:
        with realtime_threads():  # the live process's thread settings (LivePipeline.run)
            return _time(frames, step)
    finally:
        rec.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=2)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--seed", type=int, default=700, help="first sequence's seed (as tools.bench.stereo)")
    ap.add_argument("--markdown", nargs="*", default=[], help="files to write the table into (between markers)")
    args = ap.parse_args()
    t0 = time.time()
    runs = {(p, k): [] for p in ("mono", "stereo") for k in ("mediapipe", "cadence", "default", "textured")}
    cadence = LiveConfig().palm_search_frames
    for q in tqdm(range(args.sequences), desc="sequences", unit="seq"):
        kind, side = KINDS[q % len(KINDS)], ("right", "left")[q % 2]
        frames = list(SyntheticSource(kind=kind, num_frames=args.frames, seed=args.seed + q, side=side, stereo=True))
        for path in ("mono", "stereo"):
            stereo = path == "stereo"
            runs[path, "mediapipe"] += mediapipe_alone(frames, stereo)
            runs[path, "cadence"] += mediapipe_alone(frames, stereo, cadence)
            runs[path, "default"] += default(frames, stereo, 0)
            runs[path, "textured"] += default(frames, stereo, LiveConfig().texture_size)
    lines = [f"{args.sequences} sequences x {args.frames} frames of the stereo benchmark (640x480, 30 fps), every "
             "frame processed, one process, one path after the other; ms per frame: mean (median, p90).", "",
             f"| path | MediaPipe alone | MediaPipe, palm search at the cadence ({cadence}) | default, no texture "
             "| ratio | default, with the texture | ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def cell(ms):
        return f"{np.mean(ms):.1f} ({np.median(ms):.1f}, {np.percentile(ms, 90):.1f})"

    for path in ("mono", "stereo"):
        mp = np.mean(runs[path, "mediapipe"])
        lines.append(f"| {path} | {cell(runs[path, 'mediapipe'])} | {cell(runs[path, 'cadence'])} | "
                     f"{cell(runs[path, 'default'])} | "
                     f"{np.mean(runs[path, 'default']) / mp:.2f}x | {cell(runs[path, 'textured'])} | "
                     f"{np.mean(runs[path, 'textured']) / mp:.2f}x |")
    command = f"python -m tools.bench.cost --sequences {args.sequences} --frames {args.frames}"
    report_table("\n".join(lines), command, t0, args.markdown, "cost")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""The keypoint fit's solvers side by side, on the stereo benchmark's held-out sequences and the real photos.

    python -m tools.bench.fit_solvers                        # 6 sequences x 150 frames, both solvers, mono and stereo
    python -m tools.bench.fit_solvers --sequences 2 --frames 60 --solvers lm
    python -m tools.bench.fit_solvers --markdown docs/live.md   # also write the table between markers

The sequences are those of ``tools.bench.stereo`` (same seeds, kinds and sides). MediaPipe runs once per view and
frame, in video mode, and its detections are reused for every solver (its tracking does not depend on our fit), so
the table compares the reconstruction alone: accuracy against the rendered truth, wrong-side frames, jitter, and
the reconstruction's ms per frame (mean, p90: cold restarts are the tail) with the number of cold fits. When the
real photos are there (``../shared/realdata/ge2019_dev``), the one-view fit of each solver is scored on them too,
beside MediaPipe's world landmarks (``realhands eval real3d``).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from realhands.config import FIT_SOLVERS
from realhands.live.sources import SyntheticSource
from realhands.metrics import acceleration_errors_mm, joint_errors
from realhands.reconstruct import Reconstructor, SecondView

from . import report_table
from .stereo import KINDS

ROOT = Path(__file__).resolve().parents[2]
REAL3D = ROOT.parent / "shared" / "realdata" / "ge2019_dev" / "annotations.json"


def detect_sequences(count: int, frames: int, seed: int) -> list[dict]:
    """Render the sequences and run MediaPipe on both views of every frame (video mode), once."""
    out = []
    for q in tqdm(range(count), desc="render + detect", unit="seq"):
        kind, side = KINDS[q % len(KINDS)], ("right", "left")[q % 2]
        src = SyntheticSource(kind=kind, num_frames=frames, seed=seed + q, side=side, stereo=True)
        rec = Reconstructor(video=True, texture_size=0)
        rows = [{"frame": f, "left": rec.detect(f.views[0]), "right": rec.detect(f.views[1], view=1)} for f in src]
        rec.close()
        out.append({"kind": kind, "side": side, "frames": rows})
    return out


def run(sequences: list[dict], solver: str, stereo: bool) -> dict:
    """Reconstruct every frame of every sequence with one solver; per-frame errors and costs."""
    import realhands.reconstruct as reconstruct

    rows, ms, accel, wrong, frames, cold = [], [], [], 0, 0, [0]
    fit_from = reconstruct.Reconstructor._fit_from

    def counting(self, st, init, second_view, **kw):  # count the cold fits (acquisitions and restarts)
        cold[0] += init is None
        return fit_from(self, st, init, second_view, **kw)

    reconstruct.Reconstructor._fit_from = counting
    try:
        for seq in sequences:
            rec = Reconstructor(video=True, texture_size=0, fit_solver=solver)
            joints, truth = {}, {}
            for row in seq["frames"]:
                f = row["frame"]
                t = time.perf_counter()
                second = SecondView(f.views[1], f.pair, row["right"]) if stereo else None
                hands = rec.solve(f.views[0], row["left"], f.camera, timestamp=f.capture_ns / 1e9, second_view=second)
                ms.append((time.perf_counter() - t) * 1000)
                frames += 1
                gt = f.ground_truth
                mine = [h for h in hands if h.handedness == gt["side"]]
                wrong += bool(hands) and not mine
                if mine:
                    e = joint_errors(mine[0].joints_3d, gt["joints"])
                    e["depth_mm"] = abs(mine[0].joints_3d[0, 2] - gt["joints"][0, 2]) * 1000
                    rows.append(e)
                    joints[f.index], truth[f.index] = mine[0].joints_3d, gt["joints"]
            accel += acceleration_errors_mm(joints, truth)
            rec.close()
    finally:
        reconstruct.Reconstructor._fit_from = fit_from
    return {"rows": rows, "ms": ms, "accel": accel, "wrong": wrong, "frames": frames, "cold": cold[0]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=6)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--seed", type=int, default=700, help="first sequence's seed (as tools.bench.stereo)")
    ap.add_argument("--solvers", nargs="+", default=list(FIT_SOLVERS), choices=FIT_SOLVERS)
    ap.add_argument("--real3d", default=str(REAL3D), help="real photos with 3D joints (annotations.json)")
    ap.add_argument("--markdown", nargs="*", default=[], help="files to write the table into (between markers)")
    args = ap.parse_args()
    t0 = time.time()
    sequences = detect_sequences(args.sequences, args.frames, args.seed)
    lines = [f"{args.sequences} held-out sequences x {args.frames} frames (the stereo benchmark's), MediaPipe's "
             "detections computed once and shared; errors in mm against the rendered truth.", "",
             "| solver | path | MPJPE (median) | root-relative | PA-MPJPE | wrist depth (median) | wrong side | "
             "jitter mm/frame² | reconstruction ms/frame (p90) | cold fits |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for solver in args.solvers:
        for path, stereo in (("mono", False), ("stereo", True)):
            r = run(sequences, solver, stereo)
            rows = r["rows"]

            def col(k, rows=rows):
                return [x[k] for x in rows] or [float("nan")]
            lines.append(f"| {solver} | {path} | {np.mean(col('mpjpe_mm')):.1f} ({np.median(col('mpjpe_mm')):.1f}) | "
                         f"{np.mean(col('root_relative_mpjpe_mm')):.1f} | {np.mean(col('pa_mpjpe_mm')):.1f} | "
                         f"{np.median(col('depth_mm')):.1f} | {100 * r['wrong'] / max(r['frames'], 1):.1f} % | "
                         f"{np.mean(r['accel'] or [float('nan')]):.1f} | {np.mean(r['ms']):.0f} "
                         f"({np.percentile(r['ms'], 90):.0f}) | {r['cold']} |")
            print(lines[-1], flush=True)
    if Path(args.real3d).is_file():
        from realhands.evaluation.real3d import evaluate_real3d, real3d_table

        variants = {f"keypoint fit, {s}": {"regressor": "fit", "mask": "none", "fit_solver": s} for s in args.solvers}
        result = evaluate_real3d(args.real3d, variants)
        lines += ["", f"Real photos ({Path(args.real3d).parent.name}, {result['detected']} of {result['samples']} "
                  "found by MediaPipe), one view:", "", real3d_table(result)]
    command = f"python -m tools.bench.fit_solvers --sequences {args.sequences} --frames {args.frames}"
    report_table("\n".join(lines), command, t0, args.markdown, "fit-solvers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

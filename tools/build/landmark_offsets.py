#!/usr/bin/env python3
"""Measure where MediaPipe marks our hand model's keypoints (realhands.fit.landmarks) and write
python_backend/realhands/assets/landmark_offsets.json.

Renders synthetic stereo sequences of the model (ZED Mini 640x480, every gesture kind, both hands; seeds 900..
apart from training's and the benchmarks'), runs MediaPipe on both views of every frame (static mode, one hand),
triangulates its keypoints and takes, per keypoint, the median offset from the true keypoint in the frame of the
joint that carries it.

    python -m tools.build.landmark_offsets                 # 12 sequences x 40 frames, ~15 min here
    python -m tools.build.landmark_offsets --sequences 2 --frames 10 --out /tmp/offsets.json   # a quick look
    python -m tools.build.landmark_offsets --model-path MANO_RIGHT.pkl --out my_offsets.json  # another model

Prints the offsets (mm) and their spread per keypoint.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands.conventions import KEYPOINT_NAMES, SIDES
from realhands.fit.landmarks import OFFSETS_FILE, measure_offsets
from realhands.live.sources import SyntheticSource
from realhands.model import HandModel, model_fingerprint
from realhands.perception.mediapipe_hands import HandDetector

KINDS = ("grasp", "pinch", "count", "wave", "mixed", "enter_exit")
FIRST_SEED = 900


def observe(sequences: int, frames: int, model_path=None) -> dict:
    """Per side: triangulated MediaPipe keypoints, true keypoints and owner-joint rotations of every frame both
    views detected a hand in."""
    models = {s: HandModel(side=s, flat_hand_mean=True, model_path=model_path) for s in SIDES}
    detector = HandDetector(static_image_mode=True, max_num_hands=1)
    obs = {s: {"points": [], "keypoints": [], "frames": []} for s in SIDES}
    bar = tqdm(total=sequences * frames, desc="frames", unit="frame")
    for q in range(sequences):
        kind, side = KINDS[q % len(KINDS)], SIDES[q % 2]
        src = SyntheticSource(kind=kind, num_frames=frames, seed=FIRST_SEED + q, side=side, stereo=True,
                              model_path=model_path, progress=False)
        model = models[side]
        for s in src.samples:
            bar.update()
            left, right = detector.detect(s.rgb_left), detector.detect(s.rgb_right)
            if not left or not right:
                continue
            points = s.pair.triangulate(left[0].keypoints_2d, right[0].keypoints_2d)
            with torch.no_grad():
                out = model(*(torch.as_tensor(np.asarray(x, np.float64)[None], dtype=model.v_template.dtype)
                              for x in (s.pose[:3], s.pose[3:], s.betas[:10], s.transl)))
            R = out.joint_transforms[0, model.keypoint_owners, :3, :3].numpy().astype(np.float64)
            obs[side]["points"].append(points)
            obs[side]["keypoints"].append(out.keypoints[0].numpy().astype(np.float64))
            obs[side]["frames"].append(R)
    bar.close()
    detector.close()
    return {s: {k: np.stack(v) if v else np.zeros((0, 21, 3)) for k, v in o.items()} for s, o in obs.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=12)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--model-path", default=None, help="a MANO-format model file or folder (default: ours)")
    ap.add_argument("--out", type=Path, default=OFFSETS_FILE)
    args = ap.parse_args()
    t0 = time.time()
    obs = observe(args.sequences, args.frames, args.model_path)
    entry, report = {}, {}
    for side, o in obs.items():
        if len(o["points"]) < 20:
            print(f"only {len(o['points'])} {side}-hand frames were detected in both views; give more "
                  "--sequences/--frames", file=sys.stderr)
            return 1
        med, mad = measure_offsets(o["points"], o["keypoints"], o["frames"])
        entry[side] = np.round(med, 5).tolist()
        report[side] = {"frames": len(o["points"]), "mad_mm": np.round(mad * 1000, 1).tolist()}
        print(f"\n{side} hand, {len(o['points'])} frames: offset (x, y, z in the joint's frame) and spread, mm")
        for name, m, d in zip(KEYPOINT_NAMES, med * 1000, mad * 1000, strict=True):
            print(f"  {name:11s} {m[0]:6.1f} {m[1]:6.1f} {m[2]:6.1f}   ± {np.linalg.norm(d):4.1f}")
    model = HandModel(side="right", model_path=args.model_path)
    fingerprint = model_fingerprint(model)
    left_fp = model_fingerprint(HandModel(side="left", model_path=args.model_path))
    doc = json.loads(args.out.read_text()) if args.out.is_file() else {}
    doc.setdefault("models", {})
    doc["about"] = ("Where MediaPipe Hands 0.10.21 marks each keypoint, relative to the model's skeleton: per model "
                    "file (realhands.model.model_fingerprint: its rest mesh, shape basis and UVs, per side), (21,3) "
                    "metres in the frame of the joint that carries the keypoint. Written by `python -m "
                    "tools.build.landmark_offsets`; see realhands/fit/landmarks.py.")
    doc["models"][fingerprint] = {"right": entry["right"]}
    doc["models"][left_fp] = {"left": entry["left"]}
    doc.setdefault("measured", {})[fingerprint] = {
        "command": f"python -m tools.build.landmark_offsets --sequences {args.sequences} --frames {args.frames}",
        "date": time.strftime("%Y-%m-%d"), **{s: report[s] for s in SIDES}}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"\nwrote {args.out} ({(time.time() - t0) / 60:.0f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Realism check: does MediaPipe Hands find our synthetic hands, and where it does, how close are its
keypoints to our projected ground truth? Prints both figures and writes an overlay picture.

    python -m tools.eval.realism_check [--count 500] [--resolution 640x480] [--seed 7] [--out docs/images]

Egocentric samples only (left view) from a ZED Mini (the ZED that mounts on VR headsets, as in the paper's
egocentric setting), with everyday backgrounds (``--backgrounds DIR`` adds your photos;
``--background-style mixed`` measures the harder training mix instead). Acceptance: >= 90% found, median
keypoint distance <= 10 px.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from realhands.synth.generate import SynthConfig, SynthGenerator

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--resolution", default="640x480")
    ap.add_argument("--rig", default="zedm", help="default: the ZED Mini, the headset-mounted ZED of egocentric VR")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/images")
    ap.add_argument("--backgrounds", default=None, help="folder of background photos")
    ap.add_argument("--background-style", default="everyday", choices=["everyday", "mixed"])
    args = ap.parse_args(argv)

    import mediapipe as mp

    gen = SynthGenerator(SynthConfig(rig=args.rig, resolution=args.resolution, egocentric_ratio=1.0,
                                     background_folder=args.backgrounds,
                                     background_style=args.background_style), seed=args.seed)
    hands = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=1, min_detection_confidence=0.5)
    found, errors, per_sample, tiles = 0, [], [], []
    t0 = time.time()
    for i in tqdm(range(args.count), desc="render + MediaPipe", unit="img"):
        s = gen.sample(i)
        res = hands.process(s.rgb_left)
        entry = {"index": i, "side": s.side, "found": bool(res.multi_hand_landmarks)}
        if res.multi_hand_landmarks:
            found += 1
            lm = res.multi_hand_landmarks[0].landmark
            pred = np.array([[p.x * s.rgb_left.shape[1], p.y * s.rgb_left.shape[0]] for p in lm])
            err = np.linalg.norm(pred - s.joints2d_left, axis=1)
            errors.append(err)
            entry["median_px"] = float(np.median(err))
        per_sample.append(entry)
        if len(tiles) < 12:
            img = Image.fromarray(s.rgb_left)
            d = ImageDraw.Draw(img)
            for x, y in s.joints2d_left:
                d.ellipse((x - 3, y - 3, x + 3, y + 3), outline=(0, 255, 0), width=2)
            if res.multi_hand_landmarks:
                for x, y in pred:
                    d.line((x - 4, y - 4, x + 4, y + 4), fill=(255, 0, 0), width=2)
                    d.line((x - 4, y + 4, x + 4, y - 4), fill=(255, 0, 0), width=2)
            tiles.append(np.asarray(img))
    errs = np.concatenate(errors) if errors else np.array([np.nan])
    summary = {
        "samples": args.count, "resolution": args.resolution, "rig": args.rig, "seed": args.seed,
        "background_style": args.background_style,
        "detection_rate": found / args.count,
        "median_keypoint_px": float(np.median(errs)),
        "median_of_per_image_median_px": float(np.median([e["median_px"] for e in per_sample if e["found"]]))
        if found else float("nan"),
        "seconds": round(time.time() - t0, 1),
    }
    print(f"{'samples':28s} {args.count}")
    print(f"{'MediaPipe found the hand':28s} {summary['detection_rate'] * 100:.1f}%  (target >= 90%)")
    print(f"{'median keypoint distance':28s} {summary['median_keypoint_px']:.2f} px  (target <= 10 px)")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [np.concatenate(tiles[r * 4:(r + 1) * 4], 1) for r in range(len(tiles) // 4)]
    if rows:
        grid = Image.fromarray(np.concatenate(rows, 0))
        name = "realism_check" if args.background_style == "everyday" else f"realism_check_{args.background_style}"
        grid.resize((grid.width // 2, grid.height // 2)).save(args.out / f"{name}.png")
    stem = "realism_check" if args.background_style == "everyday" else f"realism_check_{args.background_style}"
    (args.out / f"{stem}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out / 'realism_check.png'} (green circles: ground truth, red crosses: MediaPipe)")
    return summary


if __name__ == "__main__":
    main()

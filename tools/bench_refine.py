#!/usr/bin/env python3
"""Silhouette refinement on held-out synthetic hands: IoU and PA-MPVE before and after 3, 10 and 15 iterations,
starting from the keypoint fit, against the ground-truth mask and against the GrabCut mask; ms per iteration.

    python tools/bench_refine.py [--count 40] [--seed 777]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python_backend"))
from realhands.metrics import mpvpe, silhouette_iou  # noqa: E402
from realhands.perception.segment import grabcut_mask  # noqa: E402
from realhands.reconstruct import Reconstructor  # noqa: E402
from realhands.refine.silhouette import RefineConfig, SilhouetteRefiner, hand_faces  # noqa: E402
from realhands.render.rasterize import rasterize  # noqa: E402
from realhands.synth.generate import SynthConfig, SynthGenerator  # noqa: E402

STEPS = (0, 3, 10, 15)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=777)
    args = ap.parse_args()
    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0,
                                     background_style="everyday"), seed=args.seed)
    rec = Reconstructor()
    iou = {(src, n): [] for src in ("gt", "grabcut") for n in STEPS}
    pve = {(src, n): [] for src in ("gt", "grabcut") for n in STEPS}
    per_iter = []
    for i in tqdm(range(args.count), desc="fit + refine", unit="img"):
        s = gen.sample(i)
        K = s.K_left
        hands = [h for h in rec(s.rgb_left, (K[0, 0], K[1, 1], K[0, 2], K[1, 2])) if h.handedness == s.side]
        if not hands:
            continue
        h = hands[0]
        model = rec.models[h.handedness]
        gt_mask = s.label_left == 1
        masks = {"gt": gt_mask, "grabcut": grabcut_mask(s.rgb_left, h.keypoints_2d)}
        for src, mask in masks.items():
            for n in STEPS:
                if n == 0:
                    v = torch.as_tensor(h.vertices, dtype=torch.float32)[None]
                else:
                    r = SilhouetteRefiner(model, RefineConfig(iterations=n)).refine(h.mano, [mask], [K])
                    v = r.vertices
                    if n == 15 and src == "gt":
                        t0 = time.perf_counter()
                        SilhouetteRefiner(model, RefineConfig(iterations=1)).refine(h.mano, [mask], [K])
                        one = time.perf_counter() - t0
                        per_iter.append((r.seconds - one) / 14)  # marginal cost of one more iteration
                hard = rasterize(v, hand_faces(model), torch.as_tensor(K, dtype=torch.float32)[None], 480, 640).mask[0]
                iou[(src, n)].append(silhouette_iou(hard.numpy(), gt_mask))
                pve[(src, n)].append(mpvpe(v[0].numpy(), s.vertices, "procrustes"))
    print(f"{len(iou[('gt', 0)])} hands; IoU against the ground-truth hand mask, PA-MPVE (mm); mean over hands")
    print(f"{'target mask':12s} " + " ".join(f"{'it ' + str(n):>14s}" for n in STEPS))
    for src in ("gt", "grabcut"):
        print(f"{src:12s} " + " ".join(f"{np.mean(iou[(src, n)]):6.3f} {np.mean(pve[(src, n)]):6.2f}mm" for n in STEPS))
    print(f"ms per iteration (128^2 crop, mono, marginal): {np.median(per_iter) * 1000:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Silhouette refinement on held-out synthetic hands: IoU and PA-MPVE before and after 3, 10 and 15 iterations,
starting from the keypoint fit, against the ground-truth mask and against the GrabCut mask; then ms per
iteration at 64^2, 128^2 and 224^2 silhouettes, mono and stereo.

    python -m tools.bench.refine [--count 40] [--seed 777] [--timing-only] [--device cuda] [--backend nvdiffrast]
"""
import argparse
import copy

import numpy as np
import torch
from tqdm import tqdm

from realhands.metrics import mpvpe, silhouette_iou
from realhands.perception.segment import grabcut_mask
from realhands.reconstruct import Reconstructor
from realhands.refine.silhouette import RefineConfig, SilhouetteRefiner, hand_faces
from realhands.render.rasterize import rasterize
from realhands.synth.generate import SynthConfig, SynthGenerator

STEPS = (0, 3, 10, 15)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--timing-only", action="store_true")
    ap.add_argument("--device", default="cpu", help="where the timing runs: cpu or cuda")
    ap.add_argument("--backend", default="auto", help="silhouette renderer for the timing: auto, soft or nvdiffrast")
    ap.add_argument("--sizes", default="64,128,224", help="silhouette sizes to time, comma-separated")
    args = ap.parse_args()
    if not args.timing_only:
        accuracy(args)
    timing(args)


def timing(args, hands: int = 8):
    """Marginal ms per iteration: (time of 11 iterations - time of 1) / 10, median over hands."""
    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0,
                                     background_style="everyday"), seed=args.seed + 1)
    samples = [gen.sample(i) for i in range(hands)]
    models = {side: copy.deepcopy(m).to(args.device) for side, m in gen.models.items()}
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU threads {torch.get_num_threads()}"
    print(f"ms per refinement iteration (marginal), median over {hands} hands; {where}, backend {args.backend}, "
          f"torch {torch.__version__}")
    print(f"{'silhouette':>10s} {'mono':>7s} {'stereo':>7s}")
    for size in (int(x) for x in args.sizes.split(",")):
        row = []
        for views in (1, 2):
            per = []
            for s in samples:
                model = models[s.side]
                p = {"global_orient": s.pose[None, :3], "hand_pose": s.pose[None, 3:], "betas": s.betas[None],
                     "transl": s.transl[None] + np.array([[0.004, -0.003, 0.01]])}
                masks, cams = [s.label_left == 1, s.label_right == 1][:views], [s.pair.left, s.pair.right][:views]
                ext = [np.eye(4), s.T_right_from_left][:views]
                t = {}
                for n in (1, 11):
                    r = SilhouetteRefiner(model, RefineConfig(iterations=n, crop_size=size, backend=args.backend))
                    best = min(r.refine(p, masks, cams, ext).seconds for _ in range(2))
                    t[n] = best
                per.append((t[11] - t[1]) / 10)
            row.append(np.median(per) * 1000)
        print(f"{str(size) + '^2':>10s} {row[0]:7.1f} {row[1]:7.1f}")


def accuracy(args):
    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0,
                                     background_style="everyday"), seed=args.seed)
    rec = Reconstructor()
    iou = {(src, n): [] for src in ("gt", "grabcut") for n in STEPS}
    pve = {(src, n): [] for src in ("gt", "grabcut") for n in STEPS}
    for i in tqdm(range(args.count), desc="fit + refine", unit="img"):
        s = gen.sample(i)
        hands = [h for h in rec(s.rgb_left, s.camera) if h.handedness == s.side]
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
                    r = SilhouetteRefiner(model, RefineConfig(iterations=n)).refine(h.mano, [mask], [s.camera])
                    v = r.vertices
                K = s.camera.K_tensor(torch.float32)[None]
                hard = rasterize(v, hand_faces(model), K, 480, 640).mask[0]
                iou[(src, n)].append(silhouette_iou(hard.numpy(), gt_mask))
                pve[(src, n)].append(mpvpe(v[0].numpy(), s.vertices, "procrustes"))
    print(f"{len(iou[('gt', 0)])} hands; IoU against the ground-truth hand mask, PA-MPVE (mm); mean over hands")
    print(f"{'target mask':12s} " + " ".join(f"{'it ' + str(n):>14s}" for n in STEPS))
    for src in ("gt", "grabcut"):
        print(f"{src:12s} " + " ".join(f"{np.mean(iou[(src, n)]):6.3f} {np.mean(pve[(src, n)]):6.2f}mm" for n in STEPS))



if __name__ == "__main__":
    main()

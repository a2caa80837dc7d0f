#!/usr/bin/env python3
"""HandNet on a held-out synthetic split (rendered with another seed than the training data): PA-MPVE, F@5 and
F@15 mm, mask IoU, against baselines (the mean pose; the keypoint fit alone) and in the hybrids: the pipeline's (the
keypoint fit from HandNet's articulation and shape, as `reconstruct` runs it) and the one before 2026-11-27 (HandNet's
whole estimate refined by a short keypoint fit). MediaPipe-like keypoints: the ground truth 2D keypoints
with Gaussian noise. Prints a markdown table and writes JSON.

    python -m tools.eval.handnet --model runs/cpu_quick/handnet_cpu.onnx [--count 120] [--json out.json]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands.conventions import MANO_PARAM_NAMES
from realhands.fit.keypoint_fit import KeypointFitter
from realhands.metrics import f_score, mpvpe, silhouette_iou
from realhands.model import HandModel
from realhands.net.infer import HandNetRegressor
from realhands.synth.dataset import SynthOnTheFlyDataset, sample_pair

ROOT = Path(__file__).resolve().parents[2]


#: the pipeline's hybrid (the default): the cold keypoint fit from HandNet's articulation and shape
HYBRID = "fit from HandNet's articulation (the hybrid, default)"
#: the hybrid until 2026-11-27: HandNet's whole estimate refined by a short fit
OLD_HYBRID = "HandNet's estimate + 10-step fit (old hybrid)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HandNet ONNX file")
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument("--seed", type=int, default=99, help="held-out split seed (training data used seed 1)")
    ap.add_argument("--noise-px", type=float, default=2.5)
    ap.add_argument("--json")
    args = ap.parse_args()
    reg = HandNetRegressor(args.model)
    models = {s: HandModel(side=s, flat_hand_mean=True) for s in ("right", "left")}
    fitters = {s: KeypointFitter(m) for s, m in models.items()}
    data = SynthOnTheFlyDataset(args.count, seed=args.seed)
    rng = np.random.default_rng(0)
    rows = {k: {"pa_mpve": [], "f5": [], "f15": [], "ms": []}
            for k in ("mean pose", "keypoint fit", "HandNet", OLD_HYBRID, HYBRID)}
    ious = []
    for i in tqdm(range(args.count), desc="eval", unit="sample"):
        s = data[i]
        side, m = s["side"], models[s["side"]]
        img = (s["rgb_left"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        camera = sample_pair(s).left
        kp = s["joints2d_left"].numpy() + rng.normal(0, args.noise_px, (21, 2))
        gt = s["vertices"].numpy()

        def score(name, params, ms, m=m, gt=gt):
            with torch.no_grad():
                t = {k: torch.as_tensor(np.asarray(p, np.float32).reshape(1, -1)) for k, p in params.items()}
                v = m(**t).vertices[0].numpy()
            rows[name]["pa_mpve"].append(mpvpe(v, gt, align="procrustes"))
            rows[name]["f5"].append(f_score(v, gt, 0.005))
            rows[name]["f15"].append(f_score(v, gt, 0.015))
            rows[name]["ms"].append(ms)

        t = time.perf_counter()
        est = reg.predict(img, kp, side, camera, m)
        t_net = (time.perf_counter() - t) * 1000
        score("HandNet", est.params, t_net)
        ious.append(silhouette_iou(est.mask, s["mask_left"].numpy()))
        mean = dict(est.params, hand_pose=np.asarray(m.data.hands_mean, np.float32), betas=np.zeros(10))
        score("mean pose", mean, 0.0)
        t = time.perf_counter()
        fit = fitters[side].fit(kp[None], camera.K[None])
        score("keypoint fit", {k: getattr(fit, k)[0].numpy() for k in MANO_PARAM_NAMES},
              (time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        hyb = fitters[side].fit(kp[None], camera.K[None], init={k: np.asarray(v)[None] for k, v in est.params.items()})
        score(OLD_HYBRID, {k: getattr(hyb, k)[0].numpy() for k in MANO_PARAM_NAMES},
              t_net + (time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        hyb = fitters[side].fit(kp[None], camera.K[None], articulation=est.params, also_from_mean=True)
        score(HYBRID, {k: getattr(hyb, k)[0].numpy() for k in MANO_PARAM_NAMES},
              t_net + (time.perf_counter() - t) * 1000)
    summary = {k: {m_: float(np.mean(v)) for m_, v in r.items()} for k, r in rows.items()}
    summary["HandNet"]["mask_iou"] = float(np.mean(ious))
    print(f"held-out synthetic split: {args.count} samples (seed {args.seed}), left view, keypoint noise "
          f"{args.noise_px} px; model {args.model}\n")
    print("| method | PA-MPVE mm | F@5 mm | F@15 mm | ms per hand |\n| --- | ---: | ---: | ---: | ---: |")
    for k, r in summary.items():
        print(f"| {k} | {r['pa_mpve']:.2f} | {r['f5']:.3f} | {r['f15']:.3f} | {r['ms']:.1f} |")
    print(f"\nHandNet mask IoU: {summary['HandNet']['mask_iou']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"count": args.count, "seed": args.seed, "noise_px": args.noise_px,
                                               "model": str(args.model), "results": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

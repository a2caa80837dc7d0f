#!/usr/bin/env python3
"""Keypoint fitting against MediaPipe's own 3D, on a held-out synthetic set; prints a table, writes a PCK plot.

    python -m tools.bench.fit [--count 200] [--seed 4242] [--out docs/images]

Held-out set: egocentric stereo renders (left view), 640x480, ZED Mini, everyday backgrounds, a seed the
training data does not use. For each hand MediaPipe finds: 2D keypoint error (px), PA-MPJPE and root-relative
MPJPE (mm), absolute root depth error (mm), for our fit and for MediaPipe's world landmarks (which have no
absolute position); the fit's time per hand, cold and warm (the same hand again from a slightly perturbed
answer: rotations 0.02 rad and position 5 mm off, as from the previous frame at 30 fps), and the total per
image; mask IoU of keypoint-seeded GrabCut
against the HSV skin baseline.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands import metrics as M
from realhands.perception.segment import grabcut_mask, hsv_skin_mask
from realhands.reconstruct import Reconstructor
from realhands.synth.generate import SynthConfig, SynthGenerator

ROOT = Path(__file__).resolve().parents[2]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/images")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # time one hand on one core, as the live pipeline runs it

    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0,
                                     background_style="everyday"), seed=args.seed)
    rec = Reconstructor()
    rows = {k: [] for k in ("kp_mp", "kp_fit", "pa_fit", "pa_mp", "rr_fit", "rr_mp", "depth_fit", "t_cold",
                            "t_warm", "pa_warm", "t_image", "iou_gc", "iou_hsv", "err_fit", "err_mp")}
    found = 0
    for i in tqdm(range(args.count), desc="render, detect, fit", unit="img"):
        s = gen.sample(i)
        t0 = time.perf_counter()
        hands = rec(s.rgb_left, s.camera)
        rows["t_image"].append(time.perf_counter() - t0)
        match = [h for h in hands if h.handedness == s.side] or hands
        if not match:
            continue
        found += 1
        h = match[0]
        det = rec.detector.detect(s.rgb_left)[0]
        gt = s.joints3d.astype(np.float64)
        rows["kp_mp"].append(np.linalg.norm(h.keypoints_2d - s.joints2d_left, axis=1).mean())
        rows["kp_fit"].append(np.linalg.norm(s.camera.project(h.joints_3d) - s.joints2d_left, axis=1).mean())
        wl = det.world_landmarks
        e_fit = M.per_point_error_mm(h.joints_3d, gt, "procrustes")
        e_mp = M.per_point_error_mm(wl, gt, "procrustes")
        rows["err_fit"].append(e_fit)
        rows["err_mp"].append(e_mp)
        rows["pa_fit"].append(e_fit.mean())
        rows["pa_mp"].append(e_mp.mean())
        rows["rr_fit"].append(M.mpjpe(h.joints_3d, gt, "root"))
        rows["rr_mp"].append(M.mpjpe(wl, gt, "root"))
        rows["depth_fit"].append(abs(h.joints_3d[0, 2] - gt[0, 2]) * 1000)
        rows["t_cold"].append(h.timings_ms["fit"] / 1000)
        fitter = rec.fitters[h.handedness]
        # the previous video frame's answer: rotations 0.02 rad and position 5 mm away, same shape
        step = {"global_orient": 0.02, "hand_pose": 0.02, "betas": 0.0, "transl": 0.005}
        prng = np.random.default_rng(i)
        init = {k: torch.as_tensor(np.asarray(v)[None] + prng.normal(0, step[k], np.shape(v)), dtype=torch.float32)
                for k, v in h.mano.items()}
        warm = fitter.fit(det.keypoints_2d[None], s.camera.K[None], det.world_landmarks[None], init=init)
        rows["t_warm"].append(warm.seconds)
        rows["pa_warm"].append(M.mpjpe(warm.joints3d[0].numpy(), gt, "procrustes"))
        gt_mask = s.label_left == 1
        rows["iou_gc"].append(M.silhouette_iou(grabcut_mask(s.rgb_left, det.keypoints_2d), gt_mask))
        rows["iou_hsv"].append(M.silhouette_iou(hsv_skin_mask(s.rgb_left), gt_mask))

    med = {k: float(np.median(v)) if v else float("nan") for k, v in rows.items() if not k.startswith("err")}
    auc_fit = M.pck_auc(np.concatenate(rows["err_fit"])) if rows["err_fit"] else float("nan")
    auc_mp = M.pck_auc(np.concatenate(rows["err_mp"])) if rows["err_mp"] else float("nan")
    print(f"held-out set: {args.count} egocentric renders, seed {args.seed}; MediaPipe found {found} hands")
    print(f"{'figure (median over hands)':34s} {'our fit':>10s} {'MediaPipe':>10s}")
    print(f"{'2D keypoint error, px':34s} {med['kp_fit']:10.2f} {med['kp_mp']:10.2f}")
    print(f"{'PA-MPJPE, mm':34s} {med['pa_fit']:10.2f} {med['pa_mp']:10.2f}")
    print(f"{'PCK AUC 0-50 mm (PA-aligned)':34s} {auc_fit:10.3f} {auc_mp:10.3f}")
    print(f"{'root-relative MPJPE, mm':34s} {med['rr_fit']:10.2f} {med['rr_mp']:10.2f}")
    print(f"{'absolute root depth error, mm':34s} {med['depth_fit']:10.1f} {'n/a':>10s}")
    print(f"{'fit time per hand, cold, ms':34s} {med['t_cold'] * 1000:10.1f}")
    print(f"{'fit time per hand, warm, ms':34s} {med['t_warm'] * 1000:10.1f}")
    print(f"{'PA-MPJPE after the warm fit, mm':34s} {med['pa_warm']:10.2f}")
    print(f"{'total per image (detect+fit+mesh), ms':34s} {med['t_image'] * 1000:10.1f}")
    print(f"{'mask IoU: GrabCut vs HSV baseline':34s} {med['iou_gc']:10.3f} {med['iou_hsv']:10.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"count": args.count, "seed": args.seed, "hands": found, "pck_auc_fit": auc_fit,
               "pck_auc_mediapipe": auc_mp,
               **{k: round(v, 4) for k, v in med.items()}}
    (args.out / "bench_fit.json").write_text(json.dumps(summary, indent=2) + "\n")
    if rows["err_fit"]:
        from PIL import Image, ImageDraw

        W, H = 420, 300
        img = Image.new("RGB", (W, H), "white")
        d = ImageDraw.Draw(img)
        d.rectangle((40, 20, W - 20, H - 40), outline=(0, 0, 0))
        for name, errs, col in (("our fit", rows["err_fit"], (30, 100, 220)),
                                ("MediaPipe 3D", rows["err_mp"], (220, 80, 30))):
            t, pck = M.pck_curve(np.concatenate(errs))
            pts = [(40 + (W - 60) * x / 50.0, H - 40 - (H - 60) * y) for x, y in zip(t, pck, strict=True)]
            d.line(pts, fill=col, width=2)
            label = f"{name} (AUC {M.pck_auc(np.concatenate(errs)):.2f})"
            d.text((W - 150, H - 90 + 15 * (name != "our fit")), label, fill=col)
        d.text((45, H - 35), "0 mm", fill=(0, 0, 0))
        d.text((W - 60, H - 35), "50 mm", fill=(0, 0, 0))
        d.text((5, 20), "1.0", fill=(0, 0, 0))
        d.text((120, 2), "3D PCK, Procrustes-aligned (held-out synthetic)", fill=(0, 0, 0))
        img.save(args.out / "pck_fit_vs_mediapipe.png")
    return summary


if __name__ == "__main__":
    main()

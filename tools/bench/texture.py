#!/usr/bin/env python3
"""Texture fusion on held-out synthetic sequences: PSNR of the fused atlas against the ground-truth skin texture
after N frames, mono and stereo, projected with the ground-truth mesh (the texture stage alone) and with the
pipeline's own mesh (keypoint fit + 3 refinement iterations against the GrabCut mask); ms per update.
Writes a picture: ground truth | fused (ground-truth mesh, stereo) | fused (pipeline, mono); texels never seen
(filled by push-pull) are shown at half brightness.

    python -m tools.bench.texture [--sequences 2] [--frames 60] [--out docs/images/texture_fusion.png]

PSNR is over the texels seen at least once, after one least-squares gain per colour channel (the images are
lit: albedo times shading, which a texture taken from images keeps, so the gain removes the mean lighting).
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands.reconstruct import Reconstructor
from realhands.synth.generate import SynthConfig, SynthGenerator
from realhands.texture import TextureFusion, UVAtlas, combine, observe

CHECKPOINTS = (1, 5, 15, 30, 60)


def psnr(fusion: TextureFusion, truth: np.ndarray, first: np.ndarray | None = None) -> tuple:
    """PSNR over the seen texels, over the whole atlas (unseen texels filled), coverage, and PSNR over ``first``
    (the texels the first frame saw: whether later frames improve what is known or spoil it)."""
    valid = fusion.atlas.valid
    seen = fusion.seen & valid
    if not seen.any():
        return float("nan"), float("nan"), 0.0, float("nan")
    img = fusion.image() / 255.0
    est, gt = img[seen], truth[seen] / 255.0
    gain = (est * gt).sum(0) / np.maximum((est * est).sum(0), 1e-9)

    def db(mask):
        mse = ((img[mask] * gain - truth[mask] / 255.0) ** 2).mean()
        return float(10 * np.log10(1.0 / max(mse, 1e-12)))

    return db(seen), db(valid), float(seen[valid].mean()), db(first) if first is not None and first.any() \
        else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=2)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--out", default="docs/images/texture_fusion.png")
    ap.add_argument("--lighting", default="flat", choices=["flat", "random"],
                    help="flat: images show the albedo, so PSNR measures projection and fusion (default); "
                         "random: the training data's lights, whose shading the texture keeps")
    ap.add_argument("--delight", action="store_true", help="divide each view's fitted shading out (albedo)")
    args = ap.parse_args()
    cfg = SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0, background_style="everyday",
                      texture_size=256, lighting=args.lighting)
    gen = SynthGenerator(cfg, seed=args.seed)
    rows = {k: {n: [] for n in CHECKPOINTS if n <= args.frames} for k in ("gt mono", "gt stereo", "pipeline mono")}
    update_ms, pictures = [], None
    for q in range(args.sequences):
        frames = gen.sequence(q, kind="mixed", num_frames=args.frames)
        side, truth = frames[0].side, frames[0].texture
        faces = gen.models[side].faces_tensor
        atlas = UVAtlas.for_model(gen.models[side].data, truth.shape[0])
        fusions = {k: TextureFusion(atlas) for k in ("gt mono", "gt stereo")}
        rec = Reconstructor(video=True, mask="grabcut", refine_iterations=3, texture_size=truth.shape[0],
                            texture_delight=args.delight)
        first = {}
        for i, s in enumerate(tqdm(frames, desc=f"sequence {q + 1}/{args.sequences}", unit="frame")):
            pair = s.pair
            v_left = torch.as_tensor(s.vertices)
            v_right = pair.to_right(v_left)
            t0 = time.perf_counter()
            left = observe(atlas, v_left, faces, pair.left, s.rgb_left, mask=s.label_left == 1, delight=args.delight)
            fusions["gt mono"].update(left)
            update_ms.append((time.perf_counter() - t0) * 1000)
            right = observe(atlas, v_right, faces, pair.right, s.rgb_right, mask=s.label_right == 1,
                            delight=args.delight)
            fusions["gt stereo"].update(combine([left, right]))
            rec(s.rgb_left, s.camera, timestamp=i / 30.0)
            current = list(fusions.items()) + [("pipeline mono", rec.textures.get(side))]
            for k, f in current:
                if k not in first and f is not None and f.seen.any():
                    first[k] = f.seen & f.atlas.valid
            if i + 1 in rows["gt mono"]:
                for k, f in current:
                    rows[k][i + 1].append(psnr(f, truth, first.get(k)) if f is not None
                                          else (float("nan"),) * 2 + (0.0, float("nan")))
        if q == 0:
            pipe = rec.textures.get(side)
            def shown(f, truth=truth):
                if f is None:
                    return np.zeros_like(truth)
                img = f.image().astype(np.float32)
                img[~(f.seen & f.atlas.valid)] *= 0.5
                return img.astype(np.uint8)

            pictures = [truth, shown(fusions["gt stereo"]), shown(pipe)]
        rec.close()
    print(f"{args.sequences} sequences x {args.frames} frames (640x480 ZED Mini, everyday backgrounds, {args.lighting} "
          f"lighting{', shading divided out' if args.delight else ''});"
          " PSNR (dB) after a per-channel gain: seen texels / whole atlas (gaps filled) / share of the atlas seen /"
          " the texels the first frame saw")
    print(f"{'projection':16s} " + " ".join(f"{'after ' + str(n) + ' frames':>27s}" for n in rows["gt mono"]))
    for k, r in rows.items():
        cells = []
        for v in r.values():
            a = np.array(v, dtype=float)
            cells.append(f"{np.nanmean(a[:, 0]):5.1f} /{np.nanmean(a[:, 1]):5.1f} /{np.mean(a[:, 2]):4.0%} /"
                         f"{np.nanmean(a[:, 3]):5.1f}")
        print(f"{k:16s} " + " ".join(f"{c:>27s}" for c in cells))
    print(f"observe + update, one view, 256^2 atlas: {np.median(update_ms):.1f} ms (median)")
    if args.out and pictures is not None:
        from PIL import Image

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(pictures, axis=1)).save(out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

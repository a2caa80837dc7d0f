#!/usr/bin/env python3
"""Texture fusion on held-out synthetic sequences: PSNR of the fused atlas against the ground-truth skin texture
after N frames, projected with the ground-truth mesh (the texture stage alone, mono and stereo) and with the
pipeline's own mesh (the default reconstruction: the hybrid fit, HandNet's mask; mono, and stereo with both views
fitting the hand and feeding the texture in turns, as live); ms per update. ``--kind turn`` is the guided
capture's sequence (the hand turned over: back, palm, sides); the last line then gives the capture's figures.
Writes a picture: ground truth | fused (ground-truth mesh, stereo) | fused (pipeline, stereo); texels never seen
(filled from the skin model) are shown at half brightness.

    python -m tools.bench.texture [--sequences 2] [--frames 60] [--kind mixed|turn] [--lighting flat|random]
                                  [--delight] [--out docs/images/texture_fusion.png]

PSNR is of the texture as shipped (``TextureFusion.image``), over the texels seen at least once, after one
least-squares gain per colour channel (the images are lit: albedo times shading, which a texture taken from
images keeps, so the gain removes the mean lighting). The skin model (texture.skin_fill) fills the unseen texels
and replaces seen ones too far from skin to be skin; "whole atlas" with push-pull's fill (nothing replaced) is
given beside it for the pipeline rows.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands.personal import HandCapture
from realhands.reconstruct import Reconstructor, SecondView
from realhands.synth.generate import SynthConfig, SynthGenerator
from realhands.texture import TextureFusion, UVAtlas, combine, observe

CHECKPOINTS = (1, 5, 15, 30, 60)


def psnr(fusion: TextureFusion, truth: np.ndarray, first: np.ndarray | None = None) -> tuple:
    """PSNR of the texture as shipped (``TextureFusion.image``: seen texels as fused, but those too far from the
    skin model to be skin replaced by it; unseen ones filled from it) over the seen texels, over the whole atlas,
    coverage, over ``first`` (the texels the first frame saw: whether later frames improve what is known or spoil
    it); and over the whole atlas with push-pull's fill instead of the skin model (nothing replaced)."""
    valid = fusion.atlas.valid
    seen = fusion.seen & valid
    if not seen.any():
        return (float("nan"),) * 2 + (0.0,) + (float("nan"),) * 2
    skin = fusion.skin_model
    fusion.skin_model = False
    plain = fusion.image() / 255.0
    fusion.skin_model = skin
    img = fusion.image() / 255.0
    est, gt = img[seen], truth[seen] / 255.0
    gain = (est * gt).sum(0) / np.maximum((est * est).sum(0), 1e-9)

    def db(image, mask):
        mse = ((image[mask] * gain - truth[mask] / 255.0) ** 2).mean()
        return float(10 * np.log10(1.0 / max(mse, 1e-12)))

    return db(img, seen), db(img, valid), float(seen[valid].mean()), db(img, first) \
        if first is not None and first.any() else float("nan"), db(plain, valid)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sequences", type=int, default=2)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--kind", default="mixed", help="sequence kind (synth.sequence.GESTURES); turn: the guided capture")
    ap.add_argument("--out", default="docs/images/texture_fusion.png")
    ap.add_argument("--lighting", default="flat", choices=["flat", "random"],
                    help="flat: images show the albedo, so PSNR measures projection and fusion (default); "
                         "random: the training data's lights, whose shading the texture keeps")
    ap.add_argument("--delight", action="store_true", help="divide each view's fitted shading out (albedo)")
    ap.add_argument("--refine", type=int, default=0, help="pipeline rows: silhouette refinement steps (default 0)")
    args = ap.parse_args()
    cfg = SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0, background_style="everyday",
                      texture_size=256, lighting=args.lighting)
    gen = SynthGenerator(cfg, seed=args.seed)
    kinds = ("gt mono", "gt stereo", "pipeline mono", "pipeline stereo")
    rows = {k: {n: [] for n in CHECKPOINTS if n <= args.frames} for k in kinds}
    if args.frames not in rows["gt mono"]:
        for r in rows.values():
            r[args.frames] = []
    update_ms, pictures, progress = [], None, []
    for q in range(args.sequences):
        frames = gen.sequence(q, kind=args.kind, num_frames=args.frames)
        side, truth = frames[0].side, frames[0].texture
        faces = gen.models[side].faces_tensor
        atlas = UVAtlas.for_model(gen.models[side].data, truth.shape[0])
        fusions = {k: TextureFusion(atlas) for k in ("gt mono", "gt stereo")}
        recs = {k: Reconstructor(video=True, texture_size=truth.shape[0], texture_delight=args.delight,
                                 texture_fuse_hz=1000.0, refine_iterations=args.refine)
                for k in ("pipeline mono", "pipeline stereo")}
        capture = HandCapture(side)
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
            recs["pipeline mono"](s.rgb_left, s.camera, timestamp=i / 30.0)
            rs = recs["pipeline stereo"]
            dets, dets2 = rs.detect(s.rgb_left), rs.detect(s.rgb_right, view=1)
            hands = rs.solve(s.rgb_left, dets, s.camera, timestamp=i / 30.0,
                             second_view=SecondView(s.rgb_right, pair, dets2))
            capture.update(rs, hands)
            current = list(fusions.items()) + [(k, r.textures.get(side)) for k, r in recs.items()]
            for k, f in current:
                if k not in first and f is not None and f.seen.any():
                    first[k] = f.seen & f.atlas.valid
            if i + 1 in rows["gt mono"]:
                for k, f in current:
                    rows[k][i + 1].append(psnr(f, truth, first.get(k)) if f is not None
                                          else (float("nan"),) * 2 + (0.0,) + (float("nan"),) * 2)
        progress.append((capture.last, capture.frames))
        if q == 0:
            def shown(f, truth=truth):
                if f is None:
                    return np.zeros_like(truth)
                img = f.image().astype(np.float32)
                img[~(f.seen & f.atlas.valid)] *= 0.5
                return img.astype(np.uint8)

            pictures = [truth, shown(fusions["gt stereo"]), shown(recs["pipeline stereo"].textures.get(side))]
        for r in recs.values():
            r.close()
    print(f"{args.sequences} sequences x {args.frames} frames of kind {args.kind} (640x480 ZED Mini, everyday "
          f"backgrounds, {args.lighting} lighting{', shading divided out' if args.delight else ''}"
          f"{f', pipeline refined {args.refine} steps' if args.refine else ''});"
          " PSNR (dB) after a per-channel gain: seen texels / whole atlas (unseen filled from the skin model) / share"
          " of the atlas seen / the texels the first frame saw [/ whole atlas with push-pull's fill]")
    print(f"{'projection':16s} " + " ".join(f"{'after ' + str(n) + ' frames':>34s}" for n in rows["gt mono"]))
    for k, r in rows.items():
        cells = []
        for v in r.values():
            a = np.array(v, dtype=float)
            cells.append(f"{np.nanmean(a[:, 0]):5.1f} /{np.nanmean(a[:, 1]):5.1f} /{np.mean(a[:, 2]):4.0%} /"
                         f"{np.nanmean(a[:, 3]):5.1f}" + (f" [{np.nanmean(a[:, 4]):5.1f}]" if "pipeline" in k else ""))
        print(f"{k:16s} " + " ".join(f"{c:>34s}" for c in cells))
    print(f"observe + update, one view, 256^2 atlas: {np.median(update_ms):.1f} ms (median)")
    print("guided capture (pipeline stereo, realhands.personal), per sequence: "
          + "; ".join(f"{'done' if p.done else 'step ' + p.step} after {n} frames, seen well "
                      + ", ".join(f"{k} {v:.0%}" for k, v in p.seen.items()) + f", coverage {p.coverage:.0%}"
                      for p, n in progress))
    if args.out and pictures is not None:
        from PIL import Image

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(pictures, axis=1)).save(out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the synthetic renderer; prints a table of images per second.

    python -m tools.bench.renderer [--device cpu|cuda] [--repeats 5]

Rows: the renderer alone (posed hand + forearm, textured, shaded, label map; a batch of 8 different hands),
without and with ambient occlusion (computed per distinct hand), and a full synthetic stereo sample (scene
sampling, skin texture, both views sharing one occlusion pass, background, camera effects), per view.
"""
import argparse
import time

import numpy as np
import torch

from realhands.synth.generate import SynthConfig, SynthGenerator


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"device: {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'what':34s} {'resolution':>10s} {'ssaa':>4s} {'images/s':>9s} {'ms/image':>9s}")
    for res in ("256x256", "640x480"):
        for ssaa in (1, 2):
            gen = SynthGenerator(SynthConfig(resolution=res, ssaa=ssaa), seed=0, device=args.device)
            rig, r = gen.rig, gen.renderers["right"]
            B = 8
            hands = [gen.sample(i) for i in range(2)]  # warm-up, and realistic textures
            s = gen.models["right"]
            from realhands.synth.sampling import sample_hand
            rng = np.random.default_rng(0)
            samples = [sample_hand(s.data, rng, rig) for _ in range(B)]
            t = lambda k: torch.as_tensor(np.stack([getattr(x, k) for x in samples]), dtype=torch.float32,  # noqa
                                          device=args.device)
            with torch.no_grad():
                out = s(global_orient=t("global_orient"), hand_pose=t("hand_pose"), betas=t("betas"),
                        transl=t("transl"))
            fore = r.pose_forearm(out.skin_transforms[:, 0])
            tex = torch.rand(B, 3, 256, 256, device=args.device) * 0.2 + 0.6
            colours = r.forearm_colours(tex)
            K = torch.as_tensor(rig.K, dtype=torch.float32, device=args.device)[None].expand(B, 3, 3)
            R = torch.eye(3, device=args.device)[None].expand(B, 3, 3)
            tt = torch.zeros(B, 3, device=args.device)
            for occ in (False, True):
                r.render(out.vertices, fore, tex, colours, K, R, tt, rig.height, rig.width, ssaa=ssaa, occlusion=occ)
                sync(args.device)
                t0 = time.perf_counter()
                for _ in range(args.repeats):
                    r.render(out.vertices, fore, tex, colours, K, R, tt, rig.height, rig.width, ssaa=ssaa,
                             occlusion=occ)
                sync(args.device)
                per = (time.perf_counter() - t0) / (args.repeats * B)
                name = f"renderer, batch 8{', occlusion' if occ else ''}"
                print(f"{name:34s} {res:>10s} {ssaa:4d} {1 / per:9.1f} {per * 1000:9.1f}")
            t0 = time.perf_counter()
            n = max(2, args.repeats)
            for i in range(n):
                gen.sample(100 + i)
            sync(args.device)
            per = (time.perf_counter() - t0) / (2 * n)
            print(f"{'full stereo sample (per view)':34s} {res:>10s} {ssaa:4d} {1 / per:9.1f} {per * 1000:9.1f}")
            del hands


if __name__ == "__main__":
    main()

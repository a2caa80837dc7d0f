#!/usr/bin/env python3
"""Benchmark the soft silhouette rasteriser (forward + backward, the cost of one refinement iteration's
rendering); prints a table.

    python -m tools.bench.soft [--device cpu|cuda] [--repeats 10]

A hand filling most of a square silhouette image (as in a hand crop), mono (1 view) and stereo (2 views).
Columns: "exact" is every face over its full reach (eps 1e-5); "refine" is what the refinement runs, eps 1e-3
and a SilhouetteSequence that takes the previous step's silhouette as the solid interior (the mesh moves
0.3 px per step here).
"""
import argparse
import time

import torch

from realhands.camera import Camera
from realhands.model import HandModel
from realhands.render.soft import SilhouetteSequence, soft_silhouette


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    dev = torch.device(args.device)
    m = HandModel(flat_hand_mean=True).to(dev)
    faces = m.faces_tensor
    pose = torch.as_tensor(m.data.pose_library[[1]], dtype=torch.float32, device=dev)
    R = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], device=dev)
    base = (m(hand_pose=pose).vertices @ R.T + torch.tensor([0.0, 0.03, 0.45], device=dev)).detach()
    print(f"device: {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{len(faces)} faces")
    print("forward + backward, ms per call")
    print(f"{'silhouette':>10s} {'views':>5s} {'exact':>7s} {'refine':>7s}")
    for size in (64, 128, 224):
        f = size * 0.45 / 0.22  # the hand (~22 cm incl. spread) spans the image
        for views in (1, 2):
            K = Camera(f, f, size / 2, size / 2).K_tensor(torch.float32, dev)[None].expand(views, 3, 3)
            v = base.expand(views, -1, -1).clone().requires_grad_(True)
            target = torch.rand(views, size, size, device=dev)
            seq = SilhouetteSequence(faces, size, size, sigma=1.0, eps=1e-3)
            shift = torch.zeros(3, device=dev)
            step_m = 0.3 * 0.45 / f  # 0.3 px of image motion per step, metres

            def exact():
                ((soft_silhouette(v, faces, K, size, size) - target) ** 2).sum().backward()

            def refine():
                shift[0] += step_m
                ((seq(v + shift, K) - target) ** 2).sum().backward()

            cells = []
            for fn in (exact, refine):
                fn()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(args.repeats):
                    fn()
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                cells.append((time.perf_counter() - t) / args.repeats * 1000)
            print(f"{size:>8d}^2 {views:5d} {cells[0]:7.1f} {cells[1]:7.1f}")

if __name__ == "__main__":
    main()

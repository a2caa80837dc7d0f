#!/usr/bin/env python3
"""Benchmark the hand model's forward (and forward+backward) pass; prints a table.

    python -m tools.bench.hand_model [--device cpu|cuda] [--repeats 20]
"""
import argparse
import time

import torch

from realhands.model import HandModel


def timed(fn, repeats, device):
    fn()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t) / repeats * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    print(f"device: {args.device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'dtype':8s} {'batch':>6s} {'forward ms':>11s} {'fwd+bwd ms':>11s} {'hands/s':>9s}")
    for dtype in (torch.float32, torch.float64):
        model = HandModel(dtype=dtype).to(args.device)
        for batch in (1, 16, 128):
            pose = torch.randn(batch, 45, dtype=dtype, device=args.device) * 0.3
            betas = torch.randn(batch, 10, dtype=dtype, device=args.device)

            def fwd():
                with torch.no_grad():
                    model(hand_pose=pose, betas=betas)

            def fwd_bwd():
                p = pose.clone().requires_grad_(True)
                model(hand_pose=p, betas=betas).vertices.sum().backward()

            f = timed(fwd, args.repeats, args.device)
            fb = timed(fwd_bwd, args.repeats, args.device)
            print(f"{str(dtype).split('.')[-1]:8s} {batch:6d} {f:11.2f} {fb:11.2f} {batch / f * 1000:9.0f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""HandNet latency per crop: torch vs onnxruntime, batch 1 and 2, mono (one crop) and stereo (both views' crops in one
batch + the stereo fusion layer), on this machine's CPU (and CUDA when present). Prints a markdown table.

    python -m tools.bench.handnet [--repeats 20] [--configs resnet18:0.5:160 resnet50:1:224]
"""
import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from realhands.net import HandNet, HandNetConfig, OnnxHandNet, StereoFusion, export_onnx

ROOT = Path(__file__).resolve().parents[2]


def _median_ms(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    t = []
    for _ in range(repeats):
        s = time.perf_counter()
        fn()
        t.append((time.perf_counter() - s) * 1000)
    return statistics.median(t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--configs", nargs="+", default=["resnet18:0.5:160", "resnet18:0.5:224", "resnet18:1:224",
                                                      "resnet50:1:224"], help="backbone:width:input_size")
    args = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    cuda = torch.cuda.is_available()
    print(f"HandNet latency, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch "
          f"{torch.__version__}{', ' + torch.cuda.get_device_name() if cuda else ''}\n")
    print("| model | params (M) | runtime | device | batch 1 ms | batch 2 ms | per crop (b2) ms | stereo pair ms |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |")
    for spec in args.configs:
        b, w, s = spec.split(":")
        cfg = HandNetConfig(backbone=b, width=float(w), input_size=int(s))
        net = HandNet(cfg).eval()
        fusion = StereoFusion().eval()
        n_params = sum(p.numel() for p in net.parameters()) / 1e6
        x = {k: (torch.rand(k, 3, cfg.input_size, cfg.input_size), torch.rand(k, 21, cfg.input_size, cfg.input_size))
             for k in (1, 2)}
        name = f"{b} x{w} @{s}"
        devices = ["cpu"] + (["cuda"] if cuda else [])
        for dev in devices:
            n = net.to(dev)
            f = fusion.to(dev)
            xd = {k: (a.to(dev), h.to(dev)) for k, (a, h) in x.items()}

            def run_torch(k):
                with torch.no_grad():
                    n(*xd[k])
                    if dev == "cuda":
                        torch.cuda.synchronize()

            def stereo_torch():
                with torch.no_grad():
                    o = n(*xd[2])
                    f(o["features"][:1], o["features"][1:], o["pose"][:1], o["pose"][1:])
                    if dev == "cuda":
                        torch.cuda.synchronize()

            t1, t2 = _median_ms(lambda: run_torch(1), args.repeats), _median_ms(lambda: run_torch(2), args.repeats)
            ts = _median_ms(stereo_torch, args.repeats)
            print(f"| {name} | {n_params:.1f} | torch | {dev} | {t1:.1f} | {t2:.1f} | {t2 / 2:.1f} | {ts:.1f} |")
        net.to("cpu")
        with tempfile.TemporaryDirectory() as d:
            path = export_onnx(net, Path(d) / "h.onnx")
            rt = OnnxHandNet(path)
            xn = {k: (a.numpy(), h.numpy()) for k, (a, h) in x.items()}
            t1 = _median_ms(lambda: rt(*xn[1]), args.repeats)
            t2 = _median_ms(lambda: rt(*xn[2]), args.repeats)
            print(f"| {name} | {n_params:.1f} | onnxruntime | {rt.provider.replace('ExecutionProvider', '')} | "
                  f"{t1:.1f} | {t2:.1f} | {t2 / 2:.1f} | {t2:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

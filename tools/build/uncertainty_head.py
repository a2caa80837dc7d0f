#!/usr/bin/env python3
"""Train HandNet's per-keypoint uncertainty head (realhands.net.uncertainty) and write
``<model>_uncertainty.npz`` beside the ONNX model.

Runs the shipped network exactly as at run time (``HandNetRegressor.predict``: the crop and heatmaps from
MediaPipe's own detection of the view) on synthetic stereo renders that carry MediaPipe's detections
(``realhands synth --detect``) and that the network was not trained on, records its pooled features and each
keypoint's 3D error after rotational alignment, and fits the head by the Gaussian negative log-likelihood. Prints
how well the predicted sigmas rank and cover the errors on a held-out tenth, and draws that (reliability picture).

    python -m tools.build.uncertainty_head --data data/det31 --first-shard 60 --force  # ~7 min here
    python -m tools.build.uncertainty_head --data DIR --limit 200 --out /tmp/head.npz --picture /tmp/u.png  # a look

The shipped model's training used seed 31's shards 0-47: the default starts at shard 60. Crops are split by
sample (both views of a sample on the same side): 80 % train, 10 % choose the epoch, 10 % report.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from realhands.camera import Camera
from realhands.model import HandModel
from realhands.net.infer import HandNetRegressor, default_weights
from realhands.net.uncertainty import aligned_errors, save_head, train_head, uncertainty_path
from realhands.synth.dataset import _compact_dict, complete_shards, read_meta, shard_name

VALIDATION_SHARE = 0.1


def collect(data: Path, first: int, limit: int | None, onnx: str) -> dict:
    """Features (N,512), aligned errors (N,21,3) mm, sides, and HandNet's plain per-keypoint errors."""
    meta = read_meta(data)
    shards = [k for k in complete_shards(data, meta) if k >= first]
    if not shards:
        raise SystemExit(f"{data}: no finished shard from {first} on")
    reg = HandNetRegressor(onnx)
    models = {s: HandModel(side=s, flat_hand_mean=True) for s in ("left", "right")}
    feats, errs, sides, samples, skipped = [], [], [], [], 0
    total = min(limit or 10**9, len(shards) * int(meta["shard_size"]))
    bar = tqdm(total=total, desc="samples", unit="sample")
    done = 0
    for k in shards:
        with np.load(data / shard_name(k), allow_pickle=False) as z:
            arrays = {n: z[n] for n in z.files}
        for j in range(len(arrays["root"])):
            if done >= total:
                break
            s = _compact_dict(arrays, j)
            done += 1
            bar.update()
            T = s["T_right_from_left"].numpy().astype(np.float64)
            truth_left = s["joints3d"].numpy().astype(np.float64)
            model = models[s["side"]]
            for view in ("left", "right"):
                det = s.get(f"detected2d_{view}")
                det = None if det is None else det.numpy().astype(np.float64)
                if det is None or not np.isfinite(det).all():
                    skipped += 1
                    continue
                img = s[f"rgb_{view}"]
                cam = Camera.from_K(s[f"K_{view}"].numpy().astype(np.float64), img.shape[1], img.shape[0])
                truth = truth_left if view == "left" else truth_left @ T[:3, :3].T + T[:3, 3]
                est = reg.predict(img, det, s["side"], cam, model)
                dt = model.v_template.dtype
                with torch.no_grad():
                    kp = model.keypoints(*(torch.as_tensor(np.asarray(est.params[n], np.float64)[None], dtype=dt)
                                           for n in ("global_orient", "hand_pose", "betas", "transl")))[0].numpy()
                feats.append(est.features)
                errs.append(aligned_errors(kp[None], truth[None])[0] * 1000.0)
                sides.append(s["side"] == "left")
                samples.append(done)
        if done >= total:
            break
    bar.close()
    print(f"{len(feats)} crops from {done} samples (shards {shards[0]}..{k}); {skipped} views MediaPipe missed")
    return {"features": np.stack(feats), "errors": np.stack(errs), "left": np.array(sides), "sample": np.array(samples)}


def train(features: np.ndarray, errors: np.ndarray, sample: np.ndarray, seed: int = 0, epochs: int = 300):
    """The head trained on 80 % of the samples' crops, its epoch chosen on 10 %, and how it does on the last 10 %
    (split by sample, so a sample's two views are never on both sides)."""
    ids = np.unique(sample)
    ids = ids[np.random.default_rng(seed).permutation(len(ids))]
    n = max(1, int(len(ids) * VALIDATION_SHARE))
    in_val = np.isin(sample, ids[:n])
    in_test = np.isin(sample, ids[n:2 * n])
    tr, val, test = np.flatnonzero(~in_val & ~in_test), np.flatnonzero(in_val), np.flatnonzero(in_test)
    head, best = train_head(features, errors, tr, val, epochs, seed, progress=True)
    with torch.no_grad():
        sig = torch.exp(head(torch.as_tensor(features[test], dtype=torch.float32))).numpy()
    const = np.sqrt((errors[tr] ** 2).sum(-1).mean(0) / 3)  # the per-keypoint constant the head must beat
    err = np.linalg.norm(errors[test], axis=-1)
    report = evaluate(sig[:, 1:], err[:, 1:], errors[test][:, 1:], const[1:])  # the wrist's error is 0 by definition
    report["val_nll"] = best
    report["train_crops"], report["val_crops"] = len(tr), len(val)
    return head, report, (sig[:, 1:], err[:, 1:])


def evaluate(sigma: np.ndarray, err: np.ndarray, vec: np.ndarray, const: np.ndarray) -> dict:
    """How the sigmas (N,K) explain the errors (N,K) mm (K keypoints): rank correlation per crop and keypoint,
    coverage of the 3D Gaussian's 50 % / 90 % radii, and the NLL against a constant sigma per keypoint."""
    from scipy.stats import spearmanr

    def nll_np(s):
        return float((3 * np.log(s) + 0.5 * (vec ** 2).sum(-1) / s ** 2).mean())

    r50, r90 = 1.5382, 2.5003  # chi distribution (3 dof) quantiles
    per_keypoint = [spearmanr(sigma[:, j], err[:, j])[0] for j in range(sigma.shape[1])]
    return {"spearman": float(spearmanr(sigma.ravel(), err.ravel())[0]),
            "spearman_within_keypoint": float(np.nanmean(per_keypoint)),
            "within_50": float((err <= r50 * sigma).mean()), "within_90": float((err <= r90 * sigma).mean()),
            "nll_head": nll_np(sigma), "nll_constant": nll_np(np.broadcast_to(const, sigma.shape)),
            "crops": len(sigma)}


def picture(sigma: np.ndarray, err: np.ndarray, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, e = sigma.ravel(), err.ravel()
    edges = np.quantile(s, np.linspace(0, 1, 11))
    which = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, 9)
    mid = np.array([np.median(s[which == b]) for b in range(10)])
    rms = np.array([np.sqrt((e[which == b] ** 2).mean() / 3) for b in range(10)])
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(mid, rms, "o-", label="held-out keypoints (deciles of sigma)")
    lim = max(mid.max(), rms.max()) * 1.1
    ax[0].plot([0, lim], [0, lim], "k--", lw=1, label="perfect calibration")
    ax[0].set_xlabel("predicted sigma (mm)")
    ax[0].set_ylabel("observed RMS error per axis (mm)")
    ax[0].legend()
    ax[0].set_title("HandNet's per-keypoint uncertainty: reliability")
    ax[1].scatter(s, e, s=2, alpha=0.2)
    ax[1].set_xlabel("predicted sigma (mm)")
    ax[1].set_ylabel("3D error after alignment (mm)")
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ticks = [t for t in (2, 5, 10, 20, 50, 100, 200) if s.min() <= t <= s.max() * 1.5]
    ax[1].set_xticks(ticks, [str(t) for t in ticks], minor=False)
    ax[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="a `realhands synth --detect` folder")
    ap.add_argument("--first-shard", type=int, default=60, help="shards the network was not trained on start here")
    ap.add_argument("--limit", type=int, default=None, help="at most this many samples")
    ap.add_argument("--model", default=None, help="the ONNX model (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=None, help="default: beside the model")
    ap.add_argument("--cache", type=Path, default=None, help="keep the collected features and errors here")
    ap.add_argument("--picture", type=Path, default=None,
                    help="the reliability picture (default: docs/images/handnet_uncertainty.png for the shipped head)")
    ap.add_argument("--force", action="store_true", help="replace an existing head file")
    args = ap.parse_args(argv)
    onnx = args.model or str(default_weights())
    out = args.out or uncertainty_path(onnx)
    if out.exists() and not args.force:
        print(f"{out} exists: pass --force to replace it", file=sys.stderr)
        return 2
    t0 = time.time()
    if args.cache and args.cache.suffix != ".npz":
        args.cache = args.cache.with_name(args.cache.name + ".npz")  # (np.savez would add it)
    if args.picture is None and args.out is None and args.model is None:
        args.picture = Path("docs/images/handnet_uncertainty.png")
    if args.cache and args.cache.is_file():
        with np.load(args.cache) as z:
            got = {k: z[k] for k in z.files}
    else:
        got = collect(args.data, args.first_shard, args.limit, onnx)
        if args.cache:
            np.savez(args.cache, **got)
    if "sample" not in got:
        raise SystemExit(f"{args.cache}: made by an older version of this tool (no sample ids): delete it")
    head, report, (sig, err) = train(got["features"], got["errors"], got["sample"])
    print(f"{report['train_crops']} training crops, {report['val_crops']} to choose the epoch; "
          f"held-out crops {report['crops']}: Spearman(sigma, error) {report['spearman']:.3f} (within a keypoint "
          f"{report['spearman_within_keypoint']:.3f}); errors within the "
          f"50 % radius {report['within_50']:.1%}, within the 90 % radius {report['within_90']:.1%}; NLL "
          f"{report['nll_head']:.3f} against {report['nll_constant']:.3f} for a constant sigma per keypoint")
    print(f"median sigma {np.median(sig):.1f} mm, median error {np.median(err):.1f} mm")
    save_head(head, out, onnx, dict(report))
    if args.picture:
        args.picture.parent.mkdir(parents=True, exist_ok=True)
        picture(sig, err, args.picture)
        print(f"wrote {args.picture}")
    print(f"wrote {out} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

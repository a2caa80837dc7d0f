"""MediaPipe's detections, carried to a machine that cannot run MediaPipe.

A lent GPU machine has no MediaPipe and takes only a small working tree, so the rendered images cannot travel
either. Rendering is deterministic (same seed, shard size and config: same samples, on any number of processes),
so the detections are computed here, where MediaPipe runs, on a dataset rendered with ``realhands synth --detect``;
only the detections and a fingerprint of every sample (its true 2D keypoints) travel. There the same dataset is
rendered again without ``--detect`` and the detections are attached to its shards, after checking that every
sample is the one they were made for.

    python -m tools.gpu.detections extract data/det21 .carry/det21.npz      # here
    python -m tools.gpu.detections attach .carry/det21.npz /tmp/job/synth    # there, after realhands synth
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from realhands.synth.dataset import DETECTION_KEYS, complete_shards, read_meta, shard_name

#: largest difference of the true keypoints (px) between the two renders for a sample to count as the same
SAME_SAMPLE_PX = 0.05


def extract(dataset: str | Path, out: str | Path) -> dict:
    """The detections and fingerprints of every finished shard of ``dataset`` -> one npz at ``out``."""
    root = Path(dataset)
    meta = read_meta(root)
    if not meta.get("detect"):
        raise SystemExit(f"{root} was rendered without --detect: there are no detections to carry")
    arrays = {"meta": np.array(json.dumps({k: meta[k] for k in ("count", "shard_size", "seed", "config")}))}
    shards = complete_shards(root, meta)
    for k in shards:
        with np.load(root / shard_name(k)) as z:
            for key in DETECTION_KEYS:
                arrays[f"{k}/{key}"] = z[key].astype(np.float32)
            arrays[f"{k}/joints2d_left"] = z["joints2d_left"].astype(np.float32)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return {"shards": len(shards), "bytes": out.stat().st_size}


def attach(carried: str | Path, dataset: str | Path) -> dict:
    """Add the carried detections to the matching shards of ``dataset`` (rendered again, without ``--detect``).
    A shard whose samples differ from the ones the detections were made for is left alone and counted."""
    root = Path(dataset)
    meta = read_meta(root)
    with np.load(carried) as z:
        # a sample depends on (seed, index) and the config only: the dataset may be shorter than the one the
        # detections came from (e.g. rendered up to the last carried shard)
        same = ("shard_size", "seed", "config")
        made_for = {k: v for k, v in json.loads(str(z["meta"])).items() if k in same}
        ours = {k: meta[k] for k in same}
        if json.loads(json.dumps(ours)) != made_for:
            raise SystemExit(f"{carried} was made for {made_for}, {root} is {ours}")
        attached, differ, absent, worst = 0, 0, 0, 0.0
        for k in complete_shards(root, meta):
            if f"{k}/joints2d_left" not in z:
                absent += 1
                continue
            path = root / shard_name(k)
            with np.load(path) as s:
                arrays = {name: s[name] for name in s.files}
            carried = z[f"{k}/joints2d_left"]
            if carried.shape != arrays["joints2d_left"].shape:  # a shard of another length: not the same samples
                differ += 1
                continue
            d = float(np.abs(arrays["joints2d_left"] - carried).max())
            worst = max(worst, d)
            if d > SAME_SAMPLE_PX:
                differ += 1
                continue
            for key in DETECTION_KEYS:
                arrays[key] = z[f"{k}/{key}"]
            tmp = path.with_name(path.stem + ".tmp.npz")
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
            attached += 1
    if attached:
        meta["detect"] = True
        (root / "meta.json").write_text(json.dumps(meta))
    return {"attached": attached, "different": differ, "not_carried": absent, "largest_difference_px": worst}


def carried_count(carried: str | Path) -> int:
    """Samples up to the end of the last shard the file carries detections for: what to render there."""
    with np.load(carried) as z:
        meta = json.loads(str(z["meta"]))
        shards = [int(k.split("/")[0]) for k in z.files if k.endswith("/joints2d_left")]
    if not shards:
        raise SystemExit(f"{carried} carries no detections")
    return min(meta["count"], (max(shards) + 1) * meta["shard_size"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.gpu.detections", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract", help="detections of a --detect dataset -> one small npz")
    e.add_argument("dataset")
    e.add_argument("out")
    a = sub.add_parser("attach", help="add carried detections to the same dataset rendered again")
    a.add_argument("carried")
    a.add_argument("dataset")
    c = sub.add_parser("count", help="samples up to the last carried shard (what to render there)")
    c.add_argument("carried")
    args = ap.parse_args(argv)
    if args.cmd == "count":
        print(carried_count(args.carried))
        return 0
    r = extract(args.dataset, args.out) if args.cmd == "extract" else attach(args.carried, args.dataset)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

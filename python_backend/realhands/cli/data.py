"""``realhands synth | sequence | train | export-onnx``: synthetic data, HandNet training and export."""
from __future__ import annotations

import argparse
import json
import sys

from ..conventions import SIDES
from ..synth import BACKGROUND_STYLES
from ..synth.rig import RIGS
from . import positive


def _fps(text):
    """An argparse type: a frame rate in the range a video or recording may state (realhands.capture.files)."""
    from ..capture.files import FPS_RANGE  # (here: the capture package pulls in OpenCV)

    value = positive(float, maximum=FPS_RANGE[1])(text)
    if value < FPS_RANGE[0]:
        raise argparse.ArgumentTypeError(f"must be at least {FPS_RANGE[0]:g} frames per second, got {text}")
    return value


def _synth_config(args):
    from ..synth.generate import SynthConfig

    return SynthConfig(rig=args.rig, resolution=args.resolution, background_folder=args.backgrounds,
                       background_style=args.background_style, egocentric_ratio=args.egocentric_ratio)


def cmd_synth(args) -> int:
    from ..synth.dataset import synthesize

    r = synthesize(args.out, args.count, seed=args.seed, config=_synth_config(args), shard_size=args.shard_size,
                   model_path=args.model, device=args.device, jobs=args.jobs, detect=args.detect)
    resumed = f", {r['resumed_shards']} shard(s) already there" if r["resumed_shards"] else ""
    print(f"wrote {r['count']} samples in {r['shards']} shard(s) to {r['folder']}{resumed}")
    return 0


def cmd_sequence(args) -> int:
    from ..synth.generate import SynthGenerator
    from ..synth.sequence import write_sequence

    gen = SynthGenerator(_synth_config(args), seed=args.seed, model_path=args.model, device=args.device)
    frames = gen.sequence(0, kind=args.kind, num_frames=args.frames, fps=args.fps, side=args.side)
    out = write_sequence(args.out, frames, args.fps)
    print(f"wrote {len(frames)} stereo frames, labels, ground_truth.npz and preview.gif to {out}")
    return 0


def cmd_train(args) -> int:
    from ..net.data import HandNetDataset, training_data
    from ..net.train import load_recipe, train

    recipe = load_recipe(args.recipe)
    base = training_data(args.data, args.on_the_fly, args.freihand, args.model, args.unpacked, args.partial,
                         args.limit, args.seed, args.device, args.workers, detect=args.detect)
    # on a GPU the loaders ship crops as uint8 and the heatmaps' keypoints; the maps are drawn on the device
    ds = HandNetDataset(base, size=recipe.model.input_size, augment=True, seed=args.seed, views=args.views,
                        compact=args.device.startswith("cuda"))
    metrics = train(recipe, ds, args.out, device=args.device, resume=not args.restart,
                    max_steps_per_epoch=args.max_steps, workers=args.workers, amp=not args.no_amp,
                    time_budget_s=args.time_budget_min * 60 if args.time_budget_min else None, init=args.init)
    from ..net.train import distributed

    if distributed(args.device)[0] == 0:  # under torchrun: process 0 reports
        print(json.dumps({"out": str(args.out), "validation": metrics}, indent=1))
    return 0


def cmd_export_onnx(args) -> int:
    from ..net.runtime import export_checkpoint

    r = export_checkpoint(args.checkpoint, args.output)
    if r["stereo"] is not None:
        print(f"wrote {r['stereo']} (stereo fusion weights)")
    diff = r["parity"]
    print(f"wrote {r['onnx']} ({r['onnx'].stat().st_size / 1e6:.1f} MB); torch vs onnxruntime max abs difference: "
          + ", ".join(f"{k} {v:.1e}" for k, v in diff.items()))
    if max(diff.values()) >= 1e-4:
        print("error: parity above 1e-4", file=sys.stderr)
        return 1
    return 0


def add_parsers(sub) -> None:
    def synth_args(sp):
        sp.add_argument("--model", help="model file or folder (default: our hand model)")
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--resolution", default="640x480", help="HD2K, HD1080, HD720, VGA or WIDTHxHEIGHT")
        sp.add_argument("--rig", default="zed2", choices=sorted(RIGS))
        sp.add_argument("--backgrounds", help="folder of background photos to mix in")
        sp.add_argument("--background-style", default="mixed", choices=BACKGROUND_STYLES)
        sp.add_argument("--egocentric-ratio", type=positive(float, maximum=1, zero=True), default=0.8,
                        help="fraction of head-mounted (first-person) views, 0 to 1")
        sp.add_argument("--device", default="cpu", help="cpu or cuda")

    sy = sub.add_parser("synth", help="render a synthetic stereo dataset (deterministic, resumable)")
    synth_args(sy)
    sy.add_argument("--out", required=True, help="dataset folder")
    sy.add_argument("--count", type=int, required=True)
    sy.add_argument("--shard-size", type=int, default=256)
    sy.add_argument("--jobs", type=int, default=1, help="render shards in this many processes (same result)")
    sy.add_argument("--detect", action="store_true", help="also run MediaPipe on both views of every sample: HandNet "
                    "then trains on the keypoints it gets at run time (~40 ms per sample more)")
    sy.set_defaults(func=cmd_synth)
    sq = sub.add_parser("sequence", help="render a synthetic gesture sequence (frames, labels, ground truth)")
    synth_args(sq)
    sq.add_argument("--out", required=True)
    sq.add_argument("--kind", default="mixed",
                    help="grasp, pinch, count, wave, enter_exit, mixed or turn (for the guided capture: turned over)")
    sq.add_argument("--frames", type=positive(int), default=90)
    sq.add_argument("--fps", type=_fps, default=30.0, help="frames per second (1 to 1000)")
    sq.add_argument("--side", choices=SIDES)
    sq.set_defaults(func=cmd_sequence)

    t = sub.add_parser("train", help="train HandNet in stages from a recipe (checkpoints, resume, log, loss plot)")
    t.add_argument("--recipe", default="cpu_small", help="recipe name (net/recipes) or .toml file")
    t.add_argument("--data", action="append", help="synthetic dataset folder (realhands synth); repeat for several")
    t.add_argument("--partial", action="store_true", help="use the finished shards of a dataset still being written")
    t.add_argument("--unpacked", metavar="DIR", help="decode --data once into DIR (memory-mapped arrays, about 2.5 MB "
                   "per 640x480 sample; reused, and shared by concurrent runs): fast random access")
    t.add_argument("--on-the-fly", type=int, help="render this many synthetic samples on the fly instead")
    t.add_argument("--detect", action="store_true", help="with --on-the-fly: MediaPipe's detections as HandNet's "
                   "keypoints (as `realhands synth --detect` stores them)")
    t.add_argument("--freihand", help="FreiHAND folder in its official layout (needs --model: the official MANO)")
    t.add_argument("--model", help="MANO-format model file or folder (FreiHAND's parameters need the official MANO)")
    t.add_argument("--views", choices=["left", "both"], default="left", help="camera views to train on")
    t.add_argument("--limit", type=int, help="use only the first N samples (e.g. the shards written so far)")
    t.add_argument("--out", required=True, help="run folder: checkpoint.pt, train_log.jsonl, loss.png")
    t.add_argument("--device", default="cpu")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in --out")
    t.add_argument("--init", help="start from this checkpoint's weights (fine-tuning; same model config); an exported "
                   ".onnx model works too (e.g. the shipped one: its BatchNorms stay frozen)")
    t.add_argument("--max-steps", type=int, help="cap batches per epoch (smoke runs)")
    t.add_argument("--workers", type=int, default=0, help="data loading processes (0: in the training process)")
    t.add_argument("--time-budget-min", type=float, help="scale the recipe's epochs to fit this many minutes")
    t.add_argument("--no-amp", action="store_true", help="float32 throughout on CUDA (default: bfloat16 autocast)")
    t.set_defaults(func=cmd_train)

    x = sub.add_parser("export-onnx", help="export a HandNet checkpoint to ONNX and check torch/onnxruntime parity")
    x.add_argument("checkpoint")
    x.add_argument("output")
    x.set_defaults(func=cmd_export_onnx)

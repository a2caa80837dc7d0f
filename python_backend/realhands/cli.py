"""Command line: ``realhands demo``, ``synth``, ``sequence``, ``model info|convert|export``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import Config, ConfigError
from .model.io import ModelFileError
from .synth.errors import DatasetError


def _config(args) -> Config:
    cfg = Config.from_toml(args.config) if args.config else Config()
    if getattr(args, "model", None):
        cfg.model.path = args.model
    if getattr(args, "side", None):
        cfg.model.side = args.side
    if getattr(args, "out", None) and args.command == "demo":
        cfg.output_dir = Path(args.out)
    return cfg


def cmd_demo(args) -> int:
    from .demo import run_demo

    summary = run_demo(_config(args))
    print(f"model: {summary['model']}")
    print(f"wrote {len(summary['files'])} files to {Path(summary['files'][0]).parent}")
    return 0


def cmd_model_info(args) -> int:
    from .model.info import model_info, format_info

    cfg = _config(args)
    info = model_info(cfg.model.side, cfg.model.path, parity=not args.no_parity)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def cmd_model_convert(args) -> int:
    from .model.io import load_model_file

    data = load_model_file(args.source)
    if args.side:
        data.side = args.side
    out = data.save_npz(args.output)
    print(f"wrote {out}: {data.num_vertices} vertices, {len(data.faces)} faces, {data.side} hand "
          f"(plain arrays, loads without pickle)")
    return 0


def cmd_model_export(args) -> int:
    import numpy as np
    import torch

    from .model import HandModel
    from .model.export import export_mesh

    cfg = _config(args)
    model = HandModel(side=cfg.model.side, model_path=cfg.model.path, flat_hand_mean=True,
                      dtype=torch.float64)
    data = model.data
    pose = np.zeros(45)
    if args.pose:
        names = [] if data.pose_names is None else list(data.pose_names)
        if args.pose not in names:
            raise SystemExit(f"error: unknown pose {args.pose!r}; this model has: {', '.join(names) or 'none'}")
        pose = data.pose_library[names.index(args.pose)]
    betas = torch.zeros(1, model.num_betas, dtype=torch.float64)
    if args.betas:
        if len(args.betas) > model.num_betas:
            raise SystemExit(f"error: at most {model.num_betas} betas")
        betas[0, :len(args.betas)] = torch.tensor(args.betas, dtype=torch.float64)
    with torch.no_grad():
        v = model(hand_pose=torch.as_tensor(pose[None]), betas=betas).vertices[0].numpy()
    path = export_mesh(args.output, v, data.faces, data.uv, data.faces_uv, texture=args.texture)
    print(f"wrote {path}")
    return 0


def _synth_config(args):
    from .synth.generate import SynthConfig

    return SynthConfig(rig=args.rig, resolution=args.resolution, background_folder=args.backgrounds,
                       background_style=args.background_style, egocentric_ratio=args.egocentric_ratio)


def cmd_synth(args) -> int:
    from .synth.dataset import synthesize

    r = synthesize(args.out, args.count, seed=args.seed, config=_synth_config(args), shard_size=args.shard_size,
                   model_path=args.model, device=args.device)
    resumed = f", {r['resumed_shards']} shard(s) already there" if r["resumed_shards"] else ""
    print(f"wrote {r['count']} samples in {r['shards']} shard(s) to {r['folder']}{resumed}")
    return 0


def cmd_sequence(args) -> int:
    import numpy as np
    from PIL import Image
    from tqdm import tqdm

    from .synth.generate import SynthGenerator

    gen = SynthGenerator(_synth_config(args), seed=args.seed, model_path=args.model, device=args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frames = gen.sequence(0, kind=args.kind, num_frames=args.frames, fps=args.fps, side=args.side)
    for i, f in enumerate(tqdm(frames, desc="writing frames", unit="frame")):
        Image.fromarray(f.rgb_left).save(out / f"left_{i:05d}.jpg", quality=95)
        Image.fromarray(f.rgb_right).save(out / f"right_{i:05d}.jpg", quality=95)
        Image.fromarray(f.label_left).save(out / f"label_left_{i:05d}.png")
        Image.fromarray(f.label_right).save(out / f"label_right_{i:05d}.png")
    np.savez(out / "ground_truth.npz", fps=args.fps, side=frames[0].side, K=frames[0].K_left,
             T_right_from_left=frames[0].T_right_from_left,
             **{k: np.stack([getattr(f, k) for f in frames]) for k in
                ("vertices", "joints3d", "joints2d_left", "joints2d_right", "pose", "betas", "transl")})
    gif = [Image.fromarray(f.rgb_left).resize((f.rgb_left.shape[1] // 2, f.rgb_left.shape[0] // 2)) for f in frames]
    gif[0].save(out / "preview.gif", save_all=True, append_images=gif[1:], duration=int(1000 / args.fps), loop=0)
    print(f"wrote {len(frames)} stereo frames, labels, ground_truth.npz and preview.gif to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="realhands", description="RealHands: camera images -> animated 3D hands.")
    p.add_argument("--config", help="TOML configuration file (see realhands.config)")
    sub = p.add_subparsers(dest="command", required=True)

    def model_args(sp):
        sp.add_argument("--model", help="MANO-format model file (.pkl/.npz) or folder holding MANO_RIGHT/LEFT")
        sp.add_argument("--side", choices=["right", "left"], help="handedness (default: right)")

    d = sub.add_parser("demo", help="run the main job on the embedded default input")
    model_args(d)
    d.add_argument("--out", help="output folder (default: out)")
    d.set_defaults(func=cmd_demo)

    def synth_args(sp):
        sp.add_argument("--model", help="model file or folder (default: our hand model)")
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--resolution", default="640x480", help="HD2K, HD1080, HD720, VGA or WIDTHxHEIGHT")
        sp.add_argument("--rig", default="zed2", choices=["zed", "zed2", "zedm"])
        sp.add_argument("--backgrounds", help="folder of background photos to mix in")
        sp.add_argument("--background-style", default="mixed", choices=["mixed", "everyday"])
        sp.add_argument("--egocentric-ratio", type=float, default=0.8)
        sp.add_argument("--device", default="cpu", help="cpu or cuda")

    sy = sub.add_parser("synth", help="render a synthetic stereo dataset (deterministic, resumable)")
    synth_args(sy)
    sy.add_argument("--out", required=True, help="dataset folder")
    sy.add_argument("--count", type=int, required=True)
    sy.add_argument("--shard-size", type=int, default=256)
    sy.set_defaults(func=cmd_synth)
    sq = sub.add_parser("sequence", help="render a synthetic gesture sequence (frames, labels, ground truth)")
    synth_args(sq)
    sq.add_argument("--out", required=True)
    sq.add_argument("--kind", default="mixed", help="grasp, pinch, count, wave, enter_exit or mixed")
    sq.add_argument("--frames", type=int, default=90)
    sq.add_argument("--fps", type=float, default=30.0)
    sq.add_argument("--side", choices=["right", "left"])
    sq.set_defaults(func=cmd_sequence)

    m = sub.add_parser("model", help="hand model tools")
    msub = m.add_subparsers(dest="model_command", required=True)
    i = msub.add_parser("info", help="print the model's figures (counts, watertightness, size, smplx parity)")
    model_args(i)
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument("--no-parity", action="store_true", help="skip the smplx parity check")
    i.set_defaults(func=cmd_model_info)
    c = msub.add_parser("convert", help="convert a MANO pickle (e.g. MANO_RIGHT.pkl) to a clean .npz")
    c.add_argument("source")
    c.add_argument("output")
    c.add_argument("--side", choices=["right", "left"], help="override the handedness read from the file name")
    c.set_defaults(func=cmd_model_convert)
    e = msub.add_parser("export", help="export a posed, shaped mesh to .obj/.glb/.ply")
    model_args(e)
    e.add_argument("output")
    e.add_argument("--pose", help="a pose of the model's library (e.g. fist); default: flat")
    e.add_argument("--betas", type=float, nargs="+", help="shape coefficients")
    e.add_argument("--texture", help="texture image to embed (UV-mapped models)")
    e.set_defaults(func=cmd_model_export)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ModelFileError, ConfigError, ValueError, FileNotFoundError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

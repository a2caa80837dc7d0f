"""Command line: ``realhands demo``, ``realhands model info|convert|export``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .config import Config, ConfigError
from .model.io import ModelFileError


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
    except (ModelFileError, ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

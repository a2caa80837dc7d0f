"""Command line: parses arguments and calls the library, one module per command group.

    realhands demo                                      (this module)
    realhands model info|convert|export                 cli.model
    realhands synth | sequence | train | export-onnx    cli.data
    realhands reconstruct                               cli.reconstruct -> realhands.batch
    realhands run | record | replay | listen | keys     cli.live -> realhands.live.session
    realhands eval synthetic|freihand|keypoints|recording   cli.eval -> realhands.evaluation

Every error RealHands raises on purpose (realhands.errors) ends the command with its message and exit code 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import Config
from ..conventions import SIDES
from ..errors import RealHandsError


def load_config(args) -> Config:
    """The configuration: ``--config FILE`` (or the defaults), with --model and --side applied."""
    cfg = Config.from_toml(args.config) if args.config else Config()
    if getattr(args, "model", None):
        cfg.model.path = args.model
    if getattr(args, "side", None):
        cfg.model.side = args.side
    return cfg


def positive(kind, maximum=None, zero: bool = False):
    """An argparse type: a finite number of ``kind`` (int or float) greater than zero (``zero``: or zero), and at
    most ``maximum``."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if kind is float and value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if not (value >= 0 if zero else value > 0):
            raise argparse.ArgumentTypeError(f"must be {'0 or more' if zero else 'greater than 0'}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {text}")
        return value

    return parse


def model_args(sp) -> None:
    sp.add_argument("--model", help="MANO-format model file (.pkl/.npz) or folder holding MANO_RIGHT/LEFT")
    sp.add_argument("--side", choices=SIDES, help="handedness (default: right)")


def cmd_demo(args) -> int:
    from ..demo import run_demo

    cfg = load_config(args)
    if args.out:
        cfg.output_dir = Path(args.out)
    summary = run_demo(cfg)
    print(f"model: {summary['model']}")
    print(f"wrote {len(summary['files'])} files to {Path(summary['files'][0]).parent}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import data, live, model, reconstruct
    from . import eval as eval_

    p = argparse.ArgumentParser(prog="realhands", description="RealHands: camera images -> animated 3D hands.")
    p.add_argument("--config", help="TOML configuration file (see realhands.config)")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the main job on the embedded default input")
    model_args(d)
    d.add_argument("--out", help="output folder (default: out)")
    d.set_defaults(func=cmd_demo)
    for group in (data, reconstruct, live, eval_, model):
        group.add_parsers(sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (RealHandsError, ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

#!/usr/bin/env python3
"""Render the hand model's pose library from two views into one PNG (for the docs and for judging by eye).

    python -m tools.build.pose_library [--model PATH] [--side right|left] [--out docs/images/pose_library.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from realhands.model import HandModel
from realhands.viz.preview import orbit_camera, part_colors, render_mesh, tile_images

ROOT = Path(__file__).resolve().parents[2]

VIEWS = {"back": (35.0, 50.0), "palm": (-35.0, -45.0)}  # (azimuth, elevation) degrees, model z up


def render_library(model: HandModel, size: int = 256) -> np.ndarray:
    data = model.data
    if data.pose_library is None:
        raise SystemExit(f"{data.source} has no pose library (only our own model ships one)")
    rows = []
    poses = torch.as_tensor(data.pose_library, dtype=torch.float32)
    out = model(hand_pose=poses - model.hand_mean)
    colors = part_colors(data)
    for i, name in enumerate(data.pose_names):
        v = out.vertices[i].detach().numpy()
        centre = 0.5 * (v.min(0) + v.max(0))
        tiles = []
        for view, (az, el) in VIEWS.items():
            cam = orbit_camera(centre, 0.44, az if data.side == "right" else -az, el, size=(size, size))
            img = Image.fromarray(render_mesh(v, data.faces, cam, colors))
            ImageDraw.Draw(img).text((6, 4), f"{name} ({view})", fill=(40, 40, 40))
            tiles.append(np.asarray(img))
        rows.append(np.concatenate(tiles, axis=1))
    return tile_images(rows, cols=3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=None, help="model file or folder (default: the shipped model)")
    ap.add_argument("--side", default="right", choices=["right", "left"])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/images/pose_library.png")
    args = ap.parse_args(argv)
    model = HandModel(side=args.side, model_path=args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(render_library(model, args.size)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

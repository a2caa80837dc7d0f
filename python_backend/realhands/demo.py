"""The main job on the embedded default input.

So far: load the hand model, pose it through its pose library for both hands, and write preview renders (PNG)
and meshes (OBJ with UVs, GLB) to ``<output_dir>/demo``; then render the embedded default input, a synthetic
stereo gesture clip (``synthetic_clip.gif``: left view, right view, hand mask), and reconstruct 3D hands from
its left view with MediaPipe and the keypoint fit (``reconstruction.gif`` overlays, ``reconstruction.jsonl``).
Later stages grow this into the full camera -> avatar demo.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from .config import Config
from .model import HandModel, HandModelData
from .model.export import export_mesh
from .viz.preview import orbit_camera, part_colors, render_mesh, tile_images


def demo_poses(data: HandModelData) -> list[tuple[str, np.ndarray]]:
    """Named absolute hand poses (45,) axis-angle: the model's pose library, or for models without one
    (official MANO files) the flat hand, the mean pose and +-2 along the first three PCA components."""
    if data.pose_library is not None:
        return [(str(n), p) for n, p in zip(data.pose_names, data.pose_library)]
    poses = [("flat", np.zeros(45)), ("mean", data.hands_mean)]
    for k in range(3):
        for sign in (1, -1):
            poses.append((f"pca{k + 1}{'+' if sign > 0 else '-'}",
                          data.hands_mean + 2.0 * sign * data.hands_components[k]))
    return poses


def run_demo(config: Config) -> dict:
    """Write renders and meshes of every demo pose, right and left hand. Returns a summary dict."""
    out = Path(config.output_dir) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    models = {side: HandModel(side=side, model_path=config.model.path, flat_hand_mean=True)
              for side in ("right", "left")}
    jobs = [(side, name, pose) for side, m in models.items() for name, pose in demo_poses(m.data)]
    summary = {"model": models["right"].data.source, "files": []}
    tiles = {side: [] for side in models}
    for side, name, pose in tqdm(jobs, desc="posing and rendering", unit="pose"):
        model = models[side]
        data = model.data
        with torch.no_grad():
            v = model(hand_pose=torch.as_tensor(pose[None], dtype=torch.float32)).vertices[0].numpy()
        centre = 0.5 * (v.min(0) + v.max(0))
        cam = orbit_camera(centre, 0.44, 40.0 if side == "right" else -40.0, 55.0, size=(320, 320))
        img = render_mesh(v, data.faces, cam, part_colors(data.vertex_parts, data.part_names, len(v)))
        Image.fromarray(img).save(out / f"{side}_{name}.png")
        tiles[side].append(img)
        for ext in (".obj", ".glb"):
            summary["files"].append(str(export_mesh(out / f"{side}_{name}{ext}", v, data.faces, data.uv,
                                                    data.faces_uv)))
    for side, imgs in tiles.items():
        path = out / f"{side}_pose_library.png"
        Image.fromarray(tile_images(imgs, cols=min(4, len(imgs)))).save(path)
        summary["files"].append(str(path))
    clip, frames = write_synthetic_clip(out / "synthetic_clip.gif", config)
    summary["files"].append(str(clip))
    summary["files"] += [str(p) for p in reconstruct_clip(frames, out, config)]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def write_synthetic_clip(path: Path, config: Config, num_frames: int = 24):
    """Render the demo's default input (a stereo gesture clip, 320x240) as a GIF: left | right | hand mask.
    Returns the path and the rendered StereoSamples."""
    from .synth.generate import SynthConfig, SynthGenerator

    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="320x240", background_style="everyday"), seed=0,
                         model_path=config.model.path)
    frames, samples = [], []
    for f in tqdm(gen.sequence(0, kind="mixed", num_frames=num_frames, fps=12.0, side="right"),
                  desc="synthetic stereo clip", unit="frame"):
        mask = np.repeat((f.label_left == 1)[..., None] * 255, 3, axis=2).astype(np.uint8)
        frames.append(Image.fromarray(np.concatenate([f.rgb_left, f.rgb_right, mask], axis=1)))
        samples.append(f)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=83, loop=0)
    return path, samples


def reconstruct_clip(samples, out: Path, config: Config) -> list[Path]:
    """Reconstruct hands in the clip's left views as a video (tracking, warm starts, smoothing)."""
    from .reconstruct import Reconstructor
    from .viz.overlay import draw_overlay

    rec = Reconstructor(video=True, model_path=config.model.path)
    lines, overlays = [], []
    for i, s in enumerate(tqdm(samples, desc="reconstructing the clip", unit="frame")):
        K = s.K_left
        hands = rec(s.rgb_left, (K[0, 0], K[1, 1], K[0, 2], K[1, 2]), timestamp=i / 12.0)
        lines.append(json.dumps({"image": f"synthetic_clip#frame={i}", "hands": [h.to_json(False) for h in hands]}))
        overlays.append(Image.fromarray(draw_overlay(s.rgb_left, hands, K, rec.models["right"].faces)))
    rec.close()
    jsonl, gif = out / "reconstruction.jsonl", out / "reconstruction.gif"
    jsonl.write_text("\n".join(lines) + "\n")
    overlays[0].save(gif, save_all=True, append_images=overlays[1:], duration=83, loop=0)
    return [jsonl, gif]

"""The main job on the embedded default input.

So far: load the hand model, pose it through its pose library for both hands, and write preview renders (PNG)
and meshes (OBJ with UVs, GLB) to ``<output_dir>/demo``; then render the embedded default input, a synthetic
stereo gesture clip (``synthetic_clip.gif``: left view, right view, hand mask), and reconstruct 3D hands from
its left view with MediaPipe and the keypoint fit (``reconstruction.gif`` overlays, ``reconstruction.jsonl``).
Finally the live pipeline on the bundled synthetic stereo sequence: published on the default ZeroMQ endpoint
(or a free port when it is taken), recorded (``session.mcap``), with a report (``live_report.md``/``.json``:
per-stage timings, accuracy against the ground truth, bytes on the wire), overlays (``live_overlay.gif``), and
the fused texture (``hand_texture.png``) on a textured mesh (``hand_textured.glb``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from .config import Config
from .conventions import opencv_to_gltf
from .model import HandModel, HandModelData
from .model.export import export_mesh
from .viz.preview import orbit_camera, part_colors, render_mesh, tile_images


def demo_poses(data: HandModelData) -> list[tuple[str, np.ndarray]]:
    """Named absolute hand poses (45,) axis-angle: the model's pose library, or for models without one
    (official MANO files) the flat hand, the mean pose and +-2 along the first three PCA components."""
    if data.pose_library is not None:
        return [(str(n), p) for n, p in zip(data.pose_names, data.pose_library, strict=True)]
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
        img = render_mesh(v, data.faces, cam, part_colors(data))
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
    summary["files"] += [str(p) for p in live_session(out, config)]
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
        hands = rec(s.rgb_left, s.camera, timestamp=i / 12.0)
        lines.append(json.dumps({"image": f"synthetic_clip#frame={i}", "hands": [h.to_json(False) for h in hands]}))
        overlays.append(Image.fromarray(draw_overlay(s.rgb_left, hands, s.camera, rec.models["right"].faces)))
    rec.close()
    jsonl, gif = out / "reconstruction.jsonl", out / "reconstruction.gif"
    jsonl.write_text("\n".join(lines) + "\n")
    overlays[0].save(gif, save_all=True, append_images=overlays[1:], duration=83, loop=0)
    return [jsonl, gif]


def live_session(out: Path, config: Config, num_frames: int = 48) -> list[Path]:
    """Run the live pipeline (capture -> MediaPipe -> fit -> texture -> ZeroMQ + MCAP) on the synthetic stereo
    sequence; write the recording, the report, overlays and the textured hand."""
    import dataclasses

    from .live.session import run_session
    from .streaming.publisher import StreamConfigError
    from .viz.overlay import draw_overlay

    cfg = dataclasses.replace(config, live=dataclasses.replace(config.live, realtime=False))
    overlays, last = [], {}

    def each(result):
        last["result"] = result
        for side, tex in result.textures.items():
            last[side] = tex  # (version, atlas image): the newest texture sent
        if result.frame.index % 2 == 0:
            faces = _faces(result)
            img = draw_overlay(result.frame.views[0], result.hands, result.frame.camera, faces)
            overlays.append(Image.fromarray(img).resize((320, 240)))

    def _faces(result):
        from .model import HandModel

        side = result.hands[0].handedness if result.hands else "right"
        if side not in _models:
            _models[side] = HandModel(side=side, model_path=config.model.path)
        return _models[side].data.faces

    _models: dict = {}
    session = out / "session.mcap"
    # the shipped stereo clip (synthetic, with ground truth): its first num_frames frames
    kwargs = {"source_name": "synthetic", "record": session, "frames": num_frames, "on_result": each}
    try:
        report = run_session(cfg, **kwargs)
    except StreamConfigError as exc:  # the default port is taken (e.g. a running realhands): any free port
        print(f"note: {exc}; publishing on a free port instead")
        report = run_session(cfg, endpoint="tcp://127.0.0.1:*", **kwargs)
    summary = report.summary()
    files = [session]
    (out / "live_report.json").write_text(json.dumps(summary, indent=2) + "\n")
    files.append(out / "live_report.json")
    files.append(_write_report_md(out / "live_report.md", summary, cfg))
    if overlays:
        overlays[0].save(out / "live_overlay.gif", save_all=True, append_images=overlays[1:], duration=133, loop=0)
        files.append(out / "live_overlay.gif")
    result = last.get("result")
    if result is not None and result.hands:
        from .texture import UVAtlas

        hand = result.hands[0]
        tex = last.get(hand.handedness)
        if tex is not None:
            Image.fromarray(tex[1]).save(out / "hand_texture.png")
            files.append(out / "hand_texture.png")
            _faces(result)  # loads the model of this hand if the overlays have not
            data = _models[hand.handedness].data
            atlas = UVAtlas.for_model(data, tex[1].shape[0])  # our UVs, or the cached xatlas ones of a MANO file
            export_mesh(out / "hand_textured.glb", opencv_to_gltf(hand.vertices), data.faces, atlas.uv, atlas.faces_uv,
                        texture=Image.fromarray(tex[1]))
            files.append(out / "hand_textured.glb")
    print(f"live pipeline: {summary['frames_out']} frames at {summary['fps']} fps, "
          f"MPJPE {summary['mpjpe_mm']} mm (root-relative {summary['root_relative_mpjpe_mm']} mm); "
          f"report: {out / 'live_report.md'}")
    return files


def _write_report_md(path: Path, s: dict, cfg: Config) -> Path:
    lines = ["# Live pipeline report", "", f"Source: {s['source']}; every frame processed (the demo's "
             "deterministic mode; `python -m tools.bench.live` measures real time).", "",
             f"- frames: {s['frames_out']} published of {s['frames_in']} captured, {s['errors']} errors",
             f"- throughput: {s['fps']} fps; latency median {s['latency_ms']['median'] if s['latency_ms'] else '-'} ms",
             f"- accuracy against the ground truth: MPJPE {s['mpjpe_mm']} mm, root-relative "
             f"{s['root_relative_mpjpe_mm']} mm",
             f"- wire: {s['bytes_per_hand_frame']['median'] if s['bytes_per_hand_frame'] else '-'} bytes per "
             f"hand-frame, rig {s['rig_bytes']} bytes", "",
             "| stage | median ms | p95 ms |", "| --- | ---: | ---: |"]
    for k, v in s["stage_ms"].items():
        if v:
            lines.append(f"| {k} | {v['median']} | {v['p95']} |")
    path.write_text("\n".join(lines) + "\n")
    return path

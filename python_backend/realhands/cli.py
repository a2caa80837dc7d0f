"""Command line: ``realhands demo``, ``run``, ``record``, ``replay``, ``listen``, ``keys``, ``reconstruct``,
``synth``, ``sequence``, ``train``, ``export-onnx``, ``model info|convert|export``."""
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
                   model_path=args.model, device=args.device, jobs=args.jobs)
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


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}


def _inputs(paths):
    """Expand files and folders into (kind, path) items in a stable order; missing paths are kept (reported
    as errors when their turn comes)."""
    items = []
    for p in map(Path, paths):
        if p.is_dir():
            items += [("image" if f.suffix.lower() in IMAGE_SUFFIXES else "video", f) for f in sorted(p.rglob("*"))
                      if f.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES]
        else:
            items.append(("video" if p.suffix.lower() in VIDEO_SUFFIXES else "image", p))
    return items


def _read_image(path: Path):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise FileNotFoundError(f"no such image: {path}")
    try:
        with Image.open(path) as im:
            return np.array(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"cannot read {path} as an image ({exc})") from None


def cmd_reconstruct(args) -> int:
    import json

    import numpy as np
    from PIL import Image

    from .reconstruct import Reconstructor, default_intrinsics
    from .viz.overlay import draw_overlay

    intr = None
    if args.intrinsics:
        try:
            intr = tuple(float(x) for x in args.intrinsics.split(","))
            assert len(intr) == 4 and intr[0] > 0 and intr[1] > 0
        except (ValueError, AssertionError):
            raise ValueError(f"--intrinsics {args.intrinsics!r}: give fx,fy,cx,cy in pixels") from None
    overlay_dir = Path(args.overlay) if args.overlay else None
    if overlay_dir:
        overlay_dir.mkdir(parents=True, exist_ok=True)
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if args.mask == "auto":  # HandNet's mask when its weights are installed, else GrabCut
        from .net.infer import default_weights

        args.mask = "handnet" if default_weights() else "grabcut"
    mask = args.mask if (overlay_dir or args.refine_iterations) else "none"
    texture_dir = Path(args.texture) if args.texture else None
    if texture_dir:
        texture_dir.mkdir(parents=True, exist_ok=True)
        mask = args.mask if args.mask != "none" else "grabcut"  # texels are kept on hand pixels only
    tex_size = args.texture_size if texture_dir else 0
    images = Reconstructor(video=False, max_hands=args.max_hands, mask=mask, model_path=args.model,
                           refine_iterations=args.refine_iterations, texture_size=tex_size)
    failures, written = 0, 0
    last_vertices = {}  # per Reconstructor and side: the newest mesh, for the textured GLB

    def write_textures(rec, stem):
        for side, fusion in rec.textures.items():
            if not fusion.seen.any() or (id(rec), side) not in last_vertices:
                continue
            fusion.save_image(texture_dir / f"{stem}_{side}.png")
            gl = last_vertices[(id(rec), side)] * np.array([1.0, -1.0, -1.0])  # OpenCV -> glTF axes (y up)
            fusion.export_glb(texture_dir / f"{stem}_{side}.glb", gl, rec.models[side].faces)
            print(f"texture: {texture_dir / (stem + '_' + side)}.png/.glb ({fusion.coverage:.0%} of the atlas seen)")

    def frames(kind, path):
        if kind == "image":
            yield str(path), _read_image(path), None
            return
        import cv2

        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise ValueError(f"cannot open {path} as a video")
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            yield f"{path}#frame={i}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i / fps
            i += 1
        cap.release()
        if i == 0:
            raise ValueError(f"{path}: no frames could be read (truncated or unsupported video)")

    with open(out_path, "w") as fh:
        for kind, path in _inputs(args.paths):
            rec = images
            if kind == "video":
                rec = Reconstructor(video=True, max_hands=args.max_hands, mask=mask, model_path=args.model,
                                    refine_iterations=args.refine_iterations, texture_size=tex_size)
            try:
                for name, img, t in frames(kind, path):
                    h, w = img.shape[:2]
                    K = intr or default_intrinsics(w, h)
                    try:
                        hands = rec(img, K, timestamp=t)
                    except Exception as exc:  # one bad frame must not end a long run
                        fh.write(json.dumps({"image": name, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
                        failures += 1
                        continue
                    line = {"image": name, "width": w, "height": h, "intrinsics": [round(x, 4) for x in K],
                            "hands": [hd.to_json(with_vertices=not args.no_vertices) for hd in hands]}
                    fh.write(json.dumps(line) + "\n")
                    written += 1
                    for hd in hands:
                        last_vertices[(id(rec), hd.handedness)] = hd.vertices
                    if overlay_dir:
                        Km = np.array([[K[0], 0, K[2]], [0, K[1], K[3]], [0, 0, 1.0]])
                        faces = rec.models["right"].faces
                        vis = draw_overlay(img, hands, Km, faces)
                        stem = Path(name.replace("#frame=", "_f")).stem
                        Image.fromarray(vis).save(overlay_dir / f"{stem}.jpg", quality=92)
            except (FileNotFoundError, ValueError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                fh.write(json.dumps({"image": str(path), "error": str(exc)}) + "\n")
                failures += 1
            if texture_dir and kind == "video":
                write_textures(rec, Path(path).stem)
        if texture_dir:
            write_textures(images, "images")
    print(f"wrote {written} result line(s) to {out_path}" + (f"; {failures} input(s) failed" if failures else ""))
    return 1 if failures else 0


def _live_config(args) -> Config:
    cfg = _config(args)
    live, stream = cfg.live, cfg.stream
    for name in ("stereo", "refine_iterations", "mask", "regressor", "texture_size"):
        v = getattr(args, name, None)
        if v is not None:
            setattr(live, name, v)
    if getattr(args, "mono", False):
        live.stereo = False
    if getattr(args, "endpoint", None):
        stream.endpoint = args.endpoint
    if getattr(args, "lan", False):
        stream.lan = True
    if getattr(args, "allow", None):
        stream.allow = list(args.allow)
    if getattr(args, "curve_key", None):
        stream.curve_secret_key = args.curve_key
    if getattr(args, "curve_clients", None):
        stream.curve_clients = args.curve_clients
    live.__post_init__()
    return cfg


def cmd_run(args) -> int:
    from .live.session import run_session

    if args.command == "record" and not args.record:
        args.record = "session.mcap"
    cfg = _live_config(args)
    report = run_session(cfg, args.source, record=args.record, frames=args.frames, duration_s=args.duration,
                         calibration=args.calibration, publish=not args.no_publish,
                         synthetic_frames=args.synthetic_frames)
    s = report.summary()
    print(json.dumps(s, indent=2))
    if args.record:
        print(f"recorded to {args.record}")
    return 0 if report.frames_out or not report.frames_in else 1


def cmd_replay(args) -> int:
    from .live.session import replay_publish, replay_rerun

    cfg = _live_config(args)
    if args.rerun:
        report = replay_rerun(args.recording, cfg, tolerance_mm=args.tolerance_mm, report_path=args.report)
        print(json.dumps(report, indent=2))
        return 0 if report["passed"] else 1
    n = replay_publish(args.recording, cfg, speed=args.speed, loop=args.loop)
    print(f"re-published {n} message(s) on {cfg.stream.endpoint}")
    return 0


def cmd_listen(args) -> int:
    from .live.session import listen

    n = listen(args.endpoint, count=args.count, timeout_s=args.timeout)
    return 0 if n else 1


def cmd_eval(args) -> int:
    from .evaluation.report import plot_pck

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.eval_command == "synthetic":
        from .evaluation import evaluate_synthetic

        r = evaluate_synthetic(args.count, seed=args.seed, stereo=not args.no_stereo, handnet_path=args.handnet)
        plot_pck(r["variants"], out / "pck_variants.png", f"held-out synthetic, {r['split']['detected']} hands")
        if r["stereo"]:
            plot_pck(r["stereo"], out / "pck_stereo.png", "mono and stereo")
        brief = {k: {n: {m: round(v, 3) for m, v in x.items() if isinstance(v, float)} for n, x in r[k].items()}
                 for k in ("variants", "masks", "stereo")}
    elif args.eval_command == "freihand":
        from .evaluation.datasets import evaluate_freihand

        r = evaluate_freihand(args.root, out, model_path=args.model, limit=args.limit)
        if r["summary"]:
            plot_pck({"RealHands": r["summary"]}, out / "pck_freihand.png", "FreiHAND evaluation split")
        brief = {k: r[k] for k in ("images", "detected", "submission", "has_ground_truth")}
    elif args.eval_command == "keypoints":
        from .evaluation.datasets import evaluate_keypoint_folder

        r = evaluate_keypoint_folder(args.annotations)
        plot_pck(r["methods"], out / "pck_2d.png", "2D keypoints", unit="px")
        brief = {"images": r["images"], "detected": r["detected"], "unreadable": len(r["unreadable"]),
                 **{n: round(m["mean_px"], 2) for n, m in r["methods"].items()}}
    else:
        from .evaluation.datasets import evaluate_recording

        r = evaluate_recording(args.recording)
        if r["summary"]:
            plot_pck({"live pipeline": r["summary"]}, out / "pck_recording.png", Path(args.recording).name)
        brief = {"frames": r["frames"], "frames_with_truth": r["frames_with_truth"],
                 **{k: round(v, 2) for k, v in r["summary"].items() if isinstance(v, float)}}
    (out / "summary.json").write_text(json.dumps(r, indent=1))
    print(json.dumps(brief, indent=1))
    print(f"wrote {out / 'summary.json'} and the PCK picture(s) in {out}")
    return 0


def cmd_train(args) -> int:
    from .net.data import HandNetDataset
    from .net.train import load_recipe, train
    from .synth.dataset import SynthOnTheFlyDataset, SynthShardDataset, SynthUnpackedDataset, unpack_dataset

    recipe = load_recipe(args.recipe)
    if sum(bool(x) for x in (args.data, args.on_the_fly, args.freihand)) != 1:
        raise ValueError("give the training data: --data DIR (a `realhands synth` folder), --on-the-fly N, or "
                         "--freihand DIR (with --model MANO_RIGHT.pkl)")
    if args.freihand:
        from .net.freihand import FreiHANDDataset

        base = FreiHANDDataset(args.freihand, model_path=args.model)
    elif args.data and args.unpacked:
        base = SynthUnpackedDataset(unpack_dataset(args.data, args.unpacked, partial=args.partial,
                                                   threads=max(2, args.workers)))
    elif args.data:
        import torch

        parts = [SynthShardDataset(d, partial=args.partial) for d in args.data]
        base = parts[0] if len(parts) == 1 else torch.utils.data.ConcatDataset(parts)
    else:
        base = SynthOnTheFlyDataset(args.on_the_fly, seed=args.seed, device=args.device)
    if args.limit:
        import torch

        base = torch.utils.data.Subset(base, range(min(args.limit, len(base))))
    ds = HandNetDataset(base, size=recipe.model.input_size, augment=True, seed=args.seed, views=args.views)
    metrics = train(recipe, ds, args.out, device=args.device, resume=not args.restart,
                    max_steps_per_epoch=args.max_steps, workers=args.workers, amp=not args.no_amp,
                    time_budget_s=args.time_budget_min * 60 if args.time_budget_min else None, init=args.init)
    print(json.dumps({"out": str(args.out), "validation": metrics}, indent=1))
    return 0


def cmd_export_onnx(args) -> int:
    from .net import build_from_checkpoint, export_onnx, load_checkpoint, parity

    state = load_checkpoint(args.checkpoint)
    net = build_from_checkpoint(state)
    out = export_onnx(net, args.output)
    stereo = state.get("stereo") or {}
    if stereo and float(stereo["fc.weight"].abs().sum() + stereo["fc.bias"].abs().sum()) > 0:  # trained fusion weights
        import numpy as np

        from .net.infer import stereo_weights_path

        sp = stereo_weights_path(out)
        np.savez(sp, weight=stereo["fc.weight"].float().numpy(), bias=stereo["fc.bias"].float().numpy())
        print(f"wrote {sp} (stereo fusion weights)")
    diff = parity(net, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB); torch vs onnxruntime max abs difference: "
          + ", ".join(f"{k} {v:.1e}" for k, v in diff.items()))
    if max(diff.values()) >= 1e-4:
        print("error: parity above 1e-4", file=sys.stderr)
        return 1
    return 0


def cmd_keys(args) -> int:
    from zmq import auth

    out = Path(args.folder)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("server", "client"):
        public, secret = auth.create_certificates(str(out), name)
        print(f"{name}: {public} (give to the other side), {secret} (keep)")
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
    sy.add_argument("--jobs", type=int, default=1, help="render shards in this many processes (same result)")
    sy.set_defaults(func=cmd_synth)
    sq = sub.add_parser("sequence", help="render a synthetic gesture sequence (frames, labels, ground truth)")
    synth_args(sq)
    sq.add_argument("--out", required=True)
    sq.add_argument("--kind", default="mixed", help="grasp, pinch, count, wave, enter_exit or mixed")
    sq.add_argument("--frames", type=int, default=90)
    sq.add_argument("--fps", type=float, default=30.0)
    sq.add_argument("--side", choices=["right", "left"])
    sq.set_defaults(func=cmd_sequence)

    rc = sub.add_parser("reconstruct", help="3D hands from images, folders and videos -> JSON lines")
    rc.add_argument("paths", nargs="+", help="image files, folders of images, videos")
    rc.add_argument("--intrinsics", help="fx,fy,cx,cy in pixels (default: 60 deg horizontal FOV, centred)")
    rc.add_argument("--out", required=True, help="results file (.jsonl), one line per image or frame")
    rc.add_argument("--overlay", help="folder for overlay images (mesh and keypoints drawn on the input)")
    rc.add_argument("--no-vertices", action="store_true", help="leave the mesh vertices out of the JSON")
    rc.add_argument("--mask", default="auto", choices=["auto", "handnet", "grabcut", "hsv", "none"],
                    help="mask source for overlays and refinement (default auto: HandNet's mask when its weights are "
                         "installed, else GrabCut)")
    rc.add_argument("--max-hands", type=int, default=2)
    rc.add_argument("--refine-iterations", type=int, default=0,
                    help="silhouette refinement steps against the mask (default 0: off, see docs/refinement.md)")
    rc.add_argument("--texture", metavar="DIR",
                    help="fuse each hand's texture over the frames and write it (PNG) with a textured GLB to DIR: "
                         "one per video, one for all still images")
    rc.add_argument("--texture-size", type=int, default=512, help="texture atlas side in texels (default 512)")
    rc.add_argument("--model", help="MANO-format model file or folder")
    rc.set_defaults(func=cmd_reconstruct)

    def stream_args(sp):
        sp.add_argument("--endpoint", help="ZeroMQ endpoint to publish on (default tcp://127.0.0.1:5555)")
        sp.add_argument("--lan", action="store_true", help="allow subscribers on the network (needs --allow)")
        sp.add_argument("--allow", nargs="+", metavar="IP", help="subscriber addresses admitted in LAN mode")
        sp.add_argument("--curve-key", help="server .key_secret file (realhands keys): CURVE-encrypt (LAN mode)")
        sp.add_argument("--curve-clients", help="folder of admitted client .key files (default: any)")

    def live_args(sp):
        sp.add_argument("--mono", action="store_true", help="use only the left view of a stereo source")
        sp.add_argument("--refine-iterations", type=int, help="silhouette refinement steps (needs --mask)")
        sp.add_argument("--mask", choices=["auto", "handnet", "none", "grabcut", "hsv"], help="mask for refinement")
        sp.add_argument("--regressor", choices=["auto", "handnet", "fit"],
                        help="auto: HandNet + a short fit when a hand appears (default); fit: the keypoint fit alone")
        sp.add_argument("--texture-size", type=int, help="texture atlas side (0: no texture; default 256)")
        sp.add_argument("--model", help="MANO-format model file or folder")

    for name, helptext in (("run", "the live pipeline: capture -> hands -> ZeroMQ (and a recording)"),
                           ("record", "the live pipeline, recording the session (MCAP)")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("--source", help="synthetic[:kind] | webcam[:N] | uvc:N | zed | VIDEO | FOLDER | REC.mcap "
                                        "(default: synthetic)")
        r.add_argument("--calibration", help="stereo calibration: ZED SN*.conf or OpenCV YAML")
        r.add_argument("--record", help="record the session to this .mcap file")
        r.add_argument("--frames", type=int, help="stop after this many frames")
        r.add_argument("--duration", type=float, help="stop after this many seconds")
        r.add_argument("--synthetic-frames", type=int, default=90, help="length of the synthetic sequence")
        r.add_argument("--no-publish", action="store_true", help="do not open a ZeroMQ socket")
        stream_args(r)
        live_args(r)
        r.set_defaults(func=cmd_run)
    rp = sub.add_parser("replay", help="re-publish a recording, or re-run the pipeline on it (--rerun)")
    rp.add_argument("recording")
    rp.add_argument("--speed", type=float, default=1.0, help="x recorded pace; 0: as fast as possible")
    rp.add_argument("--loop", action="store_true")
    rp.add_argument("--rerun", action="store_true", help="re-run the pipeline on the recorded inputs and compare")
    rp.add_argument("--tolerance-mm", type=float, default=5.0, help="--rerun: largest mean joint distance to pass")
    rp.add_argument("--report", help="--rerun: write the comparison as JSON here")
    stream_args(rp)
    live_args(rp)
    rp.set_defaults(func=cmd_replay)
    ls = sub.add_parser("listen", help="print the messages a RealHands publisher sends")
    ls.add_argument("--endpoint", default="tcp://127.0.0.1:5555")
    ls.add_argument("--count", type=int, help="stop after this many messages")
    ls.add_argument("--timeout", type=float, default=10.0, help="stop after this many quiet seconds")
    ls.set_defaults(func=cmd_listen)
    k = sub.add_parser("keys", help="make CURVE key pairs (server, client) for LAN mode")
    k.add_argument("folder")
    k.set_defaults(func=cmd_keys)

    t = sub.add_parser("train", help="train HandNet in stages from a recipe (checkpoints, resume, log, loss plot)")
    t.add_argument("--recipe", default="cpu_small", help="recipe name (net/recipes) or .toml file")
    t.add_argument("--data", action="append", help="synthetic dataset folder (realhands synth); repeat for several")
    t.add_argument("--partial", action="store_true", help="use the finished shards of a dataset still being written")
    t.add_argument("--unpacked", metavar="DIR", help="decode --data once into DIR (memory-mapped arrays, about 2.5 MB "
                   "per 640x480 sample; reused, and shared by concurrent runs): fast random access")
    t.add_argument("--on-the-fly", type=int, help="render this many synthetic samples on the fly instead")
    t.add_argument("--freihand", help="FreiHAND folder in its official layout (needs --model: the official MANO)")
    t.add_argument("--model", help="MANO-format model file or folder (FreiHAND's parameters need the official MANO)")
    t.add_argument("--views", choices=["left", "both"], default="left", help="camera views to train on")
    t.add_argument("--limit", type=int, help="use only the first N samples (e.g. the shards written so far)")
    t.add_argument("--out", required=True, help="run folder: checkpoint.pt, train_log.jsonl, loss.png")
    t.add_argument("--device", default="cpu")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in --out")
    t.add_argument("--init", help="start from this checkpoint's weights (fine-tuning; same model config)")
    t.add_argument("--max-steps", type=int, help="cap batches per epoch (smoke runs)")
    t.add_argument("--workers", type=int, default=0, help="data loading processes (0: in the training process)")
    t.add_argument("--time-budget-min", type=float, help="scale the recipe's epochs to fit this many minutes")
    t.add_argument("--no-amp", action="store_true", help="float32 throughout on CUDA (default: bfloat16 autocast)")
    t.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help="metrics on held-out synthetic data, FreiHAND, annotated images, recordings")
    esub = ev.add_subparsers(dest="eval_command", required=True)
    e1 = esub.add_parser("synthetic", help="Table 1/3/4: the variants, masks, mono and stereo on held-out renders")
    e1.add_argument("--count", type=int, default=60)
    e1.add_argument("--seed", type=int, default=99, help="held-out seed (training data: seed 1)")
    e1.add_argument("--no-stereo", action="store_true")
    e1.add_argument("--handnet", help="a HandNet ONNX file (default: the shipped one)")
    e2 = esub.add_parser("freihand", help="FreiHAND's evaluation split: the official submission file (+ metrics "
                         "when its ground truth is there)")
    e2.add_argument("root")
    e2.add_argument("--model", help="the official MANO (MANO_RIGHT.pkl or its folder): FreiHAND scores 778 vertices")
    e2.add_argument("--limit", type=int)
    e3 = esub.add_parser("keypoints", help="2D errors against 21-keypoint annotations (realhands.evaluation.datasets)")
    e3.add_argument("annotations", help="annotations.json or the folder holding it")
    e4 = esub.add_parser("recording", help="re-run a recording; errors against its ground truth when it has some")
    e4.add_argument("recording")
    for e in (e1, e2, e3, e4):
        e.add_argument("--out", required=True, help="folder: summary.json and PCK pictures")
    ev.set_defaults(func=cmd_eval)

    x = sub.add_parser("export-onnx", help="export a HandNet checkpoint to ONNX and check torch/onnxruntime parity")
    x.add_argument("checkpoint")
    x.add_argument("output")
    x.set_defaults(func=cmd_export_onnx)

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
    except (ModelFileError, ConfigError, ValueError, FileNotFoundError, DatasetError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

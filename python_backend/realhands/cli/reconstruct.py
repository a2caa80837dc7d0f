"""``realhands reconstruct``: 3D hands from images, folders and videos (realhands.batch), one JSON line each."""
from __future__ import annotations

import dataclasses

from ..config import BATCH_TEXTURE_SIZE, MASK_SOURCES, REGRESSORS
from ..errors import ConfigError
from . import load_config


def reconstruct_choices(args, base):
    """``base`` (a ReconstructConfig, e.g. the config file's) with the command line's choices applied."""
    changes = {k: getattr(args, k) for k in ("mask", "regressor", "refine_iterations", "max_hands", "texture_size")
               if getattr(args, k, None) is not None}
    if getattr(args, "handnet", None):
        changes["handnet"] = args.handnet
    if getattr(args, "hand", None):
        changes["hands"] = tuple(args.hand)
    return dataclasses.replace(base, **changes)


def cmd_reconstruct(args) -> int:
    from ..batch import reconstruct_files
    from ..camera import Camera

    cfg = load_config(args)
    if args.texture and args.texture_size is not None and args.texture_size < 1:
        raise ConfigError(f"--texture-size must be at least 1 texel with --texture, got {args.texture_size}")
    camera = Camera.parse(args.intrinsics) if args.intrinsics else None
    s = reconstruct_files(args.paths, args.out, reconstruct_choices(args, cfg.reconstruct), camera,
                          overlay_dir=args.overlay, texture_dir=args.texture, with_vertices=not args.no_vertices,
                          model_path=cfg.model.path, force=args.force, calibration=args.calibration,
                          right=args.right)
    print(f"wrote {s.written} result line(s) to {args.out}" + (f"; {s.failures} input(s) failed" if s.failures else ""))
    return 1 if s.failures else 0


def add_parsers(sub) -> None:
    rc = sub.add_parser("reconstruct", help="3D hands from images, folders and videos -> JSON lines")
    rc.add_argument("paths", nargs="+", help="image files, folders of images, videos")
    rc.add_argument("--intrinsics", help="fx,fy,cx,cy in pixels (default: 60 deg horizontal FOV, centred)")
    rc.add_argument("--calibration", help="the inputs are side-by-side stereo pairs (left | right) of this rig: a ZED "
                                          "SN*.conf or an OpenCV stereo YAML; hands are fitted in both views")
    rc.add_argument("--right", help="with --calibration: the right views (a folder, video or image), paired in sorted "
                                    "order with PATHS, which are then the left views (not side by side)")
    rc.add_argument("--out", required=True, help="results file (.jsonl), one line per image or frame")
    rc.add_argument("--overlay", help="folder for overlay images (mesh and keypoints drawn on the input)")
    rc.add_argument("--no-vertices", action="store_true", help="leave the mesh vertices out of the JSON")
    rc.add_argument("--regressor", choices=REGRESSORS,
                    help="auto (default): handnet when its weights are installed, else fit; handnet: the keypoint fit "
                         "from HandNet's articulation (it wins on real photos, docs/RESULTS.md); net (HandNet alone); "
                         "fit (the keypoint fit from the mean hand)")
    rc.add_argument("--mask", choices=MASK_SOURCES,
                    help="silhouette for refinement and texture (default auto: HandNet's mask when its weights are "
                         "installed, else GrabCut for refinement)")
    rc.add_argument("--handnet", help="a HandNet ONNX file (default: the shipped one)")
    rc.add_argument("--max-hands", type=int, help="at most this many hands per image (default 2)")
    rc.add_argument("--refine-iterations", type=int,
                    help="silhouette refinement steps against the mask (default 0: off, see docs/refinement.md)")
    rc.add_argument("--texture", metavar="DIR",
                    help="fuse each hand's texture over the frames and write it (PNG) with a textured GLB to DIR: "
                         "one per video, one for all still images")
    rc.add_argument("--texture-size", type=int,
                    help=f"texture atlas side in texels (default {BATCH_TEXTURE_SIZE})")
    rc.add_argument("--hand", action="append", metavar="DIR",
                    help="the user's saved hand (realhands capture-hand): its shape is held and its texture starts "
                         "the fusion; once per side")
    rc.add_argument("--model", help="MANO-format model file or folder")
    rc.add_argument("--force", action="store_true", help="replace an existing --out file that is not a .jsonl")
    rc.set_defaults(func=cmd_reconstruct)

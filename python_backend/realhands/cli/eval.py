"""``realhands eval synthetic|freihand|keypoints|real3d|recording``: metrics, PCK pictures and summary.json."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..errors import OutputError

#: the files each evaluation writes in --out: checked, all of them, before it runs
EVAL_OUTPUTS = {"synthetic": ("summary.json", "pck_variants.png", "pck_stereo.png"),
                "freihand": ("summary.json", "pred.json", "pck_freihand.png"),
                "real3d": ("summary.json", "table.md", "pck_real3d.png"),
                "keypoints": ("summary.json", "pck_2d.png"),
                "recording": ("summary.json", "pck_recording.png")}


def _output_folder(args):
    """--out as a realhands.outputs.OutputFolder, made if needed, once it is known that the evaluation replaces no
    file there that RealHands did not write: an earlier evaluation's outputs are replaced, anything else of their
    names (the user's own summary.json) is refused unless --force."""
    from ..outputs import OutputFolder

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; --out names a folder (for summary.json and the PCK pictures)")
    folder = OutputFolder(out, log=lambda _: None)
    names = EVAL_OUTPUTS[args.eval_command]
    foreign = [str(out / n) for n in names if (out / n).is_dir() or
               (os.path.lexists(out / n) and not folder.owns(n) and not args.force)]
    if foreign:
        one = len(foreign) == 1
        raise OutputError(f"{', '.join(foreign)} {'is' if one else 'are'} not from an earlier evaluation: choose "
                          f"another --out folder, or pass --force to replace {'it' if one else 'them'}")
    return folder


def _stamp(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _warn_skipped(skipped: list[str]) -> None:
    """What an evaluation left out, on screen too (all of it in summary.json)."""
    for why in skipped[:5]:
        print(f"warning: skipped {why}", file=sys.stderr)
    if len(skipped) > 5:
        print(f"warning: ... and {len(skipped) - 5} more skipped (summary.json lists them)", file=sys.stderr)


def cmd_eval(args) -> int:
    folder = _output_folder(args)
    paths = [folder.path / n for n in EVAL_OUTPUTS[args.eval_command]]
    before = {p: _stamp(p) for p in paths}
    try:
        return _evaluate(args, folder.path)
    finally:  # what this run wrote is RealHands' own: the next run replaces it
        folder.written([p for p in paths if _stamp(p) not in (None, before[p])])


def _evaluate(args, out: Path) -> int:
    from ..evaluation.report import plot_pck

    if args.eval_command == "synthetic":
        from ..evaluation import evaluate_synthetic

        r = evaluate_synthetic(args.count, seed=args.seed, stereo=not args.no_stereo, handnet_path=args.handnet)
        plot_pck(r["variants"], out / "pck_variants.png", f"held-out synthetic, {r['split']['detected']} hands")
        if r["stereo"]:
            plot_pck(r["stereo"], out / "pck_stereo.png", "mono and stereo")
        brief = {k: {n: {m: round(v, 3) for m, v in x.items() if isinstance(v, float)} for n, x in r[k].items()}
                 for k in ("variants", "masks", "stereo")}
    elif args.eval_command == "freihand":
        from ..evaluation.datasets import evaluate_freihand

        r = evaluate_freihand(args.root, out, model_path=args.model, limit=args.limit)
        if r["summary"]:
            plot_pck({"RealHands": r["summary"]}, out / "pck_freihand.png", "FreiHAND evaluation split")
        brief = {k: r[k] for k in ("images", "detected", "submission", "has_ground_truth")}
    elif args.eval_command == "real3d":
        from ..evaluation.real3d import evaluate_real3d, real3d_table

        r = evaluate_real3d(args.annotations)
        plot_pck(r["variants"], out / "pck_real3d.png",
                 f"real photos, {r['detected']} hands (PA-aligned joints)")
        (out / "table.md").write_text(real3d_table(r) + "\n")
        print(real3d_table(r))
        brief = {k: r[k] for k in ("samples", "detected", "missed")} | {"skipped": len(r["skipped"])}
        _warn_skipped(r["skipped"])
        if not r["detected"]:
            (out / "summary.json").write_text(json.dumps(r, indent=1))
            print(f"error: nothing was scored: {r['samples']} sample(s), {len(r['skipped'])} skipped, none with a hand "
                  f"found (summary.json in {out} says why)", file=sys.stderr)
            return 1
    elif args.eval_command == "keypoints":
        from ..evaluation.datasets import evaluate_keypoint_folder

        r = evaluate_keypoint_folder(args.annotations)
        plot_pck(r["methods"], out / "pck_2d.png", "2D keypoints", unit="px")
        brief = {"images": r["images"], "detected": r["detected"], "unreadable": len(r["unreadable"]),
                 "skipped": len(r["skipped"]), **{n: round(m["mean_px"], 2) for n, m in r["methods"].items()}}
        _warn_skipped(r["skipped"])
    else:
        from ..evaluation.datasets import evaluate_recording

        r = evaluate_recording(args.recording)
        if r["summary"]:
            plot_pck({"live pipeline": r["summary"]}, out / "pck_recording.png", Path(args.recording).name)
        brief = {"frames": r["frames"], "frames_with_truth": r["frames_with_truth"],
                 **{k: round(v, 2) for k, v in r["summary"].items() if isinstance(v, float)}}
    (out / "summary.json").write_text(json.dumps(r, indent=1))
    print(json.dumps(brief, indent=1))
    print(f"wrote {out / 'summary.json'} and the PCK picture(s) in {out}")
    return 0


def add_parsers(sub) -> None:
    ev = sub.add_parser("eval", help="metrics on held-out synthetic data, real photos with 3D joints, FreiHAND, "
                        "annotated images, recordings")
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
    e5 = esub.add_parser("real3d", help="real photos with 3D joints: every variant beside MediaPipe's world "
                         "landmarks (realhands.evaluation.real3d)")
    e5.add_argument("annotations", help="annotations.json ({samples: [{image, K, joints_3d}]}) or its folder")
    e4 = esub.add_parser("recording", help="re-run a recording; errors against its ground truth when it has some")
    e4.add_argument("recording")
    for e in (e1, e2, e3, e4, e5):
        e.add_argument("--out", required=True, help="folder: summary.json and PCK pictures")
        e.add_argument("--force", action="store_true", help="replace files of the outputs' names in --out that "
                       "an earlier evaluation did not write (its own are replaced anyway)")
    ev.set_defaults(func=cmd_eval)

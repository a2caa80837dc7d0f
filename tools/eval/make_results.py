#!/usr/bin/env python3
"""Regenerate docs/RESULTS.md: runs `realhands eval synthetic` (Tables 1, 3, 4 and CPU timings) on this machine,
writes its JSON to docs/results/synthetic.json and the PCK pictures to docs/images/, and adds the recorded results
that need models or hardware not in the repository (docs/results/recorded.json: the Table 2 ablations, GPU
timings). When the real photos with 3D ground truth are there (``../shared/realdata/ge2019_dev``, or ``--real3d``),
it first runs `realhands eval real3d` on them: that table leads the document (its summary in
docs/results/real3d.json, its PCK picture in docs/images/); without them the previous real-photo section is kept.

    python -m tools.eval.make_results [--count 60]      # ~3 min on the 2-core development machine
"""
import argparse
import datetime
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from realhands.evaluation import evaluate_synthetic
from realhands.evaluation.real3d import MEDIAPIPE, evaluate_real3d, real3d_table
from realhands.evaluation.report import plot_pck, results_markdown

ROOT = Path(__file__).resolve().parents[2]
REAL3D = ROOT.parent / "shared" / "realdata" / "ge2019_dev" / "annotations.json"
LEAD = "real3d"  # the marked block that leads RESULTS.md


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, no GPU" if not _cuda() else f"{cpu}, {os.cpu_count()} cores + CUDA"


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--docs", default=str(ROOT / "docs"), help="docs folder to write into")
    ap.add_argument("--real3d", default=str(REAL3D), help="real photos with 3D joints (annotations.json)")
    args = ap.parse_args()
    docs = Path(args.docs)
    t0 = time.time()
    lead = real_photo_section(Path(args.real3d), docs) if Path(args.real3d).is_file() else None
    r = evaluate_synthetic(args.count)
    (docs / "results").mkdir(parents=True, exist_ok=True)
    (docs / "results" / "synthetic.json").write_text(json.dumps(r, indent=1))
    images = {"pck": "images/results_pck_variants.png"}
    plot_pck(r["variants"], docs / images["pck"], f"held-out synthetic, {r['split']['detected']} hands")
    if r["stereo"]:
        images["pck_stereo"] = "images/results_pck_stereo.png"
        plot_pck(r["stereo"], docs / images["pck_stereo"], "mono and stereo")
    rec_path = docs / "results" / "recorded.json"
    recorded = json.loads(rec_path.read_text()) if rec_path.is_file() else None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    cmd = "python -m tools.eval.make_results" + (f" --count {args.count}" if args.count != 60 else "")
    meta = {"command": cmd, "hardware": hardware(), "date": datetime.date.today().isoformat(), "commit": commit,
            "minutes": round((time.time() - t0) / 60, 1)}
    out = docs / "RESULTS.md"
    kept = kept_blocks(out)
    if lead is None:  # no real photos here: keep the section the last run with them wrote
        m = re.search(_block(LEAD), kept, re.S)
        lead = m.group(0).strip("\n") + "\n" if m else ""
    kept = re.sub(_block(LEAD), "", kept, flags=re.S)
    body = results_markdown(r, meta, images, recorded)
    title, rest = body.split("\n", 1)
    heading = "\n## Held-out synthetic renders\n" if lead else ""
    out.write_text(f"{title}\n\n{lead}{heading}{rest}{kept}")
    print(f"wrote {docs / 'RESULTS.md'} ({meta['minutes']} min)")
    return 0


def real_photo_section(annotations: Path, docs: Path) -> str:
    """Run every variant on the real photos and return the marked section that leads RESULTS.md."""
    r = evaluate_real3d(annotations)
    (docs / "results").mkdir(parents=True, exist_ok=True)
    brief = {k: v for k, v in r.items() if k != "skipped"} | {"skipped": len(r["skipped"])}
    (docs / "results" / "real3d.json").write_text(json.dumps(brief, indent=1))
    plot_pck(r["variants"], docs / "images" / "results_pck_real3d.png",
             f"real photos ({annotations.parent.name}), {r['detected']} hands, PA-aligned")
    v, mp = r["variants"], r["variants"][MEDIAPIPE]
    d = v.get("default", {})
    verdict = "better than" if d.get("pa_mpjpe_mm", 1e9) <= mp["pa_mpjpe_mm"] and \
        d.get("root_relative_mpjpe_mm", 1e9) <= mp["root_relative_mpjpe_mm"] else "NOT at least as good as"
    lines = ["## Real photos with 3D ground truth", "", f"<!-- {LEAD}:begin -->",
             f"**Data.** `{annotations.parent.name}`: {r['samples']} real photos (256x256 hand crops, each with its "
             f"own intrinsics and 21 annotated 3D joints; evaluation only, never trained on, read from `../shared`). "
             f"MediaPipe found the hand in {r['detected']} ({r['missed']} missed, {len(r['skipped'])} skipped); "
             "every variant sees the same detections. Scored: each variant's `landmarks_3d` (the keypoints where "
             "MediaPipe and the annotations mark them) against the annotated joints; MediaPipe's world landmarks "
             "have no placement, so only their aligned errors are given, and their 2D column is MediaPipe's own "
             "keypoints. Wrist position: the distance between the predicted and the true wrist, in 3D.", "",
             real3d_table(r), "",
             "![PCK on real photos](images/results_pck_real3d.png)", "",
             f"**Reading it.** The default is {verdict} MediaPipe's world landmarks on both PA-MPJPE and "
             "root-relative MPJPE. The default regressor is the hybrid because it wins here: the keypoint fit "
             "started from HandNet's articulation and shape, with the orientation and placement from the keypoints "
             "(HandNet alone, trained on renders only, reads the fingers better than it turns and places the hand), "
             "and, for a photo, also from the mean hand, the lower loss kept (two local minima tried); "
             "HandNet also gives the mask (realhands.config).",
             f"Command: `realhands eval real3d {_shown(annotations)}` (or this script), "
             f"{datetime.date.today().isoformat()}.", f"<!-- {LEAD}:end -->", ""]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it can be (as a user would type it from there)."""
    import os

    return os.path.relpath(path.resolve(), ROOT) if path.is_absolute() else str(path)


def _block(name: str) -> str:
    """The pattern of the marked block ``name`` with the heading just above it."""
    return (rf"\n(## [^\n]*\n(?:(?!\n## )[^<]|<(?!!-- {name}:begin))*)?<!-- {name}:begin -->.*?"
            rf"<!-- {name}:end -->\n?")


def kept_blocks(path: Path) -> str:
    """The sections other benchmarks write into RESULTS.md between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``
    markers (e.g. tools.bench.stereo's table), with the heading just above each: kept when the file is rebuilt."""
    if not path.is_file():
        return ""
    text = path.read_text()
    found = re.finditer(r"(\n## [^\n]*\n(?:(?!\n## )[^<]|<(?!!-- [\w-]+:begin))*)?<!-- ([\w-]+):begin -->.*?"
                        r"<!-- \2:end -->\n?", text, re.S)
    return "".join("\n" + m.group(0).lstrip("\n") for m in found)


if __name__ == "__main__":
    sys.exit(main())

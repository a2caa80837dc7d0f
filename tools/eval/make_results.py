#!/usr/bin/env python3
"""Regenerate docs/RESULTS.md: runs `realhands eval synthetic` (Tables 1, 3, 4 and CPU timings) on this machine,
writes its JSON to docs/results/synthetic.json and the PCK pictures to docs/images/, and adds the recorded results
that need models or hardware not in the repository (docs/results/recorded.json: the Table 2 ablations, GPU
timings).

    python -m tools.eval.make_results [--count 60]      # ~6 min on the 2-core development machine
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
from realhands.evaluation.report import plot_pck, results_markdown

ROOT = Path(__file__).resolve().parents[2]


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
    args = ap.parse_args()
    docs = Path(args.docs)
    t0 = time.time()
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
    out.write_text(results_markdown(r, meta, images, recorded) + kept_blocks(out))
    print(f"wrote {docs / 'RESULTS.md'} ({meta['minutes']} min)")
    return 0


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

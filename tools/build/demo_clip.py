#!/usr/bin/env python3
"""Write python_backend/realhands/assets/demo_stereo.mcap: the synthetic stereo clip `realhands run` plays by
default (so that a first frame is published at once on a fresh machine instead of after rendering).

The mixed gesture sequence (seed 0, a right hand, ZED Mini 640x480 at 30 fps, everyday background), both views as
JPEG, the rig's calibration and each frame's ground-truth joints, in the recording format `realhands run --record`
writes (read back by realhands.recording.recording_source).

    python -m tools.build.demo_clip [--frames 90] [--quality 80]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from realhands.camera import calibration_to_json
from realhands.live.sources import DEMO_CLIP, SyntheticSource
from realhands.recording.mcap_io import GT_TOPIC, Recorder


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality")
    ap.add_argument("--out", type=Path, default=DEMO_CLIP)
    args = ap.parse_args()
    src = SyntheticSource(kind="mixed", num_frames=args.frames, seed=0, side="right", stereo=True)
    tmp = args.out.with_suffix(".partial")
    rec = Recorder(tmp, {"source": "synthetic:mixed (seed 0, right hand)", "fps": str(src.fps),
                         "calibration": calibration_to_json(src.pair),
                         "made_by": f"python -m tools.build.demo_clip --frames {args.frames} --quality {args.quality}",
                         "date": time.strftime("%Y-%m-%d")})
    for f in tqdm(src, total=len(src), desc="frames", unit="frame"):
        for view, img in enumerate(f.views):
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                                  args.quality])
            assert ok
            rec.add_image(view, f.capture_ns, buf.tobytes(), f.index)
        gt = f.ground_truth
        rec.add_json(GT_TOPIC, f.capture_ns, {"frame": f.index, "side": gt["side"],
                                              "joints": np.round(gt["joints"], 5).tolist()})
    rec.close()
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(src)} stereo frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

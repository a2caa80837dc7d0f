"""Where MediaPipe marks a hand's keypoints, relative to the hand model's skeleton.

MediaPipe's keypoints are not the model's joints: its wrist point sits on the wrist crease, ~15 mm towards the
fingers from the model's wrist joint, its fingertips ~1 cm short of the model's tip vertices, its knuckles on the
back of the hand. A fit that pulls the model's joints onto MediaPipe's points therefore shrinks the hand and
shifts it; with one view that mostly hides in the depth guess, with two views (which measure size and depth) it
is the largest error left. The fix is a fixed offset per keypoint, in the frame of the joint that carries it
(``conventions.KEYPOINT_OWNERS``), measured once per model by ``python -m tools.build.landmark_offsets``:
MediaPipe on rendered stereo pairs of the model (synthetic, seeds apart from training and the benchmarks),
triangulated, expressed in the true pose's joint frames, the median over a few hundred frames.

The fit then compares detections with ``model.keypoints(..., landmark_offsets=offsets)`` and reports the
skeleton's joints. Offsets belong to one model file: they load only for the model they were measured on
(``realhands.model.model_fingerprint``, the one such hash, which saved personal hands use
too); another model (official MANO files) fits without them until measured for it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ModelFileError
from ..model.io import model_fingerprint

#: The measured offsets shipped with our hand model.
OFFSETS_FILE = Path(__file__).resolve().parent.parent / "assets" / "landmark_offsets.json"


@lru_cache(maxsize=8)
def _load(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ModelFileError(f"{path}: unreadable landmark offsets ({e}); rebuild it with "
                             "`python -m tools.build.landmark_offsets`") from e


def landmark_offsets(model, path: str | Path = OFFSETS_FILE) -> np.ndarray | None:
    """(21,3) metres for this model's side, or None when none were measured for this model file."""
    entry = _load(str(path)).get("models", {}).get(model_fingerprint(model))
    if not entry or model.side not in entry:
        return None
    off = np.asarray(entry[model.side], np.float64)
    if off.shape != (21, 3) or not np.isfinite(off).all() or np.abs(off).max() > 0.05:
        raise ModelFileError(f"{path}: landmark offsets for {model.side} must be 21x3 finite values under 5 cm")
    return off


def measure_offsets(points: np.ndarray, keypoints: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets from observations: ``points`` (N,21,3) where the detector put the keypoints (triangulated, NaN
    where unknown), ``keypoints`` (N,21,3) the model's true keypoints and ``frames`` (N,21,3,3) the rotations of
    their owning joints. Returns the median offset (21,3) in the joint frames and its median absolute deviation
    (21,3) (metres), robust to MediaPipe's outright misses."""
    local = np.einsum("nkji,nkj->nki", frames, points - keypoints)  # R^T (p - k)
    med = np.nanmedian(local, axis=0)
    mad = np.nanmedian(np.abs(local - med), axis=0)
    return med, mad

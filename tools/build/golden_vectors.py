#!/usr/bin/env python3
"""Write the wire format's golden test vectors to shared_schema/golden/ (deterministic): one file per message
type (the multipart frames packed as u32 count + (u32 length, bytes)..., little-endian) and expected.json with
their decoded fields, which the Unity package's C# tests decode and compare against; and skinning.msgpack: real
rigs of both shipped hands, frames with varied poses, shapes and refinement offsets, and the Python model's
vertices for each (camera space, metres), which the C# skinning must reproduce within 0.1 mm.

    python -m tools.build.golden_vectors [--check]

shared_schema/golden/v1.0/ keeps frame and stats messages as wire 1.0 wrote them (before the fields 1.1 added), for
the readers' tests that an older writer's messages still decode; they are history, not rebuilt here.
"""
import argparse
import json
import sys
from pathlib import Path

import msgpack
import numpy as np
import torch

from realhands.model import HandModel
from realhands.reconstruct import HandResult
from realhands.recording.mcap_io import pack_frames
from realhands.streaming.messages import frame_body, hand_body, rig_body
from realhands.streaming.wire import decode, encode
from realhands.synth.sampling import sample_betas, sample_hand_pose

ROOT = Path(__file__).resolve().parents[2]

OUT = ROOT / "shared_schema" / "golden"
#: the copy the Unity package ships for its own tests (a '~' folder: on disk in a user's project, never imported), so
#: that the golden-vector tests run from the installed package, not only in this repository
PACKAGE_DATA = ROOT / "unity_package" / "Tests" / "Core" / "Data~"


def golden_messages() -> dict:
    """A tiny two-joint rig (a tetrahedron) and one message of every other type, with fixed values."""
    rest = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]], "<f4")
    weights = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.25, 0.75]], "<f4")
    rig = {"handedness": "right", "model_id": "golden-tetrahedron", "rig_version": 1, "vertex_count": 4,
           "faces": np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], "<u4"),
           "uv": np.array([[0, 0], [1, 0], [0, 1], [1, 1]], "<f4"),
           "faces_uv": np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], "<u4"),
           "rest_vertices": rest, "rest_joints": np.zeros((16, 3), "<f4"),
           "joint_parents": np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14], "<i4"),
           "joint_names": [f"j{i}" for i in range(16)],
           "skin_weights": np.concatenate([weights, np.zeros((4, 14), "<f4")], 1),
           "shape": np.linspace(-1, 1, 10).astype("<f4"), "units": "metres", "model_axes": "golden",
           "camera_axes": "OpenCV: x right, y down, z forward"}
    hand = {"handedness": "right", "confidence": 0.875, "tracking": "tracked", "rig_version": 1,
            "pose": (np.arange(48) * 0.01).astype("<f4"), "shape": np.linspace(-1, 1, 10).astype("<f4"),
            "root_translation": np.array([0.01, -0.02, 0.5], "<f4"),
            "joints": (np.arange(63).reshape(21, 3) * 0.001).astype("<f4"),
            "vertex_offsets": np.array([[0.001, 0, 0], [0, 0.002, 0], [0, 0, -0.003], [0.0005, 0.0005, 0.0005]], "<f2"),
            "texture_version": 2, "refined": True, "extrapolated_ms": 12.5, "views": 2, "pose_held": True}
    frame = {"seq": 42, "source_frame": 40, "capture_ns": 1_700_000_000_000_000_000,
             "publish_ns": 1_700_000_000_020_000_000, "hands": [hand]}
    texture = {"handedness": "right", "version": 2, "format": "png", "width": 2, "height": 1,
               "data": bytes.fromhex("89504e470d0a1a0a")}  # the PNG signature stands in for an image
    stats = {"publish_ns": 1_700_000_001_000_000_000, "uptime_s": 12.5, "frames": 300, "dropped": 4, "fps": 29.5,
             "stage_ms": {"perception": 12.25, "reconstruction": 24.5}, "source": "golden",
             "latency_ms": {"p50": 48.5, "p95": 81.25}, "capture_step": "palm",
             "capture_instruction": "Turn your hand over: palm to the camera",
             "capture_progress": {"back": 1.0, "palm": 0.5, "sides": 0.25, "coverage": 0.5}}
    return {"rig": rig, "frame": frame, "texture": texture, "stats": stats}


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return {"dtype": x.dtype.str, "shape": list(x.shape), "values": x.astype(float).ravel().tolist()}
    if isinstance(x, bytes):
        return {"hex": x.hex()}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    return x


SKINNING_FRAMES_PER_HAND = 4


def skinning_cases() -> bytes:
    """msgpack map {'v', 'doc', 'cases': [{'rig': [frame bytes...], 'frames': [[frame bytes...], ...],
    'vertices': [array (V,3) <f4, ...], 'joints21': [array (21,3) <f4, ...]}]}: per hand one rig and several frame
    messages exactly as the publisher sends them, and the Python model's own output for each (not skin_rig's)."""
    cases = []
    for side in ("right", "left"):
        m = HandModel(side=side, flat_hand_mean=True, dtype=torch.float64)
        rng = np.random.default_rng(11 if side == "right" else 12)
        betas = sample_betas(rng)
        rig = rig_body(m, betas, rig_version=1)
        case = {"rig": encode("rig", rig), "frames": [], "vertices": [], "joints21": []}
        for i in range(SKINNING_FRAMES_PER_HAND):
            mano = {"global_orient": rng.normal(0, 0.8, 3), "hand_pose": sample_hand_pose(m.data, rng),
                    "betas": betas, "transl": np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1),
                                                        rng.uniform(0.3, 0.7)])}
            offsets = rng.normal(0, 0.0015, (m.data.num_vertices, 3)) if i % 2 else None  # refinement-like
            with torch.no_grad():
                out = m(**{k: torch.as_tensor(np.asarray(v, np.float64)[None]) for k, v in mano.items()},
                        vertex_offsets=None if offsets is None else torch.as_tensor(offsets[None]))
            res = HandResult(side, 0.9, np.zeros((21, 2)), out.keypoints[0].numpy(), out.vertices[0].numpy(), mano,
                             0.5, refined=offsets is not None, texture_version=i, vertex_offsets=offsets)
            frame = frame_body(100 + i, 200 + i, 1_700_000_000_000_000_000 + i, [hand_body(res, m, rig)])
            frame["publish_ns"] = 1_700_000_000_010_000_000 + i  # deterministic file
            case["frames"].append(encode("frame", frame))
            case["vertices"].append(_array(out.vertices[0].numpy()))
            case["joints21"].append(_array(out.keypoints[0].numpy()))
        cases.append(case)
    doc = ("RealHands skinning vectors: per hand a rig and frame messages (multipart frames) and, per frame, the "
           "Python model's vertices and 21 keypoints, camera coordinates (OpenCV axes), metres")
    return msgpack.packb({"v": [1, 0], "doc": doc, "cases": cases}, use_bin_type=True)


def _array(a: np.ndarray) -> dict:
    a = np.ascontiguousarray(a, "<f4")
    return {"dtype": "<f4", "shape": list(a.shape), "data": a.tobytes()}


def build() -> dict[str, bytes]:
    """File name -> bytes of every golden file. The rig's skin weights go in their own frame (inline_limit)."""
    files, expected = {}, {}
    for kind, body in golden_messages().items():
        frames = encode(kind, body, inline_limit=128)
        files[f"{kind}.bin"] = pack_frames(frames)
        expected[kind] = {"frames": len(frames), "fields": _jsonable(decode(frames)[1])}
    files["skinning.msgpack"] = skinning_cases()
    files["expected.json"] = (json.dumps(expected, indent=1, sort_keys=True) + "\n").encode()
    return files


def package_files(golden: dict[str, bytes]) -> dict[str, bytes]:
    """Relative path -> bytes of the package's test data: the wire spec, the golden files and the older versions'."""
    files = {"wire.json": (ROOT / "shared_schema" / "wire.json").read_bytes()}
    files.update({f"golden/{n}": b for n, b in golden.items()})
    for old in sorted((OUT / "v1.0").iterdir()):
        files[f"golden/v1.0/{old.name}"] = old.read_bytes()
    return files


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ")
    args = ap.parse_args()
    files = build()
    shipped = package_files(files)
    if args.check:
        stale = [n for n, b in files.items() if not (OUT / n).is_file() or (OUT / n).read_bytes() != b]
        stale += [f"Data~/{n}" for n, b in shipped.items()
                  if not (PACKAGE_DATA / n).is_file() or (PACKAGE_DATA / n).read_bytes() != b]
        print("golden vectors " + (f"stale: {stale}" if stale else "current"))
        sys.exit(1 if stale else 0)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    shipped = package_files(files)  # the golden files just written
    for name, data in shipped.items():
        (PACKAGE_DATA / name).parent.mkdir(parents=True, exist_ok=True)
        (PACKAGE_DATA / name).write_bytes(data)
    print(f"wrote {len(files)} files to {OUT} and {len(shipped)} to {PACKAGE_DATA}")

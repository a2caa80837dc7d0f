"""Minimal reader for the skinned WebXR generic-hand GLB (one mesh, one skin, flat armature)."""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

_DTYPES = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@dataclass
class SkinnedGlb:
    positions: np.ndarray  # (N,3) armature space, metres
    uvs: np.ndarray  # (N,2) glTF convention (v down)
    joints: np.ndarray  # (N,4) bone indices
    weights: np.ndarray  # (N,4)
    faces: np.ndarray  # (F,3)
    bone_names: list[str]
    bone_positions: np.ndarray  # (25,3) armature space
    bone_rotations: np.ndarray  # (25,3,3) armature space (OpenXR joint axes as columns)


def read_skinned_glb(path: str | Path) -> SkinnedGlb:
    raw = Path(path).read_bytes()
    magic, version, _ = struct.unpack("<4sII", raw[:12])
    if magic != b"glTF" or version != 2:
        raise ValueError(f"{path} is not a glTF 2.0 binary")
    json_len, _ = struct.unpack("<II", raw[12:20])
    doc = json.loads(raw[20:20 + json_len])
    off = 20 + json_len
    bin_len, _ = struct.unpack("<II", raw[off:off + 8])
    blob = raw[off + 8:off + 8 + bin_len]

    def accessor(i):
        a = doc["accessors"][i]
        view = doc["bufferViews"][a["bufferView"]]
        width = _WIDTH[a["type"]]
        start = view.get("byteOffset", 0) + a.get("byteOffset", 0)
        arr = np.frombuffer(blob, dtype=_DTYPES[a["componentType"]], count=a["count"] * width, offset=start)
        return arr.reshape(a["count"], width)

    prim = doc["meshes"][0]["primitives"][0]
    attr = prim["attributes"]
    skin = doc["skins"][0]
    nodes = [doc["nodes"][j] for j in skin["joints"]]
    return SkinnedGlb(
        positions=accessor(attr["POSITION"]).astype(np.float64),
        uvs=accessor(attr["TEXCOORD_0"]).astype(np.float64),
        joints=accessor(attr["JOINTS_0"]).astype(np.int64),
        weights=accessor(attr["WEIGHTS_0"]).astype(np.float64),
        faces=accessor(prim["indices"]).reshape(-1, 3).astype(np.int64),
        bone_names=[n["name"] for n in nodes],
        bone_positions=np.array([n["translation"] for n in nodes], dtype=np.float64),
        bone_rotations=Rotation.from_quat([n["rotation"] for n in nodes]).as_matrix(),
    )

"""Message bodies for the wire (see shared_schema/WIRE.md) from hand models and reconstruction results.

The engine skins ``rig.rest_vertices + hand.vertex_offsets`` with ``rig.skin_weights`` and ``rig.rest_joints``
by ``hand.pose``, then adds ``hand.root_translation``: that gives our mesh in camera coordinates (metres,
OpenCV axes). The offsets therefore carry everything linear blend skinning of the rig does not: MANO's
pose-corrective blend shapes, the refinement's per-vertex offsets, and the shape's change since the rig was
sent. ``skin_rig`` is that computation in numpy, the reference the C# side is tested against.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..conventions import MANO_JOINT_NAMES, conventions_dict
from ..model import HandModel
from ..model.lbs import axis_angle_to_matrix

TRACKING_STATES = ("tracked", "new", "lost")


def model_id(model: HandModel) -> str:
    """'realhands-open-v1' for our shipped model, else 'file:<name>' of the model file (e.g. MANO_RIGHT.pkl)."""
    name = str(model.data.source).replace("\\", "/").split("/")[-1]
    return "realhands-open-v1" if name.startswith("realhands_hand_") else f"file:{name}"


def rig_body(model: HandModel, betas: np.ndarray, rig_version: int) -> dict:
    """The rig message of ``model`` (its handedness) with shape ``betas`` (10,)."""
    d = model.data
    b = torch.zeros(1, model.num_betas, dtype=model.v_template.dtype)
    b[0, : len(betas)] = torch.as_tensor(np.asarray(betas)[: model.num_betas], dtype=b.dtype)
    with torch.no_grad():
        out = model(betas=b, return_rest=True)
    conv = conventions_dict()
    return {
        "handedness": d.side, "model_id": model_id(model), "rig_version": int(rig_version),
        "vertex_count": int(d.num_vertices),
        "faces": d.faces.astype("<u4"), "uv": np.asarray(d.uv, "<f4"), "faces_uv": d.faces_uv.astype("<u4"),
        "rest_vertices": out.rest_vertices[0].numpy().astype("<f4"),
        "rest_joints": out.rest_joints[0].numpy().astype("<f4"),
        "joint_parents": np.asarray(model.parents, "<i4"), "joint_names": list(MANO_JOINT_NAMES),
        "skin_weights": model.lbs_weights.cpu().numpy().astype("<f4"),
        "shape": np.asarray(b[0, :10].numpy(), "<f4"),
        "units": "metres", "model_axes": conv["model_axes"], "camera_axes": conv["camera_axes"],
    }


def bind_offsets(model: HandModel, full_pose: np.ndarray, betas: np.ndarray, rig_rest: np.ndarray,
                 vertex_offsets: np.ndarray | None = None) -> np.ndarray:
    """(V,3) rest-space offsets (metres) to add to the rig's rest vertices ``rig_rest`` (V,3) so that skinning
    them gives the model's mesh for ``full_pose`` (48,) and ``betas``, with the refinement's ``vertex_offsets``."""
    dt = model.v_template.dtype
    with torch.no_grad():
        b = torch.as_tensor(np.asarray(betas)[: model.num_betas], dtype=dt)
        v = model.v_template + torch.einsum("l,vcl->vc", b, model.shapedirs[..., : len(b)])
        if vertex_offsets is not None:
            v = v + torch.as_tensor(vertex_offsets, dtype=dt)
        R = axis_angle_to_matrix(torch.as_tensor(full_pose, dtype=dt).reshape(-1, 3))
        feature = (R[1:] - torch.eye(3, dtype=dt)).reshape(1, -1)
        v = v + (feature @ model.posedirs).reshape(-1, 3)
    return v.numpy() - rig_rest


def hand_body(result, model: HandModel, rig: dict, tracking: str = "tracked", send_offsets: bool = True) -> dict:
    """One hand of a frame message from a reconstruct.HandResult and the rig sent for its handedness."""
    mano = result.mano
    with torch.no_grad():
        pose = model.full_pose(torch.as_tensor(mano["global_orient"][None], dtype=model.v_template.dtype),
                               torch.as_tensor(mano["hand_pose"][None], dtype=model.v_template.dtype))[0].numpy()
    if send_offsets:
        offsets = bind_offsets(model, pose, mano["betas"], rig["rest_vertices"], result.vertex_offsets)
    else:
        offsets = np.zeros((0, 3))
    shape = np.zeros(10)
    shape[: min(10, len(mano["betas"]))] = mano["betas"][:10]
    return {
        "handedness": result.handedness, "confidence": float(result.score), "tracking": tracking,
        "rig_version": int(rig["rig_version"]),
        "pose": pose.astype("<f4"), "shape": shape.astype("<f4"),
        "root_translation": np.asarray(mano["transl"], "<f4"),
        "joints": np.asarray(result.joints_3d, "<f4"),
        "vertex_offsets": offsets.astype("<f2"),
        "texture_version": -1 if result.texture_version is None else int(result.texture_version),
        "refined": bool(result.refined),
        "extrapolated_ms": 0.0,  # as measured (the stream protocol moves tracked hands to their publish time)
        "views": int(result.views), "pose_held": bool(result.pose_held),
    }


def frame_body(seq: int, source_frame: int, capture_ns: int, hands: list[dict]) -> dict:
    return {"seq": int(seq), "source_frame": int(source_frame), "capture_ns": int(capture_ns),
            "publish_ns": time.time_ns(), "hands": hands}


def texture_body(side: str, version: int, image_rgb: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> dict:
    """A texture message: the atlas image (S,S,3) uint8 RGB, encoded as JPEG or PNG."""
    import cv2

    if fmt not in ("jpeg", "png"):
        raise ValueError(f"texture format must be 'jpeg' or 'png', got {fmt!r}")
    ext, params = (".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality]) if fmt == "jpeg" else (".png", [])
    ok, buf = cv2.imencode(ext, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError("could not encode the texture image")
    return {"handedness": side, "version": int(version), "format": fmt, "width": int(image_rgb.shape[1]),
            "height": int(image_rgb.shape[0]), "data": buf.tobytes()}


def skin_rig(rig: dict, hand: dict) -> np.ndarray:
    """(V,3) camera-space mesh (metres) an engine gets from a rig and one hand of a frame: linear blend
    skinning of rest_vertices + vertex_offsets by pose about rest_joints, plus root_translation."""
    rest = rig["rest_vertices"].astype(np.float64)
    if hand["vertex_offsets"].shape[0]:
        rest = rest + hand["vertex_offsets"].astype(np.float64)
    R = axis_angle_to_matrix(torch.tensor(np.asarray(hand["pose"], np.float64)).reshape(-1, 3)).numpy()
    J, parents = rig["rest_joints"].astype(np.float64), rig["joint_parents"]
    G = np.zeros((len(J), 4, 4))
    for j in range(len(J)):
        local = np.eye(4)
        local[:3, :3] = R[j]
        local[:3, 3] = J[j] - (J[parents[j]] if parents[j] >= 0 else 0.0)
        G[j] = local if parents[j] < 0 else G[parents[j]] @ local
    skin = G.copy()
    skin[:, :3, 3] -= np.einsum("jab,jb->ja", G[:, :3, :3], J)
    T = np.einsum("vj,jab->vab", rig["skin_weights"].astype(np.float64), skin)
    v = np.einsum("vab,vb->va", T[:, :3, :3], rest) + T[:, :3, 3]
    return v + hand["root_translation"].astype(np.float64)

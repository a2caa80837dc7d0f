"""The figures of a hand model, as printed by ``realhands model info``."""
from __future__ import annotations

import torch

from . import quality
from .hand_model import HandModel
from .io import load_model_data


def model_info(side: str = "right", model_path=None, parity: bool = True) -> dict:
    """Counts, mesh checks, size at the mean shape (flat pose) and smplx parity of the resolved model."""
    data = load_model_data(side, model_path)
    model = HandModel(data, flat_hand_mean=True, dtype=torch.float64)
    with torch.no_grad():
        out = model(return_rest=True)
    v, f = data.v_template, data.faces
    size = quality.hand_measurements(v, out.rest_joints[0].numpy(), out.joints[0, 16:].numpy(),
                                     palm=data.weights[:, 0] > 0.5)
    info = {
        "source": data.source,
        "side": data.side,
        "vertices": data.num_vertices,
        "faces": int(len(f)),
        "watertight": quality.is_watertight(f),
        "manifold": quality.is_vertex_manifold(f, data.num_vertices),
        "consistently_oriented": quality.is_consistently_oriented(f),
        "self_intersections_at_rest": int(len(quality.self_intersections(v, f))),
        "volume_cm3": round(quality.signed_volume(v, f) * 1e6, 1),
        "hand_length_cm": round(size["hand_length_m"] * 100, 2),
        "hand_breadth_cm": round(size["hand_breadth_m"] * 100, 2),
        "shape_components": int(data.shapedirs.shape[-1]),
        "pose_pca_components": int(data.hands_components.shape[0]),
        "has_uv": data.uv is not None,
        "has_joint_limits": data.joint_limits is not None,
        "pose_library": [] if data.pose_names is None else [str(n) for n in data.pose_names],
    }
    if parity:
        try:
            from .parity import parity_summary

            info["smplx_parity"] = parity_summary(data)
        except ImportError:
            info["smplx_parity"] = "smplx not installed (pip install smplx)"
    return info


def format_info(info: dict) -> str:
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v:.2e}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value) or "-"
        lines.append(f"{key:28s} {value}")
    return "\n".join(lines)

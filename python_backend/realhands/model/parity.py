"""Parity with smplx.MANO: the same MANO-format file and parameters must give the same mesh and joints."""
from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import torch

from .hand_model import HandModel
from .io import HandModelData


def smplx_parity(data: HandModelData, num_samples: int = 16, seed: int = 0, use_pca: bool = False,
                 num_pca_comps: int = 6, flat_hand_mean: bool = False, pose_scale: float = 0.6) -> dict:
    """Max absolute difference (metres) of vertices and the 16 joints between HandModel and smplx.MANO.

    The model is written as a MANO-format pickle and loaded by smplx, both evaluated in float64 on random
    parameters (axis-angle ~ N(0, pose_scale) rad, betas ~ N(0,1), translation ~ N(0, 0.1 m)).
    Raises ImportError when smplx is not installed.
    """
    import smplx

    gen = torch.Generator().manual_seed(seed)
    n_pose = num_pca_comps if use_pca else 45
    params = {
        "global_orient": torch.randn(num_samples, 3, generator=gen, dtype=torch.float64) * pose_scale,
        "hand_pose": torch.randn(num_samples, n_pose, generator=gen, dtype=torch.float64) * pose_scale,
        "betas": torch.randn(num_samples, 10, generator=gen, dtype=torch.float64),
        "transl": torch.randn(num_samples, 3, generator=gen, dtype=torch.float64) * 0.1,
    }
    ours = HandModel(data, use_pca=use_pca, num_pca_comps=num_pca_comps, flat_hand_mean=flat_hand_mean,
                     dtype=torch.float64)
    with tempfile.TemporaryDirectory() as tmp:
        name = "MANO_RIGHT.pkl" if data.side == "right" else "MANO_LEFT.pkl"
        path = data.save_mano_pickle(Path(tmp) / name)
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a warning about 10 betas
            ref = smplx.MANO(str(path), is_rhand=data.side == "right", use_pca=use_pca,
                             num_pca_comps=num_pca_comps, flat_hand_mean=flat_hand_mean,
                             batch_size=num_samples, dtype=torch.float64)
    with torch.no_grad():
        a = ours(**params)
        b = ref(**params)
    return {
        "max_vertex_error_m": float((a.vertices - b.vertices).abs().max()),
        "max_joint_error_m": float((a.joints[:, :16] - b.joints[:, :16]).abs().max()),
        "samples": num_samples,
    }


def parity_summary(data: HandModelData) -> dict:
    """Parity over axis-angle and PCA inputs, with and without the mean pose; the worst case of each."""
    worst = {"max_vertex_error_m": 0.0, "max_joint_error_m": 0.0, "samples": 0}
    for use_pca, flat in ((False, False), (False, True), (True, False)):
        r = smplx_parity(data, use_pca=use_pca, flat_hand_mean=flat, seed=int(use_pca) * 2 + int(flat))
        worst = {k: max(worst[k], r[k]) if k != "samples" else worst[k] + r[k] for k in worst}
    return worst

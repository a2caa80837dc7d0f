"""One interface to the differentiable silhouette renderers.

    sil = render_silhouette(verts_cam, faces, K, H, W)                 # backend chosen automatically
    sil = render_silhouette(..., backend="soft")                         # or "nvdiffrast"

"auto" picks nvdiffrast for CUDA tensors when it is installed (see realhands.render.nvdiff), else the pure-torch
soft rasteriser (realhands.render.soft), which runs everywhere. ``REALHANDS_SILHOUETTE_BACKEND`` overrides
"auto" for a whole process.
"""
from __future__ import annotations

import os

import torch

from . import nvdiff
from .soft import soft_silhouette

BACKENDS = ("auto", "soft", "nvdiffrast")


def choose_backend(device: torch.device | str, backend: str = "auto") -> str:
    """The backend that ``render_silhouette`` uses for tensors on ``device``."""
    if backend == "auto":
        backend = os.environ.get("REALHANDS_SILHOUETTE_BACKEND", "auto")
    if backend not in BACKENDS:
        raise ValueError(f"silhouette backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "nvdiffrast" if torch.device(device).type == "cuda" and nvdiff.available() else "soft"
    if backend == "nvdiffrast" and not nvdiff.available():
        raise RuntimeError("the nvdiffrast backend needs CUDA and the nvdiffrast package "
                           "(pip install 'realhands[cuda]', see docs/refinement.md)")
    return backend


def render_silhouette(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, height: int, width: int,
                      backend: str = "auto", sigma: float = 1.0, **kwargs) -> torch.Tensor:
    """(B,H,W) differentiable silhouettes of meshes verts_cam (B,V,3) (camera coordinates, metres, OpenCV axes)
    seen with intrinsics K (B,3,3). ``sigma`` (squared pixels) applies to the soft rasteriser only."""
    if choose_backend(verts_cam.device, backend) == "nvdiffrast":
        return nvdiff.nvdiffrast_silhouette(verts_cam, faces, K, height, width)
    return soft_silhouette(verts_cam, faces, K, height, width, sigma=sigma, **kwargs)

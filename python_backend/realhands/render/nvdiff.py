"""Silhouettes through nvdiffrast (CUDA): hard rasterisation plus its analytic antialiasing, which gives
gradients at the outline (Laab et al., 2020).

nvdiffrast is not on PyPI under its own name: the ``diffrp-nvdiffrast`` package carries its sources (import
name ``nvdiffrast``) and compiles them on first use, which needs the CUDA toolkit's nvcc matching torch's
CUDA and ``ninja`` (``pip install 'realhands[cuda]'``). The first call takes a minute or two to build.
"""
from __future__ import annotations

import functools

import torch

from ..camera import clip_coordinates


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """True when CUDA is present and nvdiffrast imports."""
    if not torch.cuda.is_available():
        return False
    try:
        import nvdiffrast.torch  # noqa: F401
    except Exception:  # ImportError, or a failed build of its extension
        return False
    return True


_contexts: dict = {}


def _context(device: torch.device):
    import nvdiffrast.torch as dr

    key = device.index if device.index is not None else torch.cuda.current_device()
    if key not in _contexts:
        try:
            _contexts[key] = dr.RasterizeCudaContext(device=torch.device("cuda", key))
        except ModuleNotFoundError as e:
            # nvdiffrast 0.3 builds its plugin with torch.utils.cpp_extension.load and then imports it by name;
            # newer torch no longer puts the build folder on sys.path, so the freshly built plugin is not found
            # (seen with torch 2.11 on an H200). Put the folder on the path and try once more.
            if not (e.name or "").startswith("nvdiffrast_plugin"):
                raise
            import sys

            from torch.utils import cpp_extension

            sys.path.insert(0, cpp_extension._get_build_directory(e.name, False))
            _contexts[key] = dr.RasterizeCudaContext(device=torch.device("cuda", key))
    return _contexts[key]


def nvdiffrast_silhouette(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, height: int, width: int,
                          near: float = 0.01, far: float = 10.0) -> torch.Tensor:
    """(B,H,W) antialiased silhouettes in [0,1] of meshes verts_cam (B,V,3) on CUDA; differentiable with
    respect to the vertices at the outline."""
    import nvdiffrast.torch as dr

    if verts_cam.device.type != "cuda":
        raise ValueError("the nvdiffrast backend needs CUDA tensors; use the soft rasteriser on the CPU")
    pos = clip_coordinates(verts_cam.float(), K.to(verts_cam.device).float(), height, width, near, far).contiguous()
    tri = faces.to(device=verts_cam.device, dtype=torch.int32).contiguous()
    rast, _ = dr.rasterize(_context(verts_cam.device), pos, tri, resolution=[height, width])
    cover = (rast[..., 3:] > 0).float()
    return dr.antialias(cover, rast, pos, tri)[..., 0].to(verts_cam.dtype)

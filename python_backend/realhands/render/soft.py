"""Differentiable soft silhouettes (the SoftRas formulation, Liu et al., ICCV 2019), pure torch, CPU and CUDA.

Each face f gives every pixel p a probability D_f(p) = sigmoid(sign * d^2(p, f) / sigma), where d is the
distance (pixels) from the pixel centre to the projected triangle and sign is +1 inside, -1 outside; the
silhouette is S(p) = 1 - prod_f (1 - D_f(p)). A face only reaches pixels within ``reach = sqrt(sigma *
ln(1/eps - 1))`` of it (beyond that D_f < eps), so only the (face, pixel) pairs inside each face's grown
bounding box are formed: no dense faces x pixels tensor. Back faces are skipped (for a closed mesh the front
faces already cover its silhouette).
"""
from __future__ import annotations

import math

import torch

from .rasterize import expand_boxes, project


def _segment_dist2(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared distance from points p (N,2) to segments a-b (N,2)."""
    ab = b - a
    t = ((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)
    q = a + t.clamp(0, 1)[:, None] * ab
    return ((p - q) ** 2).sum(-1)


def _face_probability(p, tri, sigma):
    """D_f(p) for pixel centres p (N,2) and screen triangles tri (N,3,2), front-facing (negative area)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    d2 = torch.minimum(torch.minimum(_segment_dist2(p, a, b), _segment_dist2(p, b, c)), _segment_dist2(p, c, a))

    def edge(u, v):  # > 0 on the inner side of edge u->v for our (y-down, front = negative area) winding
        return (v[:, 0] - u[:, 0]) * (p[:, 1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (p[:, 0] - u[:, 0])

    inside = (edge(a, b) <= 0) & (edge(b, c) <= 0) & (edge(c, a) <= 0)
    sign = torch.where(inside, 1.0, -1.0).to(d2.dtype)
    return torch.sigmoid(sign * d2 / sigma)


def soft_silhouette(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, height: int, width: int,
                    sigma: float = 1.0, eps: float = 1e-5, near: float = 0.01) -> torch.Tensor:
    """(B,H,W) soft silhouettes in [0,1] of meshes verts_cam (B,V,3) (camera coordinates, metres), faces (F,3)
    counter-clockwise from outside, intrinsics K (B,3,3). ``sigma`` in squared pixels sets the edge softness.
    Differentiable with respect to the vertices (and K)."""
    B = verts_cam.shape[0]
    dev, dt = verts_cam.device, verts_cam.dtype
    uv = project(verts_cam, K.to(dt))
    tri = uv[:, faces]  # (B,F,3,2)
    z_ok = (verts_cam[:, faces, 2] > near).all(-1)
    e1, e2 = tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0]
    area = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
    reach = math.sqrt(sigma * math.log(1.0 / eps - 1.0))
    with torch.no_grad():
        lo = tri.amin(2) - reach
        hi = tri.amax(2) + reach
        x0 = torch.ceil(lo[..., 0] - 0.5).clamp(0, width).long()
        x1 = torch.floor(hi[..., 0] - 0.5).clamp(-1, width - 1).long()
        y0 = torch.ceil(lo[..., 1] - 0.5).clamp(0, height).long()
        y1 = torch.floor(hi[..., 1] - 0.5).clamp(-1, height - 1).long()
        keep = z_ok & (area < -1e-9) & (x1 >= x0) & (y1 >= y0)
        b_idx, f_idx = torch.nonzero(keep, as_tuple=True)
        box, px, py = expand_boxes(x0[b_idx, f_idx], y0[b_idx, f_idx], x1[b_idx, f_idx], y1[b_idx, f_idx])
        bb, ff = b_idx[box], f_idx[box]
        pix = torch.stack([px.to(dt) + 0.5, py.to(dt) + 0.5], -1)
    D = _face_probability(pix, tri[bb, ff], sigma)
    log_empty = torch.log1p(-D.clamp(max=1 - 1e-6))
    acc = torch.zeros(B * height * width, dtype=dt, device=dev)
    acc = acc.index_add(0, bb * height * width + py * width + px, log_empty)
    return (1.0 - torch.exp(acc)).view(B, height, width)


def soft_silhouette_dense(verts_cam, faces, K, height, width, sigma: float = 1.0, near: float = 0.01):
    """Reference implementation over all faces x all pixels (small inputs only, for tests)."""
    dt = verts_cam.dtype
    uv = project(verts_cam, K.to(dt))
    B = verts_cam.shape[0]
    ys, xs = torch.meshgrid(torch.arange(height, dtype=dt) + 0.5, torch.arange(width, dtype=dt) + 0.5,
                            indexing="ij")
    p = torch.stack([xs.reshape(-1), ys.reshape(-1)], -1)
    out = []
    for b in range(B):
        tri = uv[b, faces]
        e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
        front = (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] < -1e-9) & (verts_cam[b, faces, 2] > near).all(-1)
        tri = tri[front]
        P = p[:, None].expand(-1, len(tri), -1).reshape(-1, 2)
        T = tri[None].expand(len(p), -1, -1, -1).reshape(-1, 3, 2)
        D = _face_probability(P, T, sigma).view(len(p), len(tri))
        out.append((1 - torch.prod(1 - D, dim=1)).view(height, width))
    return torch.stack(out)

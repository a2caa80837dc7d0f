"""A batched, vectorised triangle rasteriser in plain torch (CPU and CUDA, no per-pixel Python loops).

Every (triangle, pixel) pair inside each front-facing triangle's bounding box is tested at once; the nearest
hit per pixel wins through a scatter-min z-buffer. Cost grows with the screen area the mesh covers, which is
small for a hand. Not differentiable (the refinement stage has its own soft silhouette renderer).

Camera coordinates use OpenCV axes (x right, y down, z forward); pixel centres are at integer + 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..camera import project_points

#: Most (triangle, pixel) pairs tested in one chunk; bounds peak memory at roughly 100 bytes per pair.
MAX_PAIRS = 4_000_000


@dataclass
class Fragments:
    """Per-pixel rasterisation result. B images of H x W.

    face (B,H,W) long: index of the visible face, -1 for background;
    bary (B,H,W,3): perspective-correct barycentric weights of that face's corners;
    depth (B,H,W): camera z in metres, +inf for background.
    """

    face: torch.Tensor
    bary: torch.Tensor
    depth: torch.Tensor

    @property
    def mask(self) -> torch.Tensor:
        return self.face >= 0


def rasterize(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, height: int, width: int,
              near: float = 0.01, cull_backfaces: bool = True) -> Fragments:
    """Rasterise triangle meshes seen by pinhole cameras.

    verts_cam (B,V,3) camera coordinates in metres; faces (F,3) long, counter-clockwise seen from outside;
    K (B,3,3) intrinsics in pixels. Triangles with a corner closer than ``near`` are dropped.
    """
    B, dev = verts_cam.shape[0], verts_cam.device
    verts_cam = verts_cam.float()
    uv = project_points(verts_cam, K.float())
    tri_uv = uv[:, faces]  # (B,F,3,2)
    tri_z = verts_cam[:, faces, 2]  # (B,F,3)
    e1 = tri_uv[:, :, 1] - tri_uv[:, :, 0]
    e2 = tri_uv[:, :, 2] - tri_uv[:, :, 0]
    area = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]  # < 0: front-facing (y down)
    keep = (tri_z > near).all(-1) & (area.abs() > 1e-12)
    if cull_backfaces:
        keep &= area < 0
    lo = tri_uv.amin(2)
    hi = tri_uv.amax(2)
    x0 = torch.ceil(lo[..., 0] - 0.5).clamp(0, width - 1).long()
    x1 = torch.floor(hi[..., 0] - 0.5).clamp(-1, width - 1).long()
    y0 = torch.ceil(lo[..., 1] - 0.5).clamp(0, height - 1).long()
    y1 = torch.floor(hi[..., 1] - 0.5).clamp(-1, height - 1).long()
    keep &= (x1 >= x0) & (y1 >= y0) & (hi[..., 0] >= 0) & (hi[..., 1] >= 0)
    keep &= (lo[..., 0] < width) & (lo[..., 1] < height)
    b_idx, f_idx = torch.nonzero(keep, as_tuple=True)
    bw = (x1 - x0 + 1)[b_idx, f_idx]
    bh = (y1 - y0 + 1)[b_idx, f_idx]
    counts = bw * bh

    HW = height * width
    zbuf = torch.full((B * HW,), float("inf"), device=dev)
    best = torch.full((B * HW,), -1, dtype=torch.long, device=dev)
    # Chunk the triangle list so that no chunk holds more than MAX_PAIRS pairs.
    cum = torch.cumsum(counts, 0)
    chunk_of = torch.div(cum - 1, MAX_PAIRS, rounding_mode="floor") if len(cum) else cum
    results = []
    for chunk in (torch.unique(chunk_of).tolist() if len(cum) else []):
        sel = torch.nonzero(chunk_of == chunk, as_tuple=True)[0]
        results.append(_pairs(sel, b_idx, f_idx, counts, bw, x0, y0, tri_uv, tri_z, width, HW))
    for key, z, _ in results:
        zbuf.scatter_reduce_(0, key, z, reduce="amin")
    for key, z, tri_id in results:
        win = z <= zbuf[key]
        best.scatter_reduce_(0, key[win], tri_id[win], reduce="amax")  # ties: any one, deterministically

    # Resolve barycentrics of the winning face at each covered pixel.
    face = torch.full((B * HW,), -1, dtype=torch.long, device=dev)
    bary = torch.zeros(B * HW, 3, device=dev)
    covered = torch.nonzero(best >= 0, as_tuple=True)[0]
    if len(covered):
        tri_flat = best[covered]  # index into (b_idx, f_idx)
        bb, ff = b_idx[tri_flat], f_idx[tri_flat]
        pix = covered % HW
        px = (pix % width).float() + 0.5
        py = torch.div(pix, width, rounding_mode="floor").float() + 0.5
        w = _screen_bary(tri_uv[bb, ff], px, py)
        persp = w / tri_z[bb, ff]
        bary[covered] = persp / persp.sum(-1, keepdim=True)
        face[covered] = ff
    depth = zbuf.clone()
    depth[best < 0] = float("inf")
    return Fragments(face.view(B, height, width), bary.view(B, height, width, 3), depth.view(B, height, width))


def _screen_bary(tri: torch.Tensor, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Screen-space barycentric weights (N,3) of pixels (px,py) in triangles tri (N,3,2)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    e1, e2 = b - a, c - a
    d = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    dx, dy = px - a[:, 0], py - a[:, 1]
    w1 = (dx * e2[:, 1] - dy * e2[:, 0]) / d
    w2 = (dy * e1[:, 0] - dx * e1[:, 1]) / d
    return torch.stack([1.0 - w1 - w2, w1, w2], -1)


def expand_boxes(x0: torch.Tensor, y0: torch.Tensor, x1: torch.Tensor, y1: torch.Tensor):
    """Every pixel of integer boxes [x0..x1] x [y0..y1] (inclusive, (N,) each; empty boxes allowed):
    returns (box index, px, py), one entry per (box, pixel) pair, without Python loops."""
    bw = (x1 - x0 + 1).clamp_min(0)
    counts = bw * (y1 - y0 + 1).clamp_min(0)
    box = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
    start = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    local = torch.arange(len(box), device=counts.device) - start
    w = bw[box].clamp_min(1)
    return box, x0[box] + local % w, y0[box] + torch.div(local, w, rounding_mode="floor")


def _pairs(sel, b_idx, f_idx, counts, bw, x0, y0, tri_uv, tri_z, width, HW):
    """Expand the selected triangles into (pixel key, depth, triangle id) for pixels inside them."""
    bb, ff = b_idx[sel], f_idx[sel]
    bh = torch.div(counts[sel], bw[sel], rounding_mode="floor")
    box, px, py = expand_boxes(x0[bb, ff], y0[bb, ff], x0[bb, ff] + bw[sel] - 1, y0[bb, ff] + bh - 1)
    tri_id = sel[box]
    bb, ff = b_idx[tri_id], f_idx[tri_id]
    bary = _screen_bary(tri_uv[bb, ff], px.float() + 0.5, py.float() + 0.5)
    inside = (bary >= -1e-6).all(-1)
    bary, tri_id, bb, ff, px, py = bary[inside], tri_id[inside], bb[inside], ff[inside], px[inside], py[inside]
    z = 1.0 / (bary / tri_z[bb, ff]).sum(-1)
    key = bb * HW + py * width + px
    return key, z, tri_id

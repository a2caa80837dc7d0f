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

from ..camera import project_points
from .rasterize import expand_boxes


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


class _SoftCoverage(torch.autograd.Function):
    """S = 1 - exp(sum over pairs of log(1 - D)) for (face, pixel) pairs, with a fused analytic backward.

    Forward keeps, per pair, the nearest edge e, the offset r = p - q to its nearest point q = a + t (b - a)
    and t; since q is the closest point, d(d^2)/da = -2 r (1 - t) and d(d^2)/db = -2 r t. One gather and two
    index_adds replace autograd's graph of ~40 pair-sized tensors.
    """

    @staticmethod
    def forward(ctx, tri, pair_face, pix, key, n_pixels: int, sigma: float):
        ab = tri.roll(-1, dims=1) - tri  # (M,3,2): edge e runs from vertex e to vertex e + 1
        inv_len2 = 1.0 / (ab * ab).sum(-1).clamp_min(1e-12)
        table = torch.cat([tri[..., 0], tri[..., 1], ab[..., 0], ab[..., 1], inv_len2], 1)[pair_face]  # (N,15)
        ax, ay, abx, aby, inv_len2 = table.view(-1, 5, 3).unbind(1)  # (N,3) each: x and y kept apart
        apx, apy = pix[:, :1] - ax, pix[:, 1:] - ay
        t = ((apx * abx + apy * aby) * inv_len2).clamp_(0, 1)
        inside = ((abx * apy - aby * apx) <= 0).all(1)  # for front faces (y down)
        rx, ry = apx.sub_(t * abx), apy.sub_(t * aby)
        d2, e = (rx * rx + ry * ry).min(1)
        sign = torch.where(inside, 1.0, -1.0).to(d2.dtype)
        D = torch.sigmoid(sign * d2 / sigma)
        clamped = D > 1 - 1e-6
        log_empty = torch.log1p(-D.clamp(max=1 - 1e-6))
        acc = torch.zeros(n_pixels, dtype=tri.dtype, device=tri.device).index_add_(0, key, log_empty)
        sil = 1.0 - torch.exp(acc)
        e1 = e[:, None]
        r = torch.cat([rx.gather(1, e1), ry.gather(1, e1)], 1)
        ctx.save_for_backward(pair_face, key, e, r, t.gather(1, e1)[:, 0],
                              torch.where(clamped, 0.0, D * sign / sigma).to(d2.dtype), acc)
        ctx.tri_shape = tri.shape
        return sil

    @staticmethod
    def backward(ctx, g_sil):
        pair_face, key, e, r, t, coef, acc = ctx.saved_tensors
        g_log = (-g_sil * torch.exp(acc))[key]  # dL/dlog(1 - D) per pair
        gr = (2.0 * g_log * coef)[:, None] * r  # d log(1 - D)/d d2 = -D sign / sigma; d d2/dq = -2 r
        grad = torch.zeros(ctx.tri_shape[0] * 3, 2, dtype=r.dtype, device=r.device)
        grad.index_add_(0, pair_face * 3 + e, gr * (1 - t)[:, None])
        grad.index_add_(0, pair_face * 3 + (e + 1) % 3, gr * t[:, None])
        return grad.view(ctx.tri_shape), None, None, None, None, None


def _pixel_boxes(tri, grow, height, width):
    """Integer pixel boxes [x0..x1] x [y0..y1] of the pixel centres within ``grow`` px of screen triangles."""
    lo = tri.amin(-2) - grow
    hi = tri.amax(-2) + grow
    x0 = torch.ceil(lo[..., 0] - 0.5).clamp(0, width).long()
    x1 = torch.floor(hi[..., 0] - 0.5).clamp(-1, width - 1).long()
    y0 = torch.ceil(lo[..., 1] - 0.5).clamp(0, height).long()
    y1 = torch.floor(hi[..., 1] - 0.5).clamp(-1, height - 1).long()
    return x0, y0, x1, y1


def interior_of(mask: torch.Tensor, margin: float) -> torch.Tensor:
    """(N,H,W) bool: pixels of the bool mask (N,H,W) farther than ``margin`` px (a square neighbourhood) from
    any pixel outside it."""
    k = int(math.ceil(margin))
    outside = (~mask).unsqueeze(1).float()
    pool = torch.nn.functional.max_pool2d  # separable: rows, then columns
    near = pool(pool(outside, (1, 2 * k + 1), stride=1, padding=(0, k)), (2 * k + 1, 1), stride=1, padding=(k, 0))
    return near[:, 0] == 0


def _coverage(tri, height, width):
    """(N,H,W) bool: pixel centres inside any of the front-facing screen triangles tri (N,M,3,2)."""
    N, M = tri.shape[:2]
    x0, y0, x1, y1 = _pixel_boxes(tri.reshape(-1, 3, 2), 0.0, height, width)
    box, px, py = expand_boxes(x0, y0, x1, y1)
    T = tri.reshape(-1, 3, 2)[box]
    p = torch.stack([px, py], -1).to(T.dtype) + 0.5
    ab, ap = T.roll(-1, dims=1) - T, p[:, None] - T
    inside = ((ab[..., 0] * ap[..., 1] - ab[..., 1] * ap[..., 0]) <= 0).all(1)
    cover = torch.zeros(N * height * width, dtype=torch.bool, device=tri.device)
    cover[((box // M) * height * width + py * width + px)[inside]] = True
    return cover.view(N, height, width)


def soft_reach(sigma: float, eps: float) -> float:
    """Distance (px) beyond which a face's probability sigmoid(-d^2 / sigma) falls below eps."""
    return math.sqrt(sigma * math.log(1.0 / eps - 1.0))


class SilhouetteSequence:
    """``soft_silhouette`` with a solid interior over the steps of an optimisation, without finding the
    interior from scratch each step: covered pixels change only within the largest vertex motion (px) of the
    outline, so the previous step's silhouette (> 0.5, shrunk by the reach, that motion and a pixel) is a
    valid interior. The first step, or one after a jump of more than ``max_motion`` px, finds it exactly."""

    def __init__(self, faces: torch.Tensor, height: int, width: int, sigma: float = 1.0, eps: float = 1e-5,
                 near: float = 0.01, max_motion: float = 6.0):
        self.faces, self.height, self.width = faces, height, width
        self.sigma, self.eps, self.near, self.max_motion = sigma, eps, near, max_motion
        self.reach = soft_reach(sigma, eps)
        self.prev_uv = self.prev_sil = None
        self.exact_steps = 0

    def __call__(self, verts_cam: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        """(B,H,W) soft silhouettes of verts_cam (B,V,3) seen with K (B,3,3), as ``soft_silhouette``."""
        with torch.no_grad():
            uv = project_points(verts_cam, K.to(verts_cam.dtype))
            motion = None if self.prev_uv is None or self.prev_uv.shape != uv.shape else \
                float((uv - self.prev_uv).norm(dim=-1).max())
            if motion is None or motion > self.max_motion:
                interior, self.exact_steps = True, self.exact_steps + 1
            else:
                interior = interior_of(self.prev_sil > 0.5, self.reach + motion + 1.0)
        sil = soft_silhouette(verts_cam, self.faces, K, self.height, self.width, self.sigma, self.eps, self.near,
                              solid_interior=interior)
        self.prev_uv, self.prev_sil = uv, sil.detach()
        return sil


def soft_silhouette(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, height: int, width: int,
                    sigma: float = 1.0, eps: float = 1e-5, near: float = 0.01,
                    solid_interior: bool | torch.Tensor = False) -> torch.Tensor:
    """(B,H,W) soft silhouettes in [0,1] of meshes verts_cam (B,V,3) (camera coordinates, metres), faces (F,3)
    counter-clockwise from outside, intrinsics K (B,3,3). ``sigma`` in squared pixels sets the edge softness.
    Differentiable with respect to the vertices (and K).

    ``solid_interior``: True sets the pixels covered by the mesh and farther than the faces' reach from its
    outline to 1, with no gradient, instead of summing every face layer above them (where thin layers leave
    SoftRas at 0.75-0.99); the outline band, where the gradients live, is unchanged. 3-4x faster for a hand
    filling the image. A (B,H,W) bool tensor gives that interior directly (see ``SilhouetteSequence``,
    which saves finding it at every step of an optimisation)."""
    B = verts_cam.shape[0]
    dt = verts_cam.dtype
    uv = project_points(verts_cam, K.to(dt))
    tri = uv[:, faces]  # (B,F,3,2)
    reach = soft_reach(sigma, eps)
    with torch.no_grad():
        z_ok = (verts_cam[..., 2] > near)[:, faces].all(-1)
        e1, e2 = tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0]
        area = e1[..., 0] * e2[..., 1] - e1[..., 1] * e2[..., 0]
        x0, y0, x1, y1 = _pixel_boxes(tri, reach, height, width)
        keep = z_ok & (area < -1e-9) & (x1 >= x0) & (y1 >= y0)
        interior = None
        if isinstance(solid_interior, torch.Tensor):
            interior = solid_interior.to(device=tri.device, dtype=torch.bool)
        elif solid_interior:
            interior = interior_of(_coverage(torch.where(keep[..., None, None], tri, -1e4), height, width), reach)
        if interior is not None:
            # drop faces whose reach lies wholly in the interior: count non-interior pixels in each box
            ii = torch.nn.functional.pad((~interior).to(torch.int32).cumsum(1).cumsum(2), (1, 0, 1, 0)).view(-1)
            base = torch.arange(B, device=tri.device)[:, None] * ((height + 1) * (width + 1))
            c0, r0 = x0.clamp(max=width), y0.clamp(max=height)
            c1, r1 = (x1 + 1).clamp(min=c0), (y1 + 1).clamp(min=r0)
            r0, r1 = base + r0 * (width + 1), base + r1 * (width + 1)
            outside = ii.take(r1 + c1) - ii.take(r0 + c1) - ii.take(r1 + c0) + ii.take(r0 + c0)
            keep &= outside > 0
        b_idx, f_idx = torch.nonzero(keep, as_tuple=True)
        box, px, py = expand_boxes(x0[b_idx, f_idx], y0[b_idx, f_idx], x1[b_idx, f_idx], y1[b_idx, f_idx])
        key = b_idx[box] * (height * width) + py * width + px
        if interior is not None:
            band = torch.nonzero(~interior.view(-1).take(key)).squeeze(1)
            box, px, py, key = box[band], px[band], py[band], key[band]
        pix = torch.stack([px, py], -1).to(dt) + 0.5
    kept = tri[b_idx, f_idx]  # (M,3,2), differentiable
    sil = _SoftCoverage.apply(kept, box, pix, key, B * height * width, sigma).view(B, height, width)
    if interior is not None:
        sil = torch.where(interior, torch.ones((), dtype=dt, device=sil.device), sil)
    return sil


def soft_silhouette_dense(verts_cam, faces, K, height, width, sigma: float = 1.0, near: float = 0.01):
    """Reference implementation over all faces x all pixels (small inputs only, for tests)."""
    dt = verts_cam.dtype
    uv = project_points(verts_cam, K.to(dt))
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

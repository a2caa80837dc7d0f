"""HandRenderer: shaded, textured RGB, hand/forearm labels and depth of posed hands, batched, CPU or CUDA.

Inputs are in one world frame (metres); cameras map world to camera coordinates (OpenCV axes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..camera import scale_intrinsics
from ..model.io import HandModelData
from .forearm import make_forearm
from .rasterize import rasterize

BACKGROUND, HAND, FOREARM = 0, 1, 2


@dataclass
class Lighting:
    """Per-image lights (B rows). Directions in camera coordinates, pointing from the light into the scene."""

    ambient: torch.Tensor  # (B,3) colour x intensity
    direction: torch.Tensor  # (B,3)
    colour: torch.Tensor  # (B,3) colour x intensity
    specular: torch.Tensor  # (B,) strength

    @staticmethod
    def default(batch: int, device="cpu") -> Lighting:
        return Lighting(torch.full((batch, 3), 0.45, device=device),
                        torch.tensor([[-0.3, 0.6, 1.0]], device=device).expand(batch, 3),
                        torch.full((batch, 3), 0.75, device=device), torch.full((batch,), 0.08, device=device))


@dataclass
class RenderOutput:
    """rgb (B,3,H,W) in [0,1] (premultiplied by alpha: black where nothing is drawn); alpha (B,H,W) coverage;
    label (B,H,W) long: 0 background, 1 hand, 2 forearm; hand_mask (B,H,W) bool; depth (B,H,W) m (inf: none)."""

    rgb: torch.Tensor
    alpha: torch.Tensor
    label: torch.Tensor
    hand_mask: torch.Tensor
    depth: torch.Tensor


class HandRenderer:
    """Renders a hand model (plus a forearm at its wrist) with a UV texture.

    Args:
        data: the hand model (needs UVs). Its faces proximal of ``wrist_cut`` (metres along the hand's distal
            axis from the wrist joint) are labelled forearm: the hand mask ends at the wrist.
    """

    def __init__(self, data: HandModelData, device="cpu", wrist_cut: float = -0.006):
        if data.uv is None or data.faces_uv is None:
            raise ValueError(f"{data.source} has no UV coordinates; the renderer needs a UV-mapped model")
        self.data = data
        self.device = torch.device(device)
        joints = data.J_regressor @ data.v_template
        wrist = joints[0]
        distal = joints[4] - wrist
        distal /= np.linalg.norm(distal)
        lateral = joints[1] - joints[7]  # pinky knuckle -> index knuckle
        dorsal = np.cross(distal, lateral) * (1.0 if data.side == "right" else -1.0)
        dorsal -= (dorsal @ distal) * distal
        dorsal /= np.linalg.norm(dorsal)
        self.forearm = make_forearm(data.v_template, data.faces, wrist, distal=distal, dorsal=dorsal)
        V = data.num_vertices
        self.num_hand_vertices = V
        drawn = ~self.forearm.hidden_hand_faces  # the wrist cap inside the forearm is not drawn
        self.faces = torch.as_tensor(np.concatenate([data.faces[drawn], self.forearm.faces + V]), device=self.device)
        self.num_hand_faces = int(drawn.sum())
        rest_s = (data.v_template - wrist) @ distal
        centroid_s = rest_s[data.faces].mean(1)
        # per-vertex distance along the arm from the wrist joint (forearm: far below the cut), interpolated per
        # pixel to split hand from forearm along a straight line
        self.wrist_cut = wrist_cut
        self.vertex_s = torch.as_tensor(np.concatenate([rest_s, np.full(len(self.forearm.vertices), -1.0)]),
                                        dtype=torch.float32, device=self.device)
        self.uv = torch.as_tensor(data.uv, dtype=torch.float32, device=self.device)
        self.faces_uv = torch.as_tensor(data.faces_uv[drawn], device=self.device)
        self.forearm_rest = torch.as_tensor(self.forearm.vertices, dtype=torch.float32, device=self.device)
        self.forearm_along = torch.as_tensor(self.forearm.along, dtype=torch.float32, device=self.device)
        self.forearm_dorsal = torch.as_tensor(self.forearm.dorsal_weight, dtype=torch.float32, device=self.device)
        self.forearm_bend = torch.as_tensor(self.forearm.bend_weight, dtype=torch.float32, device=self.device)
        self.rim_ids = torch.as_tensor(self.forearm.rim_vertex_ids, device=self.device)
        # texels just distal of the wrist cut, split into back-of-hand and palm side, colour the forearm
        near = np.abs(centroid_s - (wrist_cut + 0.006)) < 0.006
        corners = data.faces[near].reshape(-1)
        side_dorsal = (data.v_template[corners] - wrist - np.outer(rest_s[corners], distal)) @ dorsal > 0
        uv_ids = data.faces_uv[near].reshape(-1)
        self.wrist_uv = [torch.as_tensor(data.uv[uv_ids[side_dorsal == d]], dtype=torch.float32, device=self.device)
                         for d in (True, False)]

    def forearm_colours(self, texture: torch.Tensor) -> torch.Tensor:
        """(B,N,3) forearm vertex colours continuing the texture's skin at the wrist (back and palm side)."""
        B = texture.shape[0]
        means = []
        for uv in self.wrist_uv:
            b = torch.arange(B, device=texture.device).repeat_interleave(len(uv))
            means.append(_bilinear(texture.float(), b, uv.repeat(B, 1)).view(B, len(uv), 3).mean(1))
        w = self.forearm_dorsal[None, :, None]
        return w * means[0][:, None] + (1 - w) * means[1][:, None]

    def pose_forearm(self, wrist_world: torch.Tensor, bent_world: torch.Tensor | None = None,
                     hand_vertices: torch.Tensor | None = None) -> torch.Tensor:
        """Forearm vertices (B,N,3) in world. ``wrist_world`` (B,4,4): rest -> world transform of the hand's
        wrist (its skin transform); ``bent_world``: the forearm's own transform (e.g. the wrist's, rotated about
        the wrist joint). The rim ring follows the hand, the arm above it the forearm, blended in between.
        With ``hand_vertices`` (B,V,3), the posed (and shaped) hand, the rim ring is exactly the hand's rim and
        the difference fades out up the arm, so hand and arm meet without a gap for any shape and pose."""
        v = self.forearm_rest
        hand = (wrist_world[:, None, :3, :3] @ v[None, :, :, None])[..., 0] + wrist_world[:, None, :3, 3]
        w = self.forearm_bend[None, :, None]
        out = hand
        if bent_world is not None:
            arm = (bent_world[:, None, :3, :3] @ v[None, :, :, None])[..., 0] + bent_world[:, None, :3, 3]
            out = (1 - w) * hand + w * arm
        if hand_vertices is not None:
            n = len(self.rim_ids)
            delta = hand_vertices[:, self.rim_ids] - hand[:, :n]  # (B,n,3) rim: actual minus rigid
            ring_delta = delta.repeat(1, (out.shape[1] - 1) // n, 1)
            out = out.clone()
            out[:, :-1] = out[:, :-1] + (1 - w[:, :-1]) * ring_delta
        return out

    def _occlusion(self, world: torch.Tensor) -> torch.Tensor:
        """(B, V+N) per-vertex occlusion from the hand surface (the forearm neither casts nor gets any, so the
        wrist stub inside it stays clean); computed once when all images share one geometry (stereo views)."""
        V = self.num_hand_vertices
        hand = world[:, :V]
        shared = bool((hand == hand[:1]).all())
        src = hand[:1] if shared else hand
        ao = ambient_occlusion(src, _vertex_normals(src, self.faces[:self.num_hand_faces]))
        ao = ao.expand(world.shape[0], -1) if shared else ao
        return torch.cat([ao, torch.zeros(world.shape[0], world.shape[1] - V, device=world.device)], 1)

    def render(self, hand_vertices: torch.Tensor, forearm_vertices: torch.Tensor, texture: torch.Tensor,
               forearm_colour: torch.Tensor, K: torch.Tensor, R: torch.Tensor, t: torch.Tensor, height: int,
               width: int, lighting: Lighting | None = None, ssaa: int = 2, occlusion: bool = True) -> RenderOutput:
        """Render B images.

        hand_vertices (B,V,3) and forearm_vertices (B,N,3) in world metres; texture (B,3,S,S) in [0,1];
        forearm_colour (B,N,3) per forearm vertex; K (B,3,3) intrinsics; R (B,3,3), t (B,3) world -> camera.
        ``ssaa``: supersampling factor for anti-aliased RGB and coverage. ``occlusion``: per-vertex ambient
        occlusion (O(V^2) per distinct geometry: ~40 ms per hand on a 2-core CPU, shared by stereo views).
        """
        B = hand_vertices.shape[0]
        lighting = lighting or Lighting.default(B, self.device)
        world = torch.cat([hand_vertices, forearm_vertices], 1).float()
        cam = (R.float()[:, None] @ world[..., None])[..., 0] + t.float()[:, None]
        Ks = scale_intrinsics(K.float(), ssaa)
        H, W = height * ssaa, width * ssaa
        frags = rasterize(cam, self.faces, Ks, H, W)
        covered = frags.face >= 0
        # Shade only covered pixels: gather them, compute, scatter back.
        b, py, px = torch.nonzero(covered, as_tuple=True)
        f = frags.face[b, py, px]
        w = frags.bary[b, py, px]  # (N,3)
        corners = self.faces[f]  # (N,3)
        normals = _vertex_normals(cam, self.faces)
        occ = self._occlusion(world) if occlusion else torch.zeros(world.shape[:2], device=self.device)
        n = F.normalize((normals[b[:, None], corners] * w[..., None]).sum(1), dim=-1)
        ao = (occ[b[:, None], corners] * w).sum(1)
        pos = (cam[b[:, None], corners] * w[..., None]).sum(1)

        is_hand = f < self.num_hand_faces
        albedo = torch.empty(len(f), 3, device=self.device)
        hf = f[is_hand]
        uv = (self.uv[self.faces_uv[hf]] * w[is_hand][..., None]).sum(1)
        albedo[is_hand] = _bilinear(texture.float(), b[is_hand], uv)
        ff = f[~is_hand]
        fc = self.faces[ff] - self.num_hand_vertices
        albedo[~is_hand] = (forearm_colour.float()[b[~is_hand][:, None], fc] * w[~is_hand][..., None]).sum(1)

        L = F.normalize(-lighting.direction.float(), dim=-1)[b]  # towards the light
        view = F.normalize(-pos, dim=-1)
        ndl = (n * L).sum(-1)
        wrap = ((ndl + 0.35) / 1.35).clamp_min(0.0)  # wrap-around diffuse: light bleeding through skin
        half = F.normalize(L + view, dim=-1)
        spec = (n * half).sum(-1).clamp_min(0.0) ** 20 * lighting.specular[b]
        sky = 0.75 + 0.25 * (-n[:, 1])  # hemisphere ambient: brighter from above (camera -y), darker from below
        visible = (1.0 - 0.6 * ao)[:, None]
        shaded = albedo * visible * (lighting.ambient[b] * sky[:, None] + lighting.colour[b] * wrap[:, None])
        shaded = shaded + spec[:, None] * lighting.colour[b] * visible
        rgb = torch.zeros(B, H, W, 3, device=self.device)
        rgb[b, py, px] = shaded.clamp(0, 1)
        rgb = rgb.permute(0, 3, 1, 2)

        s_pix = torch.full((B, H, W), -1.0, device=self.device)
        s_pix[b, py, px] = (self.vertex_s[corners] * w).sum(1)
        label = torch.where(covered, torch.where(s_pix >= self.wrist_cut, HAND, FOREARM), 0)
        depth = frags.depth
        if ssaa > 1:
            rgb = F.avg_pool2d(rgb, ssaa)
            alpha = F.avg_pool2d(covered.float()[:, None], ssaa)[:, 0]
            hand_frac = F.avg_pool2d((label == 1).float()[:, None], ssaa)[:, 0]
            fore_frac = F.avg_pool2d((label == 2).float()[:, None], ssaa)[:, 0]
            label = torch.where(hand_frac >= 0.5, 1, torch.where((fore_frac >= 0.5) | (alpha >= 0.5), 2, 0))
            label = torch.where((alpha >= 0.5) & (hand_frac >= fore_frac) & (hand_frac > 0), 1, label)
            depth = -F.max_pool2d(-depth[:, None], ssaa)[:, 0]
        else:
            alpha = covered.float()
        return RenderOutput(rgb=rgb, alpha=alpha, label=label.long(), hand_mask=label == 1, depth=depth)


def ambient_occlusion(verts: torch.Tensor, normals: torch.Tensor, radius: float = 0.025,
                      exclude: float = 0.004, stride: int = 3) -> torch.Tensor:
    """(B,V) approximate ambient occlusion in [0,1] per vertex: how much nearby surface (within ``radius`` m,
    beyond the vertex's own patch ``exclude``) lies in front of it, weighted by closeness and by the cosine to
    the normal. Darkens the gaps between fingers, the palm under curled fingers and the folds of joints.
    Every ``stride``-th vertex acts as an occluder (weighted by ``stride``): the same estimate, cheaper."""
    occ = verts[:, ::stride]
    dist = torch.cdist(verts, occ).clamp_min(1e-9)  # (B,V,V/stride)
    # n_i . (x_j - x_i) = (N X^T)_ij - n_i . x_i, without a (B,V,V,3) tensor
    cos = (normals @ occ.transpose(1, 2) - (normals * verts).sum(-1, keepdim=True)) / dist
    weight = (cos.clamp_min(0) * (1 - dist / radius).clamp_min(0) * (dist > exclude)).sum(-1) * stride
    return (weight / 25.0).clamp(0, 1)


def _vertex_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """(B,V,3) area-weighted unit vertex normals."""
    tri = verts[:, faces]
    fn = torch.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1)
    vn = torch.zeros_like(verts)
    vn.index_add_(1, faces.reshape(-1), fn.repeat_interleave(3, 1))
    return F.normalize(vn, dim=-1)


def _bilinear(texture: torch.Tensor, b: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Sample texture (B,3,S,S) at UVs (N,2) (v up) of images b (N,) -> (N,3), bilinear, clamped at edges."""
    S_h, S_w = texture.shape[-2:]
    x = uv[:, 0] * S_w - 0.5
    y = (1.0 - uv[:, 1]) * S_h - 0.5
    x0, y0 = torch.floor(x), torch.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.long(), y0.long()
    flat = texture.permute(0, 2, 3, 1).reshape(-1, 3)

    def tap(xx, yy):
        xx, yy = xx.clamp(0, S_w - 1), yy.clamp(0, S_h - 1)
        return flat[(b * S_h + yy) * S_w + xx]

    return ((1 - fx) * (1 - fy) * tap(x0, y0) + fx * (1 - fy) * tap(x0 + 1, y0)
            + (1 - fx) * fy * tap(x0, y0 + 1) + fx * fy * tap(x0 + 1, y0 + 1))

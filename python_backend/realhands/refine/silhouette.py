"""Test-time refinement against the hand's silhouette (the paper's Eq. 1-5, and Eq. 8 for stereo).

From any initial hand (keypoint fit, network, previous frame) and any target mask per view, optimise offsets
of the pose (48), shape (10), per-vertex positions (V x 3, rest space, metres) and camera (a translation of the
hand in camera coordinates, 3) with SGD and momentum to minimise

    L = l1 L_sil + l2 L_v + l3 L_n + l4 L_lap + l5 L_edge

* L_sil: squared difference between the soft silhouette and the mask, summed over the crop's pixels and
  divided by (crop size / 16)^2, summed over views (so the default lr of 0.002 moves the hand at every size);
* L_v: mean squared vertex offset (cm^2); L_n: mean (1 - cos) between the normals of faces sharing an edge;
* L_lap: mean squared uniform Laplacian of the vertex offsets (cm^2); L_edge: mean squared change of edge
  lengths against the initial mesh (cm^2).

Rendering happens in a square crop around the hand (``crop_size`` px), with intrinsics moved into the crop.
Each step clips the gradient of every block (pose, shape, vertices, camera) to ``clip``. Guards: a non-finite
loss, a silhouette loss that grows past ``divergence_ratio`` times its start, or offsets outside a trust region
(``max_offsets``) return the unrefined hand with ``diverged=True``.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..camera import Camera, project_points
from ..model import HandModel
from ..perception.crop import crop_affine, crop_box
from ..render.silhouette import choose_backend, render_silhouette
from ..render.soft import SilhouetteSequence


@dataclass
class RefineConfig:
    iterations: int = 3
    lr: float = 0.002
    momentum: float = 0.9
    weights: tuple = (1.0, 1.0, 1.0, 1.0, 0.1)  # sil, vertex offsets, normals, Laplacian, edges
    sigma: float = 1.0  # soft-rasteriser edge softness, squared crop pixels
    eps: float = 1e-3  # faces reach the pixels where their probability is above this
    backend: str = "auto"  # silhouette renderer: "auto", "soft" or "nvdiffrast" (realhands.render.silhouette)
    crop_size: int = 128
    divergence_ratio: float = 3.0
    sil_normaliser: float = 100.0  # L_sil = sum over crop pixels of squared differences / this
    clip: float = 5.0  # largest gradient norm per block (pose, shape, vertices, camera) per step
    # learning-rate multipliers for pose, shape, vertices, camera: the camera offset (cm) and vertex offsets need
    # larger steps than the pose for the default 3 iterations to align the outline (docs/refinement.md)
    block_lr: tuple = (1.0, 1.0, 3.0, 20.0)
    depth_lr: float = 0.05  # the camera offset's depth (z) moves at this fraction of its x and y rate
    # trust region: offsets beyond these count as divergence (radians, shape sd, cm per vertex, cm)
    max_offsets: tuple = (np.pi, 1.0, 2.0, 10.0)


@dataclass
class RefineResult:
    params: dict  # global_orient, hand_pose, betas, transl: (1,n) tensors, refined
    vertex_offsets: torch.Tensor  # (1,V,3) rest space, metres
    vertices: torch.Tensor  # (1,V,3) camera coordinates of the first view
    losses: list = field(default_factory=list)  # total loss per iteration
    diverged: bool = False
    seconds: float = 0.0


def _mesh_topology(faces: np.ndarray):
    """Unique edges (E,2), pairs of faces sharing an edge (P,2), and uniform-Laplacian neighbour lists."""
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    edges, inv = np.unique(e, axis=0, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    face_of = np.tile(np.arange(len(faces)), 3)[order]
    counts = np.bincount(inv)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    two = counts == 2
    face_pairs = np.stack([face_of[first[two]], face_of[first[two] + 1]], 1)
    return edges, face_pairs


def _laplacian(x: torch.Tensor, edges: torch.Tensor, degree: torch.Tensor) -> torch.Tensor:
    """Uniform Laplacian of per-vertex values x (V,3): mean of neighbours minus the vertex."""
    a, b = edges[:, 0], edges[:, 1]
    s = torch.zeros_like(x).index_add(0, a, x[b]).index_add(0, b, x[a])
    return s / degree.clamp_min(1) - x


def _nvdiffrast(faces, size, verts_cam, K):
    return render_silhouette(verts_cam, faces, K, size, size, backend="nvdiffrast")


def hand_faces(model: HandModel, wrist_cut: float = -0.006) -> torch.Tensor:
    """Faces of the hand proper: those whose rest-pose centroid lies distal of ``wrist_cut`` metres from the
    wrist joint (the rest is the wrist stub, which masks count as forearm; see realhands.render.renderer)."""
    d = model.data
    J = d.J_regressor @ d.v_template
    distal = (J[4] - J[0]) / np.linalg.norm(J[4] - J[0])
    s = (d.v_template - J[0]) @ distal
    return torch.as_tensor(d.faces[s[d.faces].mean(1) >= wrist_cut])


class SilhouetteRefiner:
    """Refines one HandModel's hands (``flat_hand_mean=True``) against masks."""

    def __init__(self, model: HandModel, config: RefineConfig | None = None, wrist_cut: float = -0.006):
        self.model = model
        self.cfg = config or RefineConfig()
        self.hand_faces = hand_faces(model, wrist_cut)
        edges, pairs = _mesh_topology(model.faces)
        self.edges = torch.as_tensor(edges)
        self.face_pairs = torch.as_tensor(pairs)
        V = model.data.num_vertices
        deg = np.bincount(edges.reshape(-1), minlength=V).astype(np.float32)
        self.degree = torch.as_tensor(deg)[:, None]

    def _outside_trust_region(self, d_pose, d_shape, d_vert, d_cam) -> bool:
        with torch.no_grad():
            lim = self.cfg.max_offsets
            return bool(d_pose.abs().max() > lim[0] or d_shape.abs().max() > lim[1]
                        or d_vert.norm(dim=-1).max() > lim[2] or d_cam.norm() > lim[3]
                        or not all(torch.isfinite(t).all() for t in (d_pose, d_shape, d_vert, d_cam)))

    @staticmethod
    def _crop(verts_cam, camera: Camera, size: int) -> tuple[Camera, np.ndarray]:
        """The camera of a square ``size`` px crop framing the projected mesh, and the (2,3) image -> crop affine."""
        with torch.no_grad():
            K = camera.K_tensor(verts_cam.dtype, verts_cam.device)[None]
            uv = project_points(verts_cam[None], K, eps=0.0)[0].cpu().numpy()
        centre, side, _ = crop_box(uv, margin=1.15)
        A = crop_affine(centre, side, 0.0, size)
        return camera.warped(A, size, size), A

    def refine(self, params: dict, masks: list, cameras: list[Camera], extrinsics: list | None = None) -> RefineResult:
        """params: the initial hand (global_orient (1,3), hand_pose (1,45) absolute, betas (1,10), transl (1,3)),
        camera coordinates of the first view. masks: per view, (H,W) bool or float in [0,1]. cameras: per view
        (realhands.Camera). extrinsics: per view (4,4) first-view -> that view (default: identity for the first)."""
        import cv2

        t0 = time.perf_counter()
        cfg, m = self.cfg, self.model
        dt, dev = m.v_template.dtype, m.v_template.device
        base = {k: torch.as_tensor(np.asarray(v.cpu() if torch.is_tensor(v) else v), dtype=dt,
                                   device=dev).reshape(1, -1) for k, v in params.items()}
        extrinsics = extrinsics or [np.eye(4)] + [None] * (len(masks) - 1)
        if len(masks) != len(cameras) or len(extrinsics) != len(masks) or any(e is None for e in extrinsics):
            raise ValueError("give one camera and one extrinsic per mask (the first extrinsic may be omitted)")
        V = m.data.num_vertices
        d_pose = torch.zeros(1, 48, dtype=dt, device=dev, requires_grad=True)
        d_shape = torch.zeros(1, 10, dtype=dt, device=dev, requires_grad=True)
        d_vert = torch.zeros(1, V, 3, dtype=dt, device=dev, requires_grad=True)
        d_cam = torch.zeros(1, 3, dtype=dt, device=dev, requires_grad=True)
        d_cam.register_hook(lambda g: g * torch.tensor([1.0, 1.0, cfg.depth_lr], dtype=g.dtype, device=g.device))
        opt = torch.optim.SGD([{"params": [t], "lr": cfg.lr * k} for t, k in zip((d_pose, d_shape, d_vert, d_cam),
                                                                                cfg.block_lr, strict=True)],
                              lr=cfg.lr, momentum=cfg.momentum)

        def pose_mesh():  # vertex and camera offsets are optimised in centimetres, rotations in radians
            out = m(global_orient=base["global_orient"] + d_pose[:, :3], hand_pose=base["hand_pose"] + d_pose[:, 3:],
                    betas=base["betas"] + d_shape, transl=base["transl"] + d_cam / 100.0,
                    vertex_offsets=d_vert / 100.0)
            return out.vertices[0]

        with torch.no_grad():
            v0 = pose_mesh()
        views = []
        faces = self.hand_faces.to(dev)  # the hand ends at the wrist, as the masks do
        for mask, camera, T in zip(masks, cameras, extrinsics, strict=True):
            T = torch.as_tensor(np.asarray(T), dtype=dt, device=dev)
            v_view = v0 @ T[:3, :3].T + T[:3, 3]
            crop_camera, A = self._crop(v_view, camera, cfg.crop_size)
            Kc = crop_camera.K_tensor(dt, dev)
            target = cv2.warpAffine(np.asarray(mask, dtype=np.float32), A, (cfg.crop_size, cfg.crop_size),
                                    flags=cv2.INTER_AREA if A[0, 0] < 1 else cv2.INTER_LINEAR)
            if choose_backend(v0.device, cfg.backend) == "soft":
                render = SilhouetteSequence(faces, cfg.crop_size, cfg.crop_size, cfg.sigma, cfg.eps)
            else:
                render = functools.partial(_nvdiffrast, faces, cfg.crop_size)
            views.append((Kc, T, torch.as_tensor(target, dtype=dt, device=dev), render))
        edges, pairs, degree = self.edges.to(dev), self.face_pairs.to(dev), self.degree.to(dev)
        edge_len0 = (v0[edges[:, 0]] - v0[edges[:, 1]]).norm(dim=-1)
        norm = cfg.sil_normaliser
        w = cfg.weights

        def losses():
            v = pose_mesh()
            sil = 0.0
            for Kc, T, target, render in views:  # the mesh's solid interior carries no gradient: skipped
                s = render((v @ T[:3, :3].T + T[:3, 3])[None], Kc[None])[0]
                sil = sil + ((s - target) ** 2).sum() / norm
            tri = v[m.faces_tensor]  # regularisers over the whole mesh
            n = torch.nn.functional.normalize(torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1), dim=-1)
            l_n = (1 - (n[pairs[:, 0]] * n[pairs[:, 1]]).sum(-1)).mean()
            off = d_vert[0]  # cm
            l_v = (off ** 2).sum(-1).mean()
            l_lap = (_laplacian(off, edges, degree) ** 2).sum(-1).mean()
            el = (v[edges[:, 0]] - v[edges[:, 1]]).norm(dim=-1)
            l_edge = (((el - edge_len0) * 100.0) ** 2).mean()
            total = w[0] * sil + w[1] * l_v + w[2] * l_n + w[3] * l_lap + w[4] * l_edge
            return total, sil, v

        history, diverged, sil0 = [], False, None
        for _ in range(cfg.iterations):
            opt.zero_grad()
            total, sil, _ = losses()
            if not torch.isfinite(total):
                diverged = True
                break
            sil0 = float(sil.detach()) if sil0 is None else sil0
            if float(sil.detach()) > cfg.divergence_ratio * max(sil0, 1e-6):
                diverged = True
                break
            history.append(float(total.detach()))
            total.backward()
            for p_ in (d_pose, d_shape, d_vert, d_cam):
                torch.nn.utils.clip_grad_norm_([p_], cfg.clip)
            opt.step()
            if self._outside_trust_region(d_pose, d_shape, d_vert, d_cam):
                diverged = True
                break
        with torch.no_grad():
            total, sil, v = losses()
            if not torch.isfinite(total) or not torch.isfinite(v).all() or \
                    (sil0 is not None and float(sil) > cfg.divergence_ratio * max(sil0, 1e-6)) or \
                    self._outside_trust_region(d_pose, d_shape, d_vert, d_cam):
                diverged = True
            history.append(float(total))
        if diverged:  # never hand back a broken mesh: the unrefined hand, flagged
            return RefineResult(base, torch.zeros(1, V, 3, dtype=dt, device=dev), v0[None], history, True,
                                time.perf_counter() - t0)
        out = {"global_orient": base["global_orient"] + d_pose[:, :3].detach(),
               "hand_pose": base["hand_pose"] + d_pose[:, 3:].detach(), "betas": base["betas"] + d_shape.detach(),
               "transl": base["transl"] + d_cam.detach() / 100.0}
        return RefineResult(out, d_vert.detach() / 100.0, v[None].detach(), history, False, time.perf_counter() - t0)

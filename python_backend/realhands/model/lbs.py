"""Linear blend skinning for MANO-format models: plain tensors in, plain tensors out."""
from __future__ import annotations

import functools

import torch


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula. rotvec (...,3) axis-angle in radians -> (...,3,3) rotation matrices."""
    angle = torch.linalg.norm(rotvec + 1e-8, dim=-1, keepdim=True)  # (...,1); eps keeps the gradient finite at 0
    axis = rotvec / angle
    cos, sin = torch.cos(angle)[..., None], torch.sin(angle)[..., None]
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*rotvec.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand_as(K)
    return eye + sin * K + (1.0 - cos) * (K @ K)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """(...,3,3) rotation matrices -> (...,3) axis-angle, robust near 0 and near pi."""
    vee = torch.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    cos = (R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2] - 1.0) / 2.0
    sin = 0.5 * torch.linalg.norm(vee, dim=-1)
    angle = torch.atan2(sin, cos)
    scale = torch.where(sin > 1e-7, angle / (2.0 * sin.clamp_min(1e-12)), torch.full_like(angle, 0.5))
    out = vee * scale[..., None]
    near_pi = cos < -0.9  # vee is small and noisy there: take the axis from the symmetric part
    if near_pi.any():
        Rn, c = R[near_pi], cos[near_pi]
        eye = torch.eye(3, dtype=R.dtype, device=R.device)
        nn_t = (0.5 * (Rn + Rn.transpose(-1, -2)) - c[:, None, None] * eye) / (1.0 - c)[:, None, None]
        diag = torch.diagonal(nn_t, dim1=-2, dim2=-1).clamp_min(0.0)
        k = diag.argmax(-1)
        axis = nn_t[torch.arange(len(k)), k] / diag.gather(-1, k[:, None]).sqrt().clamp_min(1e-12)
        axis = axis / torch.linalg.norm(axis, dim=-1, keepdim=True)
        flip = (axis * vee[near_pi]).sum(-1) < 0
        axis = torch.where(flip[:, None], -axis, axis)
        out = out.clone()
        out[near_pi] = axis * angle[near_pi][:, None]
    return out


def rigid_chain(rotations: torch.Tensor, joints: torch.Tensor, parents: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose a kinematic chain.

    rotations: (B,J,3,3) local joint rotations (model-space axes); joints: (B,J,3) rest joint positions;
    parents: length J, parents[0] == -1 and parents[j] < j.
    Returns (world, skin), both (B,J,4,4): ``world`` is each joint's posed frame (rotation and posed position);
    ``skin`` maps rest-space points to posed points for vertices bound to that joint.
    """
    B, J = joints.shape[:2]
    rel = joints.clone()
    rel[:, 1:] = joints[:, 1:] - joints[:, parents[1:]]
    local = torch.zeros(B, J, 4, 4, dtype=joints.dtype, device=joints.device)
    local[..., :3, :3] = rotations
    local[..., :3, 3] = rel
    local[..., 3, 3] = 1.0
    world = torch.empty_like(local)
    world[:, 0] = local[:, 0]
    for joints_at, parents_of in _levels(tuple(parents)):  # one batched product per tree level
        world[:, joints_at] = world[:, parents_of] @ local[:, joints_at]
    skin = world.clone()
    skin[..., :3, 3] = world[..., :3, 3] - (world[..., :3, :3] @ joints[..., None])[..., 0]
    return world, skin


@functools.lru_cache(maxsize=8)
def _levels(parents: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Joints grouped by depth in the tree (root excluded), with their parents: [(joints, parents), ...]."""
    depth = [0] * len(parents)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    return [([j for j in range(1, len(parents)) if depth[j] == d],
             [parents[j] for j in range(1, len(parents)) if depth[j] == d]) for d in range(1, max(depth) + 1)]


def skin_vertices(vertices: torch.Tensor, weights: torch.Tensor, skin: torch.Tensor) -> torch.Tensor:
    """vertices (B,V,3) rest space, weights (V,J), skin (B,J,4,4) -> posed vertices (B,V,3)."""
    T = torch.einsum("vj,bjmn->bvmn", weights, skin)
    return (T[..., :3, :3] @ vertices[..., None])[..., 0] + T[..., :3, 3]

"""HandNet's losses: Eq. 9 of the paper (pose, shape, 2D joints, shape norm, camera), BCE for masks, and Eq. 11
for stereo (vertices and 3D joints). Inputs are batches; outputs scalar tensors in a dict with 'total'."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..model.lbs import axis_angle_to_matrix

#: Eq. 9 weights: pose, shape, 2D joints, shape norm, camera
LAMBDA = {"pose": 10.0, "shape": 1.0, "kp2d": 100.0, "shape_norm": 0.5, "cam": 1e-5}


def project(cam: torch.Tensor, points_rel: torch.Tensor) -> torch.Tensor:
    """Weak perspective: (B,3) (s, tx, ty) and (B,N,3) root-relative points (m) -> (B,N,2) normalised crop coords."""
    return cam[:, None, :1] * points_rel[..., :2] + cam[:, None, 1:]


def mano_loss(out: dict, batch: dict, hand_model, weights: dict | None = None) -> dict[str, torch.Tensor]:
    """Eq. 9. ``hand_model``: a right-hand HandModel (flat_hand_mean) giving keypoints for the predicted pose."""
    w = dict(LAMBDA, **(weights or {}))
    pose, shape, cam = out["pose"], out["shape"], out["cam"]
    kp = hand_model.keypoints(pose[:, :3], pose[:, 3:], shape, torch.zeros_like(pose[:, :3]))
    kp = kp - kp[:, :1]
    # the global orientation compares rotation matrices (axis-angle jumps at pi); the fingers' axis-angles directly
    R, R_gt = axis_angle_to_matrix(pose[:, :3]), axis_angle_to_matrix(batch["pose"][:, :3])
    pose_err = torch.cat([(R - R_gt).flatten(1), pose[:, 3:] - batch["pose"][:, 3:]], 1)
    terms = {
        "pose": (pose_err ** 2).mean(),
        "shape": F.mse_loss(shape, batch["shape"]),
        "kp2d": F.mse_loss(project(cam, kp), batch["kp2d"]),
        "shape_norm": (shape ** 2).mean(),
        "cam": F.mse_loss(cam, batch["cam"]),
    }
    terms["total"] = sum(w[k] * v for k, v in terms.items())
    return terms


def mask_loss(out: dict, batch: dict) -> dict[str, torch.Tensor]:
    bce = F.binary_cross_entropy_with_logits(out["mask_logits"][:, 0], batch["mask"])
    return {"mask": bce, "total": bce}


def stereo_loss(vertices: torch.Tensor, joints: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
    """Eq. 11: L2 of root-relative vertices (B,V,3) and 3D joints (B,21,3) against the targets, metres."""
    v = F.mse_loss(vertices - joints[:, :1], batch["vertices"])
    j = F.mse_loss(joints - joints[:, :1], batch["joints3d"])
    return {"vertices": v, "joints3d": j, "total": v + j}

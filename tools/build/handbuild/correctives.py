"""Pose-corrective blend shapes (MANO's ``posedirs``) fitted so that LBS reproduces dual-quaternion skinning.

Linear blend skinning collapses the inside of strongly bent joints and loses volume; dual-quaternion
skinning (Kavan et al., "Geometric skinning with approximate dual quaternion blending", TOG 2008) keeps it.
We pose the rig over many sampled hand poses, compute where DQS puts each vertex, express the difference in
rest space, and fit MANO's linear corrective model (displacement = posedirs @ vec(R_j - I)) per vertex, using
only the joints that influence that vertex.
"""
from __future__ import annotations

import numpy as np
import torch

from realhands.conventions import MANO_PARENTS


def _quat_from_matrix(R: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    xyzw = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat()
    return np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=1).reshape(*R.shape[:-2], 4)  # wxyz


def _qmul(a, b):
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], -1)


def dqs(rest: np.ndarray, weights: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """Dual-quaternion skinning. rest (V,3), weights (V,J), skin (N,J,4,4) -> (N,V,3)."""
    q = _quat_from_matrix(skin[..., :3, :3])  # (N,J,4)
    t = np.concatenate([np.zeros(skin.shape[:2] + (1,)), skin[..., :3, 3]], -1)
    d = 0.5 * _qmul(t, q)
    dominant = weights.argmax(1)
    out = np.empty((skin.shape[0], len(rest), 3))
    for n in range(skin.shape[0]):
        sign = np.sign(np.einsum("jc,vc->vj", q[n], q[n, dominant]))  # same hemisphere as the dominant joint
        sign[sign == 0] = 1
        w = weights * sign
        b0, b1 = w @ q[n], w @ d[n]
        norm = np.linalg.norm(b0, axis=1, keepdims=True)
        b0, b1 = b0 / norm, b1 / norm
        w0, v0 = b0[:, :1], b0[:, 1:]
        we, ve = b1[:, :1], b1[:, 1:]
        p = rest + 2 * np.cross(v0, np.cross(v0, rest) + w0 * rest)
        out[n] = p + 2 * (w0 * ve - we * v0 + np.cross(v0, ve))
    return out


def fit_posedirs(model, hand_poses: np.ndarray, ridge: float = 1e-3) -> tuple[np.ndarray, float]:
    """Fit posedirs (V,3,135) for ``model`` (a HandModel, flat mean, no posedirs) on hand poses (N,45).

    Returns the blend shapes and the RMS distance (m) left between corrected LBS and DQS on the samples.
    """
    with torch.no_grad():
        out = model(hand_pose=torch.as_tensor(hand_pose_batch(hand_poses)), return_rest=True)
    skin = out.skin_transforms.numpy().astype(np.float64)
    lbs = out.vertices.numpy().astype(np.float64)
    rest = out.rest_vertices[0].numpy().astype(np.float64)
    weights = model.lbs_weights.numpy().astype(np.float64)
    target = dqs(rest, weights, skin)
    # Rest-space residual: undo the blended LBS transform's linear part.
    M = np.einsum("vj,njab->nvab", weights, skin[..., :3, :3])
    delta = np.linalg.solve(M, (target - lbs)[..., None])[..., 0]  # (N,V,3)
    from scipy.spatial.transform import Rotation

    local = Rotation.from_rotvec(hand_pose_batch(hand_poses).reshape(-1, 3)).as_matrix()
    feats = (local - np.eye(3)).reshape(len(hand_poses), 15, 9)

    V = len(rest)
    posedirs = np.zeros((V, 3, 135))
    parents = np.array(MANO_PARENTS)
    influence = weights > 1e-3
    for v in range(V):
        joints = [j for j in range(1, 16) if influence[v, j] or influence[v, parents[j]]]
        if not joints:
            continue
        X = feats[:, [j - 1 for j in joints]].reshape(len(hand_poses), -1)
        A = X.T @ X + ridge * np.eye(X.shape[1])
        coef = np.linalg.solve(A, X.T @ delta[:, v])  # (9*len(joints), 3)
        for i, j in enumerate(joints):
            posedirs[v, :, (j - 1) * 9:(j - 1) * 9 + 9] = coef[i * 9:(i + 1) * 9].T
    pred = np.einsum("nf,vcf->nvc", feats.reshape(len(hand_poses), -1), posedirs)
    rms = float(np.sqrt(np.mean(np.sum((pred - delta) ** 2, axis=-1))))
    return posedirs, rms


def hand_pose_batch(hand_poses: np.ndarray) -> np.ndarray:
    return np.asarray(hand_poses, dtype=np.float64).reshape(-1, 45)

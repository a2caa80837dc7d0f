"""The hand model's 21 detector keypoints and their exact Jacobian, in NumPy, for one hand.

What the keypoint fit (``realhands.fit.problem``, ``realhands.fit.solver``) differentiates. ``HandModel.keypoints``
with autograd costs ~2 ms per evaluation and gradient on a CPU (hundreds of small tensor operations); the same chain
written as a dozen vectorised NumPy operations over the 16 joints, with its Jacobian in closed form, costs a few
hundred microseconds.

Derivatives (all exact, tested against finite differences of ``HandModel.keypoints``):

* rotation of joint k by its axis-angle ``theta_k``: R_k(theta + d) = R_k(theta) exp([J_r(theta_k) d]_x) (the right
  Jacobian of SO(3)), so every point carried by joint k or a joint below it turns about joint k's posed position
  with angular velocity ``W_k J_r(theta_k) e_i`` (W_k: joint k's posed rotation); a fingertip blended over several
  joints moves by the blend of its parts, and its pose-corrective offsets by the derivative of R_k;
* shape: joints and fingertips are linear in the betas in rest space, and each posed joint is its parent's plus the
  parent's rotation of the rest bone;
* translation: the identity.
"""
from __future__ import annotations

import numpy as np

#: below this angle (radians) Rodrigues' coefficients come from their Taylor series
_SMALL = 1e-6


_EYE = np.eye(3)


def _skew(v: np.ndarray) -> np.ndarray:
    """(...,3) -> (...,3,3) cross-product matrices."""
    K = np.zeros(v.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    K[..., 1, 0], K[..., 2, 0], K[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    return K


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x b over the last axis, broadcast (np.cross without its axis bookkeeping: this is the fit's inner loop)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a1 * b2 - a2 * b1
    out[..., 1] = a2 * b0 - a0 * b2
    out[..., 2] = a0 * b1 - a1 * b0
    return out


def rodrigues(rotvec: np.ndarray, with_jacobian: bool = False):
    """(...,3) axis-angle -> (...,3,3) rotations, and with ``with_jacobian`` their right Jacobians (...,3,3)."""
    a2 = (rotvec * rotvec).sum(-1)[..., None, None]
    a = np.sqrt(a2)
    small = a < _SMALL
    a_safe = np.where(small, 1.0, a)
    s, c = np.sin(a_safe), np.cos(a_safe)
    A = np.where(small, 1.0, s / a_safe)  # sin a / a
    B = np.where(small, 0.5, (1.0 - c) / (a_safe * a_safe))  # (1 - cos a) / a^2
    K = _skew(rotvec)
    KK = rotvec[..., :, None] * rotvec[..., None, :] - a2 * _EYE  # K @ K = v v^T - |v|^2 I
    R = _EYE + A * K + B * KK
    if not with_jacobian:
        return R
    C = np.where(small, 1.0 / 6.0, (a_safe - s) / (a_safe * a_safe * a_safe))  # (a - sin a) / a^3
    return R, _EYE - B * K + C * KK


class KeypointKinematics:
    """One HandModel's detector keypoints (21, MediaPipe order, with landmark offsets) as a NumPy function of the
    full pose (16,3) axis-angle (wrist first; absolute, i.e. a ``flat_hand_mean`` model's), the betas (10,) and the
    translation (3,), metres, with the Jacobian."""

    def __init__(self, model, landmark_offsets=None):
        def a(t):
            return np.asarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t, np.float64)

        self.parents = list(model.parents)
        J = len(self.parents)
        self.J_template, self.J_dirs = a(model.J_template), a(model.J_shapedirs)  # (16,3), (16,3,10)
        self.tip_template, self.tip_dirs = a(model.tip_template), a(model.tip_shapedirs)  # (5,3), (5,3,10)
        self.tip_posedirs = a(model.tip_posedirs).T.reshape(5, 3, J - 1, 3, 3)  # per tip coordinate, per R entry
        #: our model's fingertips have no pose-corrective offsets worth a term (MANO's do): then they are skipped
        self.posed_tips = bool(np.abs(self.tip_posedirs).max() > 1e-7)  # metres per unit of R: ours are ~1e-8
        self.tip_weights = a(model.tip_weights)  # (5,16)
        self.order = a(model.keypoint_order).astype(int)  # keypoint -> index into [16 joints, 5 tips]
        self.owners = a(model.keypoint_owners).astype(int)  # keypoint -> the joint whose frame carries it
        self.offsets = np.zeros((21, 3)) if landmark_offsets is None else a(landmark_offsets)
        below = np.eye(J, dtype=bool)  # below[j, k]: joint j is joint k or lies below it in the chain
        for j in range(1, J):
            below[j] = below[self.parents[j]]
            below[j, j] = True
        self.below = below
        self.levels = []  # joints grouped by depth (root excluded), with their parents
        depth = [0] * J
        for j in range(1, J):
            depth[j] = depth[self.parents[j]] + 1
        for d in range(1, max(depth) + 1):
            js = [j for j in range(J) if depth[j] == d]
            self.levels.append((np.array(js), np.array([self.parents[j] for j in js])))
        self.tip_blend = self.tip_weights @ below.astype(np.float64)  # (5,16): tip t's skin weight on joints below k
        self.tip_below = self.tip_weights[:, None, :] * below.T[None]  # (5,16k,16j): w_tj where j is k or below it

    def forward(self, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray, jacobian: bool = False):
        """pose (16,3), betas (10,), transl (3,) -> keypoints (21,3); with ``jacobian`` also d keypoints /
        d (pose, betas, transl) as (21,3,48), (21,3,10) (the translation's is the identity)."""
        J = len(self.parents)
        if jacobian:
            R, Jr = rodrigues(pose, True)
        else:
            R = rodrigues(pose)
        rest = self.J_template + self.J_dirs @ betas  # (16,3)
        W = np.empty((J, 3, 3))
        P = np.empty((J, 3))
        W[0], P[0] = R[0], rest[0]
        for js, ps in self.levels:
            W[js] = W[ps] @ R[js]
            P[js] = P[ps] + (W[ps] @ (rest[js] - rest[ps])[..., None])[..., 0]
        tip_rest = self.tip_template + self.tip_dirs @ betas  # (5,3)
        feat = R[1:] - _EYE  # (15,3,3)
        if self.posed_tips:
            tip_rest = tip_rest + np.einsum("tcjab,jab->tc", self.tip_posedirs, feat)
        parts = (W[None] @ (tip_rest[:, None] - rest[None])[..., None])[..., 0] + P[None]  # (5,16,3) per joint
        tips = (self.tip_weights[:, None] @ parts)[:, 0]
        off = (W[self.owners] @ self.offsets[..., None])[..., 0]  # (21,3) the landmark offsets, posed
        points = np.concatenate([P, tips])[self.order] + off + transl
        if not jacobian:
            return points
        # --- rotations: keypoint q moves by a_{k,i} x V[q,k], a = W_k J_r(theta_k) e_i
        ang = W @ Jr  # (16,3,3): column i is a_{k,i}
        is_tip = self.order >= J
        V = np.zeros((21, J, 3))
        jq = np.where(is_tip, 0, self.order)
        Pj = P[jq] + off  # (21,3) the joint keypoints' points, without transl
        V[~is_tip] = (self.below[jq[~is_tip]][..., None] * (Pj[~is_tip, None] - P[None]))
        t_of = self.order[is_tip] - J  # which tip each tip keypoint is
        blended = self.tip_below @ parts  # (5,16,3): sum over joints j below k of w_tj x parts[t, j]
        V_tip = blended[t_of] - self.tip_blend[t_of][..., None] * P[None]
        V_tip = V_tip + self.below[self.owners[is_tip]][..., None] * off[is_tip][:, None]  # offsets turn too
        V[is_tip] = V_tip
        d_rot = _cross(ang.transpose(0, 2, 1)[None], V[:, :, None, :])  # (21,16,3 params,3 coords)
        # the fingertips' pose-corrective offsets: d tip_rest / d theta_k,i = posedirs . (R_k [J_r e_i]_x)
        d_rot = d_rot.transpose(0, 3, 1, 2).copy()  # (21,3 coords,16,3 params)
        if self.posed_tips:
            dR = R[1:, None] @ _skew(Jr[1:].transpose(0, 2, 1))  # (15,3 params,3,3)
            d_tip_rest = np.einsum("tcjab,jiab->tjic", self.tip_posedirs, dR)  # (5,15,3,3)
            moved = np.einsum("tj,jcd,tkid->tkic", self.tip_weights, W, d_tip_rest)  # (5,15,3,3)
            d_rot[is_tip, :, 1:, :] += moved[t_of].transpose(0, 3, 1, 2)
        d_pose = d_rot.reshape(21, 3, J * 3)
        # --- shape
        dP = np.empty((J, 3, self.J_dirs.shape[-1]))
        dP[0] = self.J_dirs[0]
        for js, ps in self.levels:
            dP[js] = dP[ps] + W[ps] @ (self.J_dirs[js] - self.J_dirs[ps])
        d_tips = np.einsum("tj,jcd,tjdl->tcl", self.tip_weights, W, self.tip_dirs[:, None] - self.J_dirs[None]) \
            + np.einsum("tj,jcl->tcl", self.tip_weights, dP)
        d_betas = np.concatenate([dP, d_tips])[self.order]
        return points, d_pose, d_betas

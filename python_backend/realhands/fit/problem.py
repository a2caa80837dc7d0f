"""The keypoint fit's loss as robust least squares in NumPy, with its exact Jacobian: what the solvers minimise.

The same terms, weights and knees as ``KeypointFitter.terms`` (tested equal to it), for one hand: per view the
projected keypoints against the detections (in units of the hand's size), the triangulated keypoints, MediaPipe's
world landmarks (aligned at the start of each stage), HandNet's keypoints (likewise; weighted by its uncertainty),
the one-view size terms (the 3D size against the world landmarks'; the projected size within a band of the
detection's), the pose prior, the joint limits and the shape prior. The keypoints and their derivatives come from
``realhands.fit.kinematics``; the projection, the 3D and size terms and the priors are differentiated here in closed
form, the joint limits (three Euler angles per joint, each a function of that joint's three parameters only) by
central differences per joint.

One evaluation with its Jacobian costs ~0.7 ms for a hand in two views on this CPU, against ~2 ms for the torch loss's
forward and backward passes (``KeypointFitter.terms``, which stays the reference: tests hold the two equal).
"""
from __future__ import annotations

import numpy as np

from ..conventions import MANO_PARAMS, PALM_KEYPOINTS, PARAM_SLICES
from .kinematics import KeypointKinematics, rodrigues

PALM_TIPS = np.asarray(PALM_KEYPOINTS[1:])  # the knuckles: with the wrist they measure the hand's size in the image

#: the packed parameter vector: the MANO parameters' order and sizes, the translation as (u, v) / IMAGE_T_PX and
#: log z in the reference view
LAYOUT = tuple(("image_t", n) if name == "transl" else (name, n) for name, n in MANO_PARAMS)
SIZE = sum(n for _, n in LAYOUT)
POSE, BETAS = PARAM_SLICES["hand_pose"], PARAM_SLICES["betas"]
#: the units of the loss's residuals: 2D in pixels as if the hand's wrist-to-knuckle distance were HAND_PX (so near
#: and far hands weigh the same), 3D in centimetres (CM per metre)
HAND_PX, CM = 40.0, 100.0
#: the translation's image position is optimised in hundreds of pixels (one unit moves the hand by ~100 px)
IMAGE_T_PX = 100.0
#: one view: the projected hand's size may differ from the detection's by this factor before it is penalised
#: (FitWeights.projected_size)
SIZE_BAND = 4.0
#: central-difference step of the joint-limit term's Euler angles (radians)
LIMIT_STEP = 1e-5


def pack(params: dict) -> np.ndarray:
    """{name: (1,n) or (n,)} with ``image_t`` -> (SIZE,)."""
    return np.concatenate([np.asarray(params[n], np.float64).reshape(-1) for n, _ in LAYOUT])


def unpack(x: np.ndarray) -> dict:
    out, at = {}, 0
    for name, n in LAYOUT:
        out[name] = x[at:at + n]
        at += n
    return out


def image_t_to_transl(q: np.ndarray, K: np.ndarray):
    """The packed translation (u / IMAGE_T_PX, v / IMAGE_T_PX, log z) in the camera K -> the translation (3,) in
    metres and its derivative (3,3) with respect to q."""
    z = np.exp(q[2])
    t = np.array([(q[0] * IMAGE_T_PX - K[0, 2]) / K[0, 0] * z, (q[1] * IMAGE_T_PX - K[1, 2]) / K[1, 1] * z, z])
    dq = np.zeros((3, 3))
    dq[0, 0] = IMAGE_T_PX * z / K[0, 0]
    dq[1, 1] = IMAGE_T_PX * z / K[1, 1]
    dq[:, 2] = t
    return t, dq


def keypoints_at(kin: KeypointKinematics, x: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(21,3) ``kin``'s keypoints (camera coordinates, metres) for the packed parameters x in the camera K."""
    p = unpack(x)
    pose = np.concatenate([p["global_orient"], p["hand_pose"]]).reshape(16, 3)
    return kin.forward(pose, p["betas"], image_t_to_transl(p["image_t"], K)[0])


def kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The rotation (3,3) minimising sum |R src_i - dst_i| over points (N,3) (both centred here), or (B,3,3) for
    batches (B,N,3)."""
    a = src - src.mean(-2, keepdims=True)
    b = dst - dst.mean(-2, keepdims=True)
    U, _, Vt = np.linalg.svd(np.swapaxes(b, -1, -2) @ a)
    D = np.ones(U.shape[:-1])
    D[..., 2] = np.sign(np.linalg.det(U @ Vt))
    return (U * D[..., None, :]) @ Vt


class FitConstants:
    """What every fit problem of one KeypointFitter shares, in NumPy, made once: its kinematics, the pose prior's
    matrix and mean, the joint frames, limits and signs, the size bones."""

    def __init__(self, fitter, kinematics: KeypointKinematics, bones: np.ndarray):
        self.kin = kinematics  # the keypoints where the detector marks them (landmark offsets)
        self.skeleton = KeypointKinematics(fitter.model)  # the skeleton's keypoints (no offsets)
        self.mean = fitter.mean.double().numpy()
        self.prior = (fitter.components.double() * fitter.inv_std.double()[:, None]).numpy()  # (45,45)
        self.frames = None if fitter.frames is None else fitter.frames.double().numpy()
        self.limits = None if fitter.limits is None else fitter.limits.double().numpy()
        self.signs = fitter.signs.double().numpy()
        self.bones = bones  # (n,2) the (child, parent) keypoints of the bones whose lengths sum to the hand's size


class FitProblem:
    """One hand's fit problem. ``views``: per camera (kp2d (21,2) px, K (3,3), R (3,3) and t (3,) from the reference
    camera or None for the reference itself, confidence (21,)); ``world_aligned`` (21,3) MediaPipe's root-relative
    world landmarks rotated onto the fit, or None; ``points3d`` (21,3) triangulated keypoints (NaN where unknown) or
    None; ``net``: (keypoints (21,3), weights (21,)) HandNet's root-relative keypoints rotated onto the fit and their
    weights (from its per-keypoint uncertainty), or None. ``fitter``: the KeypointFitter whose model, landmark offsets,
    weights and priors define the loss (its ``constants``)."""

    def __init__(self, fitter, views, world_aligned=None, points3d=None, net=None):
        self.w = w = fitter.w
        c = fitter.constants
        self.kin, self.mean, self.prior, self.bones = c.kin, c.mean, c.prior, c.bones
        self.frames, self.limits, self.signs = c.frames, c.limits, c.signs
        self.K = np.asarray(views[0][1], np.float64)
        self.views = []
        for kp2d, K, R, t, conf in views:
            kp2d = np.asarray(kp2d, np.float64)
            size = max(float(np.linalg.norm(kp2d[PALM_KEYPOINTS[1:]] - kp2d[:1], axis=-1).mean()), 1.0)
            self.views.append((kp2d, np.asarray(K, np.float64), None if R is None else np.asarray(R, np.float64),
                               None if t is None else np.asarray(t, np.float64), HAND_PX / size,
                               w.keypoints_2d * np.asarray(conf, np.float64)))
        self.points3d = None
        if points3d is not None:
            p = np.asarray(points3d, np.float64)
            per_point = np.ones(21)
            per_point[0] = w.triangulated_wrist
            self.points3d = (np.nan_to_num(p), w.triangulated_3d * np.isfinite(p).all(-1) * per_point)
        self.world = None if world_aligned is None else np.asarray(world_aligned, np.float64)
        self.net = None if net is None else (np.asarray(net[0], np.float64), np.asarray(net[1], np.float64))
        self.size_term = self.world is not None and points3d is None and len(views) == 1
        self.band = points3d is None and len(views) == 1 and w.projected_size > 0
        if self.size_term:
            self.world_size = self._hand_size(self.world)[0]

    # ---- pieces ---------------------------------------------------------------------------------------------------
    def _hand_size(self, p, dp=None):
        d = p[self.bones[:, 0]] - p[self.bones[:, 1]]
        n = np.linalg.norm(d, axis=-1)
        if dp is None:
            return n.sum(), None
        u = d / np.maximum(n, 1e-12)[:, None]
        return n.sum(), np.einsum("bc,bcf->f", u, dp[self.bones[:, 0]] - dp[self.bones[:, 1]])

    def _size_band(self, proj, d_proj, detected_size):
        """The projected-size term: the log ratio of the projected hand's size (mean wrist-to-knuckle distance, px)
        to the detection's beyond log SIZE_BAND, as a residual (1,1) with its Jacobian (1,1,SIZE) from the
        projection's (21,2,SIZE)."""
        d = proj[PALM_TIPS] - proj[0]
        n = np.linalg.norm(d, axis=-1)
        size = max(float(n.mean()), 1e-9)
        r, lim = np.log(size / detected_size), np.log(SIZE_BAND)
        excess = max(r - lim, 0.0) - max(-r - lim, 0.0)
        J = None
        if d_proj is not None:
            J = np.zeros((1, 1, SIZE))
            if excess != 0.0:
                u = d / np.maximum(n, 1e-12)[:, None]
                J[0, 0] = np.einsum("kc,kcf->f", u, d_proj[PALM_TIPS] - d_proj[0]) / len(n) / size
        return np.array([[excess]]), self.w.projected_size, None, J

    def _euler(self, pose15, joints=None):
        """(n,...,3) joint axis-angles -> (n,...,3) their anatomical angles (KeypointFitter.limit_excess); the 15
        joints, or the n listed in ``joints``."""
        frames = self.frames if joints is None else self.frames[joints]
        F = frames.reshape(len(frames), *([1] * (pose15.ndim - 2)), 3, 3)  # per joint, broadcast over the rest
        R = np.swapaxes(F, -1, -2) @ rodrigues(pose15) @ F
        b = np.arcsin(np.clip(R[..., 0, 2], -1 + 1e-6, 1 - 1e-6))
        a = np.arctan2(-R[..., 1, 2], R[..., 2, 2])
        c = np.arctan2(-R[..., 0, 1], R[..., 0, 0])
        return np.stack([a, b, c], -1) * self.signs

    def _transl(self, q):
        return image_t_to_transl(q, self.K)

    # ---- the loss -------------------------------------------------------------------------------------------------
    def terms(self, x: np.ndarray, jacobian: bool = False):
        """[(residuals (n,d), weight (n,) or a number, knee or None, Jacobian (n,d,SIZE) or None)], keypoints."""
        p_ = unpack(x)
        pose = np.concatenate([p_["global_orient"], p_["hand_pose"]]).reshape(16, 3)
        transl, dq = self._transl(p_["image_t"])
        if jacobian:
            pts, d_pose, d_betas = self.kin.forward(pose, p_["betas"], transl, jacobian=True)
            dp = np.concatenate([d_pose, d_betas, np.broadcast_to(dq, (21, 3, 3))], -1)  # (21,3,SIZE)
        else:
            pts, dp = self.kin.forward(pose, p_["betas"], transl), None
        w, out = self.w, []
        for kp2d, K, R, t, scale, weight in self.views:
            seen = pts if R is None else pts @ R.T + t
            z = np.maximum(seen[:, 2], 1e-4)
            proj = seen[:, :2] / z[:, None] * np.array([K[0, 0], K[1, 1]]) + K[:2, 2]
            J = None
            if jacobian:
                d_seen = dp if R is None else np.einsum("cd,ndf->ncf", R, dp)
                f = np.array([K[0, 0], K[1, 1]])[None, :, None]
                J = f * (d_seen[:, :2] - (seen[:, :2] / z[:, None])[..., None] * d_seen[:, 2:3]) / z[:, None, None]
            out.append(((proj - kp2d) * scale, weight, w.knee_2d_px, None if J is None else J * scale))
            if self.band:  # (the detection's size is HAND_PX / scale)
                out.append(self._size_band(proj, J, HAND_PX / scale))
        if self.points3d is not None:
            X, weight = self.points3d
            out.append(((pts - X) * CM, weight, w.knee_3d_cm, None if dp is None else dp * CM))
        if self.world is not None:
            out.append(((pts - pts[:1] - self.world) * CM, w.world_3d, w.knee_3d_cm,
                        None if dp is None else (dp - dp[:1]) * CM))
            if self.size_term:
                size, d_size = self._hand_size(pts, dp)
                out.append((np.array([[(size - self.world_size) * CM]]), w.world_size, None,
                            None if dp is None else d_size[None, None] * CM))
        if self.net is not None:
            X, weight = self.net
            out.append(((pts - pts[:1] - X) * CM, weight, w.knee_3d_cm, None if dp is None else (dp - dp[:1]) * CM))
        dev = (p_["hand_pose"] - self.mean) @ self.prior.T
        J = None
        if jacobian:
            J = np.zeros((45, 1, SIZE))
            J[:, 0, POSE] = self.prior
        out.append((dev[:, None], w.pose_prior, None, J))
        if w.joint_limits and self.frames is not None and self.limits is not None:
            pose15 = p_["hand_pose"].reshape(15, 3)
            ang = self._euler(pose15)
            lo, hi = self.limits[..., 0] - ang, ang - self.limits[..., 1]
            excess = np.stack([np.maximum(lo, 0.0), np.maximum(hi, 0.0)], -1)  # (15,3,2)
            J = None
            if jacobian:
                Jl = np.zeros((15, 3, 2, SIZE))
                past = np.flatnonzero(((lo > 0) | (hi > 0)).any(-1))  # the others' rows are zero (relu)
                if len(past):
                    steps = np.eye(3) * LIMIT_STEP  # (3 params, 3)
                    sub = pose15[past][:, None]
                    diff = self._euler(sub + steps[None], past) - self._euler(sub - steps[None], past)
                    diff = (diff + np.pi) % (2 * np.pi) - np.pi  # an angle at +-pi: across atan2's wrap, not 2 pi
                    d_ang = diff / (2 * LIMIT_STEP)  # (n, params, angles)
                    sign = np.stack([-(lo[past] > 0).astype(np.float64), (hi[past] > 0).astype(np.float64)], -1)
                    block = np.einsum("jia,jas->jasi", d_ang, sign)  # (n, angles, 2, params): d excess / d param
                    for i, j in enumerate(past):
                        Jl[j, :, :, POSE.start + 3 * j:POSE.start + 3 * j + 3] = block[i]
                J = Jl.reshape(90, 1, SIZE)
            out.append((excess.reshape(90, 1), w.joint_limits, None, J))
        J = None
        if jacobian:
            J = np.zeros((10, 1, SIZE))
            J[np.arange(10), 0, BETAS.start + np.arange(10)] = 1.0
        out.append((p_["betas"][:, None], w.shape_prior, None, J))
        return out, pts

    def gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """cost and its gradient (SIZE,): 2 J^T W r summed term by term (what L-BFGS needs, without stacking the
        Jacobian; einsum rather than BLAS, whose thread pool contends with the live process's threads)."""
        cost, grad = 0.0, np.zeros(SIZE)
        for r, weight, knee, J in self.terms(x, True)[0]:
            c, g = _robust(r, weight, knee)
            cost += c
            grad += np.einsum("nd,ndf->f", (2.0 * g)[:, None] * r, J)
        return cost, grad

    def evaluate(self, x: np.ndarray, jacobian: bool = False):
        """cost, and with ``jacobian`` the stacked residuals (M,), their IRLS weights (M,) and Jacobian (M,SIZE)."""
        cost, rs, gs, Js = 0.0, [], [], []
        for r, weight, knee, J in self.terms(x, jacobian)[0]:
            c, g = _robust(r, weight, knee)
            cost += c
            if jacobian:
                rs.append(r.reshape(-1))
                gs.append(np.repeat(g, r.shape[-1]))
                Js.append(J.reshape(-1, SIZE))
        if not jacobian:
            return cost
        return cost, np.concatenate(rs), np.concatenate(gs), np.concatenate(Js)


def _robust(r: np.ndarray, weight, knee: float | None) -> tuple[float, np.ndarray]:
    """One term's cost and IRLS weights (n,) for residuals (n,d): weighted squares, or with ``knee`` the pseudo-Huber
    knee^2 (sqrt(1 + |r|^2 / knee^2) - 1), whose weight per residual is 1/2 / sqrt(...)."""
    r2 = (r ** 2).sum(-1)
    wt = np.broadcast_to(np.asarray(weight, np.float64), r2.shape)
    if knee is None:
        return float((wt * r2).sum()), wt
    root = np.sqrt(1.0 + r2 / (knee * knee))
    return float((wt * knee * knee * (root - 1.0)).sum()), wt * 0.5 / root

"""Fit the hand model to 2D keypoints (known intrinsics) and MediaPipe's metric 3D landmarks.

Unknowns per hand, in camera coordinates (OpenCV axes, metres): global rotation (3), hand pose (45,
absolute axis-angle), shape (10), translation (3). Loss:

* 2D: pseudo-Huber distance between projected and detected keypoints, in units of the hand's size in
  pixels (so near and far hands weigh the same);
* 3D: MediaPipe's world landmarks carry metric shape and articulation but their orientation is tens of degrees
  off, so they are rotated (Kabsch) onto our root-relative joints at the start of each stage before comparing;
* one view: the hand's 3D size against the world landmarks', and its projected size held within a factor
  ``problem.SIZE_BAND`` of the detection's (else depth is free to run off to where the hand is a point);
* HandNet's keypoints, in a cold fit from its estimate, weighted by its per-keypoint uncertainty (``handnet_3d``);
* priors: a Gaussian on the pose in the model's PCA space, joint limits (anatomical angles), shape.

Absolute position follows from the intrinsics and the hand's size: the initial depth is fx x (3D wrist-to-
knuckles length) / (the same in pixels). The loss is written twice: here in torch (:meth:`terms`, :meth:`loss`: the
reference, batched) and in NumPy with its exact Jacobian (``realhands.fit.problem``, ~3x cheaper per evaluation;
tests hold them equal), which the optimisers use: L-BFGS (the default) or Levenberg-Marquardt (``solver="lm"``,
``realhands.fit.solver``). A warm start (the previous frame's result) needs few iterations (WARM_ITERATIONS). LM
reaches lower losses, but on MediaPipe's detections a fully minimised loss is not a more accurate hand
(tools/bench/fit_solvers.py, docs/live.md): L-BFGS stays the default.

Several calibrated views (``fit_views``: a stereo pair, or any rig): the 2D term is summed over the views, each
view's keypoints against the model's projected into that camera, and the keypoints triangulated from the views
add a 3D term; that pins depth and scale, which one view can only guess from the hand's size. The shape can be
held (``betas``: a calibrated user) so that only pose and placement move.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..camera import Camera, backproject_points, mean_focal, project_points, triangulate
from ..config import FIT_SOLVERS
from ..conventions import KEYPOINT_PARENTS, PALM_KEYPOINTS
from ..model import HandModel
from ..model.lbs import matrix_to_axis_angle
from . import problem
from .kinematics import KeypointKinematics
from .problem import CM, HAND_PX, IMAGE_T_PX
from .solver import lbfgs, levenberg_marquardt

PALM = PALM_KEYPOINTS
#: the bones whose summed length measures a hand's size: the finger bones and the knuckle line, not the wrist's
#: (where detectors and annotations disagree most about the point)
SIZE_BONES = torch.tensor([(c, p) for c, p in enumerate(KEYPOINT_PARENTS) if p > 0] + [(9, 5), (13, 9), (17, 13)])
#: L-BFGS iterations of the full fit: from scratch, and from a start close to the answer (the previous video frame,
#: HandNet's estimate). Four warm iterations could not follow a hand that changes its gesture within a few frames:
#: on synthetic 60-frame sequences at 30 fps the video fit then stayed near the mean pose (docs/perception_fit.md).
COLD_ITERATIONS = 40
WARM_ITERATIONS = 10
#: a cold start first turns and places the mean hand (rotation and translation only) for this many iterations
ORIENT_ITERATIONS = 10
#: a restart of a tracked hand seen in two views (its warm fit lost it): one stage of this many iterations instead
#: of two of COLD_ITERATIONS, after the orientation stage only where the triangulated palm did not turn and place
#: the start (Kabsch, ``guess_from_points``): there the orientation stage only cost time. Without it the stereo
#: benchmark (cached detections) went 21.6 / 18.9 / 10.9 -> 21.4 / 18.7 / 10.8 mm, wrist depth 8.7 -> 8.0 mm,
#: jitter 4.8 -> 4.7 mm/frame², and a restart is a third shorter (25 iterations instead: 22.3 / 18.8 / 10.9; an
#: acquisition without its orientation stage too: 21.8 / 18.9 / 10.9, jitter 5.0, so acquisitions keep it).
#: Before (2026-11-27), the stereo benchmark's six sequences: the
#: same accuracy (absolute / root-relative / PA-MPJPE 21.7 / 19.0 / 11.0 -> 21.6 / 18.9 / 10.9 mm, the restart
#: starting from the triangulated keypoints with the mean gesture and the tracked shape rather than from HandNet's
#: estimate), and the live clip's frames that restart (a fifth of them) ~110 -> ~45 ms: stereo in real time 20 ->
#: 27 fps (docs/live.md)
RESTART_ITERATIONS = 20
#: a HandNet keypoint whose predicted sigma is this (mm) weighs FitWeights.handnet_3d in the fit; with handnet_3d =
#: world_3d it then pulls as hard as a MediaPipe world landmark: the order of those landmarks' per-keypoint error
#: after alignment on the real photos (PA-MPJPE ~11 mm)
HANDNET_REFERENCE_SIGMA_MM = 11.0


def hand_size(points: torch.Tensor) -> torch.Tensor:
    """(B,21,3) keypoints -> (B,) the summed length of ``SIZE_BONES`` (the points' unit)."""
    return (points[:, SIZE_BONES[:, 0]] - points[:, SIZE_BONES[:, 1]]).norm(dim=-1).sum(1)


@dataclass
class FitWeights:
    """Loss weights. 2D residuals are in pixels as if the hand were 100 px long (wrist to knuckles ~ 40 px),
    3D residuals in centimetres; both through a pseudo-Huber with the given knees."""

    keypoints_2d: float = 1.0
    knee_2d_px: float = 3.0
    world_3d: float = 1.0
    knee_3d_cm: float = 1.0
    pose_prior: float = 0.05
    joint_limits: float = 100.0
    shape_prior: float = 0.05
    triangulated_3d: float = 1.0  # several views: the keypoints triangulated from them, in cm
    #: ... of which the wrist's weighs this many times as much: it places the hand (the root), and MediaPipe's wrist
    #: point triangulates to within a few mm in depth (median −3..+6 mm on the stereo benchmark's sequences) where
    #: its knuckles, marked on the back of the hand, are up to 24 mm near; with it at 1 the fit put the wrist 10–20
    #: mm too near on three of six sequences. Stereo benchmark (detections shared): wrist depth median 11.4 -> 8.5 mm,
    #: root-relative 19.9 -> 19.3, absolute 21.3 -> 21.4, PA 11.0 -> 11.1 (4: depth 10.4; 30: 7.8 but PA 11.4 and
    #: absolute 22.3).
    triangulated_wrist: float = 10.0
    #: one view: the hand's size (summed bone lengths, cm) against MediaPipe's world landmarks'. One view cannot
    #: tell a small near hand from a large far one; MediaPipe's metric landmarks (learned on real hands) can, and
    #: on the real-photo set they put the wrist at the right depth where the shape prior alone put it ~3 cm close
    #: (docs/RESULTS.md, real photos). Views or triangulated points measure size themselves: then it is off.
    #: Weight 2 rather than 1 (real photos, ge2019_dev, keypoint fit: wrist median 19.7 -> 16.9 mm, its depth bias
    #: -11 -> -2 mm, PA-MPJPE 10.85 -> 10.77, root-relative 20.6 -> 20.8; 4 gave 16.2 but PA 10.88 and RR 21.1). On
    #: our renders MediaPipe's size is off by more (synthetic mono: depth median 45.7 -> 42.7 mm, mean MPJPE 58.5 ->
    #: 61.2): the photos decide.
    world_size: float = 2.0
    #: one view: the projected hand's size (wrist to knuckles, px) held within a factor ``problem.SIZE_BAND`` of the
    #: detection's, by a penalty on their log ratio beyond it (like the joint limits'). Depth is otherwise free to run:
    #: a start turned far from its keypoints, or 3D terms at odds with them, can lower the robust 2D cost by shrinking
    #: the hand to a point tens of metres away (a real photo with HandNet's keypoints weighted in: 313 m).
    projected_size: float = 100.0
    #: HandNet's keypoints in a cold fit that starts from its estimate (the hybrid), when its uncertainty head ships
    #: (``realhands.net.uncertainty``): root-relative, rotated onto the fit like the world landmarks, each weighted
    #: by this x (HANDNET_REFERENCE_SIGMA_MM / its sigma)^2, so the fit weighs HandNet against MediaPipe's landmarks
    #: keypoint by keypoint. 0: HandNet gives only the start (articulation and shape).
    handnet_3d: float = 0.0


@dataclass
class View:
    """One camera's view of a hand: its 21 keypoints (px), its camera, the transform from the reference camera's
    coordinates to this camera's (4,4; None or identity for the reference view itself) and per-keypoint
    confidence (21,) (0 leaves a keypoint out)."""

    keypoints_2d: np.ndarray
    camera: Camera
    T_from_ref: np.ndarray | None = None
    confidence: np.ndarray | None = None


@dataclass
class FitResult:
    """Fitted parameters (B rows) and what they give. Camera coordinates, metres; keypoint order."""

    global_orient: torch.Tensor  # (B,3)
    hand_pose: torch.Tensor  # (B,45) absolute (flat-hand mean)
    betas: torch.Tensor  # (B,10)
    transl: torch.Tensor  # (B,3)
    joints3d: torch.Tensor  # (B,21,3) the skeleton's keypoints
    keypoints_2d: torch.Tensor  # (B,21,2) the keypoints as the detector marks them (landmark offsets), projected
    reprojection_px: torch.Tensor  # (B,) mean 2D error against the detections
    seconds: float = 0.0
    iterations: int = 0
    extra: dict = field(default_factory=dict)
    #: (B,) the loss reached (its last stage's terms, MediaPipe's world landmarks re-aligned to the result): what
    #: decides between fits of the same detections, e.g. as the left and as the right hand (each with landmarks of its
    #: own chirality)
    objective: torch.Tensor | None = None


def _project(points, K):
    return project_points(points, K, eps=1e-4)


def _mean_error(proj: torch.Tensor, kp2d: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
    """(B,) mean px distance of projected (B,21,2) from detected keypoints over those with confidence > 0 (all when
    none has)."""
    d = (proj - kp2d).norm(dim=-1)
    used = (conf > 0).to(d.dtype)
    used = torch.where(used.sum(1, keepdim=True) > 0, used, torch.ones_like(used))
    return (d * used).sum(1) / used.sum(1)


def _kabsch(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Rotations (B,3,3) minimising |R src_i - dst_i| over points (B,N,3) (both centred): ``problem.kabsch``."""
    return torch.as_tensor(problem.kabsch(src.detach().double().numpy(), dst.detach().double().numpy()),
                           dtype=src.dtype)


def _loss_order(fit_one_result) -> tuple:
    """Sort key of ``_fit_one`` results: lowest loss first, a NaN loss last (``min`` would keep a NaN met first)."""
    cost = float(fit_one_result[2])
    return (not np.isfinite(cost), cost)


def _pseudo_huber(r2: torch.Tensor, c: float) -> torch.Tensor:
    return c * c * (torch.sqrt(1.0 + r2 / (c * c)) - 1.0)


def term_cost(residual: torch.Tensor, weight, knee: float | None) -> torch.Tensor:
    """(B,) one loss term's cost: residual (B,n,d), weight (B,n) or a number, pseudo-Huber knee or None."""
    r2 = (residual ** 2).sum(-1)
    return (weight * (r2 if knee is None else _pseudo_huber(r2, knee))).sum(1)


def _euler_xyz(R: torch.Tensor) -> torch.Tensor:
    """Intrinsic XYZ angles of rotation matrices (...,3,3) (R = Rx(a) Ry(b) Rz(c))."""
    b = torch.asin(R[..., 0, 2].clamp(-1 + 1e-6, 1 - 1e-6))
    a = torch.atan2(-R[..., 1, 2], R[..., 2, 2])
    c = torch.atan2(-R[..., 0, 1], R[..., 0, 0])
    return torch.stack([a, b, c], -1)


class KeypointFitter:
    """Fits one HandModel (one handedness) to batches of detections.

    Args:
        model: a HandModel with ``flat_hand_mean=True`` (poses are absolute).
        landmark_offsets: (21,3) where the detector marks each keypoint relative to the skeleton
            (``realhands.fit.landmarks``); detections are compared with those points. None: with the joints.
    """

    def __init__(self, model: HandModel, weights: FitWeights | None = None, landmark_offsets=None,
                 solver: str = "lbfgs"):
        if not model.flat_hand_mean or model.use_pca:
            raise ValueError("KeypointFitter needs HandModel(flat_hand_mean=True, use_pca=False)")
        if solver not in FIT_SOLVERS:
            raise ValueError(f"solver must be one of {FIT_SOLVERS}, not {solver!r}")
        self.solver = solver
        self.model = model
        self.w = weights or FitWeights()
        d = model.data
        dt = model.v_template.dtype
        self.offsets = None if landmark_offsets is None else torch.as_tensor(np.asarray(landmark_offsets), dtype=dt)
        self.mean = torch.as_tensor(d.hands_mean, dtype=dt)
        self.components = torch.as_tensor(d.hands_components, dtype=dt)
        std = d.hands_pca_std if d.hands_pca_std is not None else np.ones(45)
        self.inv_std = torch.as_tensor(1.0 / np.maximum(std, 0.05), dtype=dt)
        self.frames = None if d.joint_frames is None else torch.as_tensor(d.joint_frames[1:], dtype=dt)
        self.limits = None if d.joint_limits is None else torch.as_tensor(d.joint_limits[1:], dtype=dt)
        self.signs = torch.tensor([1.0, -1.0, -1.0] if d.side == "left" else [1.0, 1.0, 1.0], dtype=dt)
        with torch.no_grad():
            z = torch.zeros(1, 3, dtype=dt)
            rest = model.keypoints(z, self.mean[None], torch.zeros(1, 10, dtype=dt), z, self.offsets)[0]
        self.rest_keypoints = rest  # mean pose, mean shape, model space, as the detector marks them
        # the same keypoints and priors in NumPy, for the solvers (realhands.fit.problem), made once
        self.constants = problem.FitConstants(self, KeypointKinematics(model, self.offsets), SIZE_BONES.numpy())

    # ---- initialisation ------------------------------------------------------------------------------------
    def initial_guess(self, kp2d: torch.Tensor, K: torch.Tensor, world: torch.Tensor | None) -> dict:
        """Cold start: mean pose and shape, rotation from the world landmarks, depth from the hand's size."""
        B, dt = kp2d.shape[0], self.mean.dtype
        rest = self.rest_keypoints[None].expand(B, -1, -1)
        if world is not None:
            R = _kabsch(rest[:, PALM] - rest[:, :1], world[:, PALM] - world[:, :1])
        else:
            R = torch.eye(3, dtype=dt).expand(B, 3, 3)
        size3d = (rest[:, PALM[1:]] - rest[:, :1]).norm(dim=-1).mean(1)
        size2d = (kp2d[:, PALM[1:]] - kp2d[:, :1]).norm(dim=-1).mean(1).clamp_min(1.0)
        depth = mean_focal(K) * size3d / size2d
        centre3d = backproject_points(kp2d[:, PALM].mean(1)[:, None], depth[:, None], K)[:, 0]
        rest_centre = (R @ rest[:, PALM].mean(1)[..., None])[..., 0]
        return {"global_orient": matrix_to_axis_angle(R), "hand_pose": self.mean[None].expand(B, -1).clone(),
                "betas": torch.zeros(B, 10, dtype=dt), "transl": centre3d - rest_centre}

    # ---- loss -----------------------------------------------------------------------------------------------
    def limit_excess(self, hand_pose: torch.Tensor) -> torch.Tensor | None:
        """(B,15,3,2) how far each joint's anatomical angles lie below their lower and above their upper limit
        (radians, 0 within), or None for a model without limits."""
        if self.frames is None or self.limits is None:
            return None
        from ..model.lbs import axis_angle_to_matrix

        R = axis_angle_to_matrix(hand_pose.reshape(*hand_pose.shape[:-1], 15, 3))
        ang = _euler_xyz(self.frames.transpose(1, 2) @ R @ self.frames) * self.signs
        return torch.stack([torch.relu(self.limits[..., 0] - ang), torch.relu(ang - self.limits[..., 1])], -1)

    def terms(self, params: dict, views: list, world_aligned, points3d=None, net=None):
        """The loss's terms and the keypoints (B,21,3): a list of (residuals (B,n,d), weight (B,n) or a number,
        pseudo-Huber knee or None). Each term adds weight x huber_knee(|r|^2) (or weight x |r|^2 without a knee)
        per hand. ``views``: per camera (kp2d (B,21,2), K (B,3,3), R (3,3) and t (3,) from the reference camera, or
        None for the reference itself, conf (B,21)); ``world_aligned``: MediaPipe's world landmarks, root-relative
        and already rotated onto the fit (see :meth:`fit`), or None; ``points3d``: (B,21,3) keypoints triangulated
        from the views (NaN where unknown), or None; ``net``: (HandNet's root-relative keypoints rotated onto the fit
        (B,21,3), their weights (B,21)) or None. The optimisers minimise the same terms written in NumPy with
        their Jacobian (``realhands.fit.problem.FitProblem``, tested equal to these)."""
        w = self.w
        joints = self.detected(params)
        out = []
        band = len(views) == 1 and points3d is None and w.projected_size > 0
        for kp2d, K, R, t, conf in views:
            seen = joints if R is None else joints @ R.T + t
            size = (kp2d[:, PALM[1:]] - kp2d[:, :1]).norm(dim=-1).mean(1).clamp_min(1.0)
            proj = _project(seen, K)
            out.append(((proj - kp2d) * (HAND_PX / size)[:, None, None], w.keypoints_2d * conf, w.knee_2d_px))
            if band:
                r = torch.log((proj[:, PALM[1:]] - proj[:, :1]).norm(dim=-1).mean(1).clamp_min(1e-9) / size)
                lim = float(np.log(problem.SIZE_BAND))
                out.append(((torch.relu(r - lim) - torch.relu(-r - lim))[:, None, None], w.projected_size, None))
        if points3d is not None:
            known = torch.isfinite(points3d).all(-1).to(joints.dtype)
            per_point = torch.ones(21, dtype=joints.dtype)
            per_point[0] = w.triangulated_wrist
            out.append(((joints - torch.nan_to_num(points3d)) * CM, w.triangulated_3d * known * per_point,
                        w.knee_3d_cm))
        if world_aligned is not None:
            out.append(((joints - joints[:, :1] - world_aligned) * CM, w.world_3d, w.knee_3d_cm))
            if points3d is None and len(views) == 1:
                out.append((((hand_size(joints) - hand_size(world_aligned)) * CM)[:, None, None], w.world_size,
                            None))
        if net is not None:
            out.append(((joints - joints[:, :1] - net[0]) * CM, net[1], w.knee_3d_cm))
        dev = (params["hand_pose"] - self.mean) @ self.components.T * self.inv_std
        out.append((dev[..., None], w.pose_prior, None))
        excess = self.limit_excess(params["hand_pose"]) if w.joint_limits else None
        if excess is not None:
            out.append((excess.flatten(1)[..., None], w.joint_limits, None))
        out.append((params["betas"][..., None], w.shape_prior, None))
        return out, joints

    def loss(self, params: dict, views: list, world_aligned, points3d=None, net=None):
        """Per-hand loss (B,) and keypoints (B,21,3): the sum of :meth:`terms` (same arguments)."""
        terms, joints = self.terms(params, views, world_aligned, points3d, net)
        return sum(term_cost(*t) for t in terms), joints

    def detected(self, params: dict) -> torch.Tensor:
        """(B,21,3) the model's keypoints where the detector marks them (the skeleton's, moved by the landmark
        offsets): what detections are compared with."""
        return self.model.keypoints(params["global_orient"], params["hand_pose"], params["betas"], params["transl"],
                                    landmark_offsets=self.offsets)

    # ---- fitting --------------------------------------------------------------------------------------------
    @staticmethod
    def _to_image_params(transl, K):
        """Translation (B,3) -> (u/100, v/100, log z): the projection of the model origin in hundreds of pixels
        and log depth, which LBFGS handles far better than metres (one unit moves the image by ~100 px)."""
        z = transl[:, 2].clamp_min(1e-3)
        uv = project_points(transl[:, None], K, eps=1e-3)[:, 0]
        return torch.stack([uv[:, 0] / IMAGE_T_PX, uv[:, 1] / IMAGE_T_PX, torch.log(z)], -1)

    def _fit_one(self, start, views, world, stages, points3d=None, net=None):
        """Fit one hand (parameters (1,n) in ``start``) by stages [(free parameter names, iterations)], MediaPipe's
        world landmarks (and ``net``: HandNet's root-relative keypoints (21,3) with their weights (21,)) rotated onto
        the fit (Kabsch) at the start of each; the loss in NumPy with its exact Jacobian
        (``realhands.fit.problem``), minimised by ``self.solver``. Returns the parameters (1,n), the iterations, the
        final loss (the world landmarks re-aligned to the result) and, in NumPy, the result's keypoints where the
        detector marks them and the skeleton's (21,3)."""
        K = views[0][1]  # the translation is parameterised in the reference view (image position and log depth)
        dt = self.mean.dtype
        Kn = K[0].double().numpy()
        x = problem.pack(dict(start, image_t=self._to_image_params(start["transl"], K)))
        np_views = [(kp[0].double().numpy(), k[0].double().numpy(), None if R is None else R.double().numpy(),
                     None if t is None else t.double().numpy(), c[0].double().numpy()) for kp, k, R, t, c in views]
        p3 = None if points3d is None else points3d[0].double().numpy()
        rel_world = None if world is None else world[0].double().numpy() - world[0, :1].double().numpy()
        kin = self.constants.kin

        def aligned(marked, rel=rel_world):  # root-relative points turned onto the fit's keypoints
            if rel is None:
                return None
            return rel @ problem.kabsch(rel, marked - marked[:1]).T

        def net_term(marked):
            return None if net is None else (aligned(marked, net[0]), net[1])

        minimise = levenberg_marquardt if self.solver == "lm" else lbfgs

        iters_done = 0
        for names, iters in stages:
            now = problem.keypoints_at(kin, x, Kn)
            fp = problem.FitProblem(self, np_views, aligned(now), p3, net_term(now))
            free = np.concatenate([np.full(n, name in names) for name, n in problem.LAYOUT])
            sol = minimise(fp, x, free, iters)
            x, iters_done = sol.x, iters_done + sol.iterations
        marked = problem.keypoints_at(kin, x, Kn)
        cost = problem.FitProblem(self, np_views, aligned(marked), p3, net_term(marked)).evaluate(x)
        p = problem.unpack(x)
        p["transl"] = problem.image_t_to_transl(p.pop("image_t"), Kn)[0]
        final = {k: torch.as_tensor(v[None], dtype=dt) for k, v in p.items()}
        return final, iters_done, torch.tensor(cost, dtype=dt), marked, \
            problem.keypoints_at(self.constants.skeleton, x, Kn)

    def with_articulation(self, start: dict, articulation: dict | None) -> dict:
        """A cold start whose articulation and shape come from ``articulation`` (HandNet's estimate: hand_pose (45,)
        and betas (10,)); its orientation and placement stay the keypoints' (the cold stages fit them first). On
        real photos this start beats both the mean pose and HandNet's whole estimate as the start (docs/RESULTS.md):
        HandNet reads the fingers better than it places and turns the hand."""
        if articulation is None:
            return start
        out = dict(start)
        for name in ("hand_pose", "betas"):
            v = torch.as_tensor(np.asarray(articulation[name], np.float64), dtype=start[name].dtype)
            out[name] = v.reshape(1, -1).expand_as(start[name]).clone()
        return out

    def _cold_starts(self, guess: dict, articulation: dict | None, also_from_mean: bool) -> list[dict]:
        """A cold fit's starts: ``guess`` with HandNet's articulation and shape (:meth:`with_articulation`), and with
        ``also_from_mean`` the mean hand's ``guess`` itself as a second (the lower loss wins)."""
        starts = [self.with_articulation(guess, articulation)]
        if also_from_mean and articulation is not None:
            starts.append(guess)
        return starts

    def handnet_term(self, articulation: dict | None):
        """HandNet's keypoints as a term of a cold fit: (its root-relative keypoints where the detector marks them
        (21,3), their weights (21,)), from its estimate's orientation, articulation and shape and its per-keypoint
        sigma (``joint_sigma_mm`` (21,) in ``articulation``); None without a sigma or with ``handnet_3d`` = 0."""
        if articulation is None or self.w.handnet_3d <= 0 or articulation.get("joint_sigma_mm") is None:
            return None
        sigma = np.asarray(articulation["joint_sigma_mm"], np.float64).reshape(21)
        if not (np.isfinite(sigma).all() and (sigma > 0).all()):
            return None
        dt = self.mean.dtype
        params = {n: torch.as_tensor(np.asarray(articulation[n], np.float64).reshape(1, -1), dtype=dt)
                  for n in ("global_orient", "hand_pose", "betas")}
        params["transl"] = torch.zeros(1, 3, dtype=dt)
        with torch.no_grad():
            kp = self.detected(params)[0].double().numpy()
        return kp - kp[:1], self.w.handnet_3d * (HANDNET_REFERENCE_SIGMA_MM / sigma) ** 2

    def fit(self, keypoints_2d, K, world=None, confidence=None, init: dict | None = None,
            iterations: int | None = None, betas=None, placement_only: bool = False,
            articulation: dict | None = None, also_from_mean: bool = False) -> FitResult:
        """Fit B hands (each on its own). keypoints_2d (B,21,2) px; K (B,3,3); world (B,21,3) m or None;
        confidence (B,21) (0 leaves a keypoint out, also of the reprojection error); ``init``: a previous
        FitResult's parameters (warm start; default: cold start); ``betas`` (10,): hold the shape (a calibrated
        user: the hand's size is then known, and so is its depth); ``placement_only``: move the hand only (its
        articulation, orientation and shape held from ``init``, which it needs); ``articulation``: without ``init``,
        the cold start's articulation and shape (:meth:`with_articulation`: HandNet's estimate), and with its
        ``joint_sigma_mm`` HandNet's keypoints as a term (:meth:`handnet_term`); ``also_from_mean``: a cold fit
        with ``articulation`` also starts from the mean hand, and the lower loss wins (two local minima tried)."""
        if placement_only and init is None:
            raise ValueError("placement_only needs init (the hand to place)")
        t0 = time.perf_counter()
        dt = self.mean.dtype
        kp2d = torch.as_tensor(np.asarray(keypoints_2d), dtype=dt)
        K = torch.as_tensor(np.asarray(K), dtype=dt)
        world = None if world is None else torch.as_tensor(np.asarray(world), dtype=dt)
        conf = torch.ones(kp2d.shape[:2], dtype=dt) if confidence is None else torch.as_tensor(confidence, dtype=dt)
        warm = init is not None
        if warm:
            starts = [{k: torch.as_tensor(np.asarray(v), dtype=dt) for k, v in init.items()}]
        else:
            starts = self._cold_starts(self.initial_guess(kp2d, K, world), articulation, also_from_mean)
        n_iter = iterations or (WARM_ITERATIONS if warm else COLD_ITERATIONS)
        names = ["global_orient", "hand_pose", "betas", "image_t"]
        if betas is not None:
            held = torch.as_tensor(np.asarray(betas, np.float64)[None, :10], dtype=dt).expand(kp2d.shape[0], -1)
            starts = [dict(st, betas=held) for st in starts]
            names.remove("betas")
        if placement_only:
            names = ["image_t"]
        stages = [] if warm else [(["global_orient", "image_t"], ORIENT_ITERATIONS)]
        stages.append((names, n_iter))
        net = None if warm or placement_only else self.handnet_term(articulation)
        results, costs, total_iters, marked, joints = [], [], 0, [], []
        for b in range(kp2d.shape[0]):
            tries = [self._fit_one({k: v[b:b + 1] for k, v in st.items()},
                                   [(kp2d[b:b + 1], K[b:b + 1], None, None, conf[b:b + 1])],
                                   None if world is None else world[b:b + 1], stages, net=net) for st in starts]
            res, _, cost, m, j = min(tries, key=_loss_order)  # the lowest loss
            it = sum(t[1] for t in tries)
            results.append(res)
            costs.append(cost.reshape(1).to(dt))
            total_iters += it
            marked.append(m)
            joints.append(j)
        out = {k: torch.cat([r[k] for r in results]) for k in results[0]} if results else \
            {k: torch.zeros(0, n, dtype=dt) for k, n in (("global_orient", 3), ("hand_pose", 45), ("betas", 10),
                                                         ("transl", 3))}
        joints = torch.as_tensor(np.stack(joints) if joints else np.zeros((0, 21, 3)), dtype=dt)
        proj = _project(torch.as_tensor(np.stack(marked) if marked else np.zeros((0, 21, 3)), dtype=dt), K)
        err = _mean_error(proj, kp2d, conf)
        return FitResult(out["global_orient"], out["hand_pose"], out["betas"], out["transl"], joints, proj, err,
                         time.perf_counter() - t0, int(total_iters),
                         objective=torch.cat(costs) if costs else torch.zeros(0, dtype=dt))

    # ---- several views ------------------------------------------------------------------------------------------
    def fit_views(self, views: list[View], world=None, init: dict | None = None, iterations: int | None = None,
                  betas=None, placement_only: bool = False, articulation: dict | None = None,
                  also_from_mean: bool = False, restart: bool = False, finish: bool = True,
                  resume: bool = False) -> FitResult:
        """Fit one hand to its keypoints in several calibrated views (the first is the reference: parameters are in
        its camera coordinates). ``world`` (21,3): MediaPipe's world landmarks of the reference view, or None;
        ``init``: a start (the previous frame), else a cold start from the triangulated
        keypoints; ``betas`` (10,): hold the shape (a calibrated user) and fit pose and placement only;
        ``placement_only``: move the hand only (as in :meth:`fit`; needs ``init``); ``articulation``,
        ``also_from_mean``: the cold start's articulation and shape, and a second start (as in :meth:`fit`);
        ``restart``: a cold start of a tracked hand, RESTART_ITERATIONS long (one stage, after the orientation stage
        only where the palm was not triangulated); ``finish=False``: a cold start stops before its last stage (the
        world landmarks re-aligned, COLD_ITERATIONS), which ``resume=True`` with ``init`` = its result (and the same
        views, world, betas and articulation) runs, to the same result: two sides compared before only the better is
        finished (exactly in float64; in float32 to its rounding, the result passing through float32 parameters).
        With ``also_from_mean`` the better start would be chosen before the last stage, not after it as in the full
        fit: not allowed.
        ``extra`` of the result:
        ``points3d`` (21,3) the triangulated keypoints, ``reprojection_px`` per view (over its keypoints with
        confidence > 0)."""
        if placement_only and init is None:
            raise ValueError("placement_only needs init (the hand to place)")
        if not finish and (also_from_mean or init is not None or restart):
            raise ValueError("finish=False is a cold fit's (from one start, not a restart)")
        if resume and (init is None or placement_only):
            raise ValueError("resume needs init (a finish=False fit's result)")
        t0 = time.perf_counter()
        dt = self.mean.dtype
        tv = []
        for v in views:
            T = None if v.T_from_ref is None else np.asarray(v.T_from_ref, np.float64)
            conf = np.ones(21) if v.confidence is None else np.asarray(v.confidence, np.float64)
            tv.append((torch.as_tensor(np.asarray(v.keypoints_2d, np.float64)[None], dtype=dt),
                       v.camera.K_tensor(dt)[None],
                       None if T is None or np.allclose(T, np.eye(4)) else torch.as_tensor(T[:3, :3], dtype=dt),
                       None if T is None or np.allclose(T, np.eye(4)) else torch.as_tensor(T[:3, 3], dtype=dt),
                       torch.as_tensor(conf[None], dtype=dt)))
        X = None
        if len(views) >= 2:
            uvs = [np.where((np.ones(21) if v.confidence is None else np.asarray(v.confidence))[:, None] > 0,
                            np.asarray(v.keypoints_2d, np.float64), np.nan) for v in views]
            X = triangulate([v.camera for v in views],
                            [np.eye(4) if v.T_from_ref is None else v.T_from_ref for v in views], uvs)
            X[~(X[:, 2] > 0.05)] = np.nan  # behind or at the cameras: a mismatch, not a point
        points3d = None if X is None or np.isnan(X).all() else torch.as_tensor(X[None], dtype=dt)
        w = None if world is None else torch.as_tensor(np.asarray(world, np.float64)[None], dtype=dt)
        from_points = init is None and points3d is not None and bool(torch.isfinite(points3d[0, PALM]).all())
        if init is not None:
            starts = [{k: torch.as_tensor(np.asarray(val), dtype=dt).reshape(1, -1) for k, val in init.items()}]
        else:
            guess = self.guess_from_points(points3d) if from_points else self.initial_guess(tv[0][0], tv[0][1], w)
            starts = self._cold_starts(guess, articulation, also_from_mean)
        names = ["global_orient", "hand_pose", "betas", "image_t"]
        if betas is not None:
            held = torch.as_tensor(np.asarray(betas, np.float64)[None, :10], dtype=dt)
            starts = [dict(st, betas=held) for st in starts]
            names.remove("betas")
        if placement_only:
            names = ["image_t"]
        if init is not None:  # warm, or the last stage of a cold fit stopped before it (its terms: HandNet's too)
            stages = [(names, iterations or (COLD_ITERATIONS if resume else WARM_ITERATIONS))]
        else:  # a cold start twice as long as one view's: the world landmarks are re-aligned in between (measured:
            # 7.1 -> 2.8 mm on clean stereo keypoints), and it happens only when a hand appears
            stages = [(["global_orient", "image_t"], ORIENT_ITERATIONS), (names, iterations or COLD_ITERATIONS),
                      (names, iterations or COLD_ITERATIONS)]
            if restart:  # turned and placed by the triangulated palm already: no orientation stage
                stages = ([] if from_points else stages[:1]) + [(names, iterations or RESTART_ITERATIONS)]
            elif not finish:
                stages = stages[:-1]
        net = None if (init is not None and not resume) or placement_only else self.handnet_term(articulation)
        tries = [self._fit_one(st, tv, w, stages, points3d, net) for st in starts]
        out, _, cost, marked, joints = min(tries, key=_loss_order)  # the lowest loss
        iters = sum(t[1] for t in tries)
        joints, marked = torch.as_tensor(joints[None], dtype=dt), torch.as_tensor(marked[None], dtype=dt)
        with torch.no_grad():
            per_view = []
            for kp2d, K, R, t, conf in tv:
                seen = marked if R is None else marked @ R.T + t
                per_view.append(float(_mean_error(_project(seen, K), kp2d, conf)[0]))
            proj = _project(marked, tv[0][1])
        return FitResult(out["global_orient"], out["hand_pose"], out["betas"], out["transl"], joints, proj,
                         torch.tensor([per_view[0]], dtype=dt), time.perf_counter() - t0, int(iters),
                         {"points3d": X, "reprojection_px": per_view}, objective=cost.reshape(1).to(dt))

    def guess_from_points(self, points3d: torch.Tensor) -> dict:
        """Cold start from metric 3D keypoints (1,21,3) (triangulated): rotation by the palm's points (Kabsch),
        placement by their centre; mean pose and shape."""
        dt = self.mean.dtype
        rest = self.rest_keypoints[None]
        R = _kabsch(rest[:, PALM] - rest[:, :1], points3d[:, PALM] - points3d[:, :1])
        centre = points3d[:, PALM].mean(1)
        rest_centre = (R @ rest[:, PALM].mean(1)[..., None])[..., 0]
        return {"global_orient": matrix_to_axis_angle(R), "hand_pose": self.mean[None].clone(),
                "betas": torch.zeros(1, 10, dtype=dt), "transl": centre - rest_centre}

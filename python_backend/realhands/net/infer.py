"""HandNet at run time: a hand's MANO parameters in camera coordinates, and its mask in the image, from an image,
the hand's 21 keypoints (MediaPipe, pixels) and the intrinsics. Runs the shipped ONNX model on onnxruntime.

    reg = HandNetRegressor.default()            # None when no weights ship (falls back to the keypoint fit)
    est = reg.predict(image, keypoints_2d, "left", camera)     # camera: a realhands.Camera
    est.params   # global_orient (3,), hand_pose (45,), betas (10,), transl (3,): camera coordinates, OpenCV axes, m
    est.mask     # (H,W) bool hand pixels
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ..camera import Camera, StereoPair
from ..conventions import IMAGE_FLIP, MODEL_MIRROR
from ..perception.crop import (
    crop_affine,
    crop_box,
    heatmap_sigma,
    invert_affine,
    keypoint_heatmaps,
    mirror_crop,
    opencv_affine,
)
from .handnet import StereoFusion, fuse_views
from .runtime import OnnxHandNet, stereo_weights_path
from .uncertainty import JointSigma

#: the shipped CPU model, when present
DEFAULT_WEIGHTS = "assets/handnet_cpu.onnx"


def default_weights():
    """The shipped HandNet ONNX file (a path-like), or None when the package has none."""
    p = resources.files("realhands").joinpath(DEFAULT_WEIGHTS)
    return p if p.is_file() else None


def move_to_other_camera(params: dict, R: np.ndarray, t: np.ndarray, model) -> dict:
    """MANO parameters seen from another camera, x' = R x + t (metres): the global orientation turns by R and the
    translation moves the root joint (which rotates about itself)."""
    betas = np.asarray(params["betas"], np.float64)
    dt = model.v_template.dtype
    with torch.no_grad():
        z = torch.zeros(1, 3, dtype=dt)
        j0 = model.keypoints(z, torch.zeros(1, 45, dtype=dt), torch.as_tensor(betas[None], dtype=dt), z)[0, 0].numpy()
    out = dict(params)
    R_old = Rotation.from_rotvec(params["global_orient"]).as_matrix()
    out["global_orient"] = Rotation.from_matrix(R @ R_old).as_rotvec()
    out["transl"] = R @ (j0 + np.asarray(params["transl"], np.float64)) + t - j0
    return out


@dataclass
class HandNetEstimate:
    params: dict           # global_orient (3,), hand_pose (45,), betas (10,), transl (3,)
    mask: np.ndarray | None       # (H,W) bool; None when asked without (HandNetRegressor.predict)
    mask_prob: np.ndarray | None  # (S,S) float in the crop
    crop: np.ndarray       # (2,3) image px -> crop px (includes the mirror for left hands)
    features: np.ndarray | None = None        # (512,) the network's pooled features
    #: (21,) how sure the network is of each keypoint: the expected 3D error after alignment, mm
    #: (``realhands.net.uncertainty``); None when no uncertainty head ships for this network
    joint_sigma_mm: np.ndarray | None = None


def crop_to_camera(pose48, betas, cam, M: np.ndarray, side_px: float, left: bool, camera: Camera, model,
                   wrist_px: np.ndarray | None = None) -> dict:
    """HandNet's crop-frame output -> MANO parameters in camera coordinates (OpenCV axes, metres).

    ``M`` (2,3): image px -> crop px (with the mirror for a left hand); ``side_px``: the crop box's side in image px;
    ``model``: the hand model of that side. The weak-perspective camera (s, tx, ty) puts the wrist at t (normalised
    crop coordinates); s sets the keypoints' mean depth, fx / (s * side_px / 2). ``wrist_px``: the detected wrist
    keypoint (image px), which places the wrist more exactly than t (a least-squares fit over all keypoints)."""
    pose = np.asarray(pose48, np.float64).reshape(16, 3).copy()
    betas = np.asarray(betas, np.float64)
    s, tx, ty = (float(v) for v in cam)
    R = Rotation.from_rotvec(pose[0]).as_matrix()
    if left:  # undo the mirror: R_cam = F_x R M_y, joint axis-angles (x, y, z) -> (-x, y, -z)
        R = IMAGE_FLIP @ R @ MODEL_MIRROR
        pose[1:, 0] *= -1
        pose[1:, 2] *= -1
    pose[0] = Rotation.from_matrix(R).as_rotvec()
    dt = model.v_template.dtype
    with torch.no_grad():
        kp = model.keypoints(torch.as_tensor(pose[0][None], dtype=dt),
                             torch.as_tensor(pose[1:].reshape(1, 45), dtype=dt),
                             torch.as_tensor(betas[None], dtype=dt), torch.zeros(1, 3, dtype=dt))[0].numpy()
    kp0 = kp[0]
    # weak perspective holds at the keypoints' mean depth: z_mean = fx / (s * side_px / 2); the wrist sits at its own
    # depth relative to that mean, and is seen at t
    z_mean = camera.fx / max(abs(s) * side_px / 2, 1e-6)
    z = max(z_mean - float((kp[:, 2] - kp0[2]).mean()), 0.05)
    if wrist_px is None:
        size = abs(np.linalg.det(M[:, :2])) ** 0.5 * side_px   # crop pixels across the box
        inv = invert_affine(M)
        wrist_px = inv[:, :2] @ ((np.array([tx, ty]) + 1) * size / 2) + inv[:, 2]
    wrist_cam = camera.backproject(np.asarray(wrist_px, np.float64)[None], z)[0]
    return {"global_orient": pose[0], "hand_pose": pose[1:].reshape(45), "betas": betas, "transl": wrist_cam - kp0}


class HandNetRegressor:
    def __init__(self, onnx_path: str | Path, device: str = "auto"):
        self.net = OnnxHandNet(onnx_path, device=device)
        self.size = int(self.net.config.get("input_size", 224))
        self.margin = 1.6
        self.stereo = StereoFusion().eval()  # its start: the plain average
        sp = stereo_weights_path(onnx_path)
        if sp.is_file():
            with np.load(sp) as z, torch.no_grad():
                self.stereo.fc.weight.copy_(torch.from_numpy(z["weight"]))
                self.stereo.fc.bias.copy_(torch.from_numpy(z["bias"]))
        self.uncertainty = JointSigma.load(onnx_path)

    @classmethod
    def default(cls) -> HandNetRegressor | None:
        """The shipped weights (realhands/assets/handnet_cpu.onnx) or None when the package has none."""
        return cls(str(default_weights())) if default_weights() else None

    def _crop(self, image: np.ndarray, keypoints_2d: np.ndarray, left: bool):
        """The network's input crop (mirrored for a left hand) and heatmaps; the crop transform and box side (px)."""
        S = self.size
        kp = np.asarray(keypoints_2d, np.float64)
        centre, side_px, _ = crop_box(kp, margin=self.margin)
        M = crop_affine(centre, side_px, 0.0, S)
        if left:
            M = mirror_crop(M, S)
        M_cv = opencv_affine(M)
        crop = cv2.warpAffine(np.ascontiguousarray(image), M_cv, (S, S), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        heat = keypoint_heatmaps(kp @ M[:, :2].T + M[:, 2], S, sigma=heatmap_sigma(S))
        return crop.transpose(2, 0, 1).astype(np.float32) / 255.0, heat, M, M_cv, side_px

    def _mask(self, out: dict, i: int, M_cv: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
        S = self.size
        prob = 1.0 / (1.0 + np.exp(-out["mask_logits"][i, 0])) if "mask_logits" in out else np.zeros((S, S))
        back = cv2.warpAffine(prob.astype(np.float32), M_cv, (shape[1], shape[0]),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0)
        return back > 0.5, prob

    def predict(self, image: np.ndarray, keypoints_2d: np.ndarray, side: str, camera: Camera,
                hand_model=None, mask: bool = True) -> HandNetEstimate:
        """``image`` (H,W,3) uint8 RGB; ``keypoints_2d`` (21,2) px; ``side`` 'right'/'left'; ``camera`` the image's;
        ``mask`` False: the estimate without its mask (``mask`` and ``mask_prob`` None), in half the time."""
        from ..model import HandModel

        left = side == "left"
        crop, heat, M, M_cv, side_px = self._crop(image, keypoints_2d, left)
        out = self.net(crop[None], heat[None], mask=mask)
        model = hand_model or HandModel(side=side, flat_hand_mean=True)
        params = crop_to_camera(out["pose"][0], out["shape"][0], out["cam"][0], M, side_px, left, camera,
                                model, np.asarray(keypoints_2d, np.float64)[0])
        mask, prob = self._mask(out, 0, M_cv, image.shape) if mask else (None, None)
        return HandNetEstimate(params, mask, prob, M, *self._sureness(out, 0))

    def _sureness(self, out: dict, i: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The i-th crop's pooled features and, with an uncertainty head, its per-keypoint sigma (mm)."""
        if "features" not in out:
            return None, None
        f = np.asarray(out["features"][i], np.float64)
        return f, None if self.uncertainty is None else self.uncertainty.sigma_mm(f)

    def predict_stereo(self, images, keypoints_2d, side: str, pair: StereoPair, hand_model=None) -> HandNetEstimate:
        """The stereo variant: both views in one batch, poses fused with the learned per-parameter weights
        (:func:`realhands.net.handnet.fuse_views`; the plain average when no ``*_stereo.npz`` ships), shape averaged.
        ``images``/``keypoints_2d``: (left, right); ``pair`` their cameras. Returns parameters in left-camera
        coordinates (OpenCV axes, m),
        placed by the keypoints triangulated from both views, and the left view's mask."""
        from ..model import HandModel

        left = side == "left"
        views = [self._crop(im, kp, left) for im, kp in zip(images, keypoints_2d, strict=True)]
        out = self.net(np.stack([v[0] for v in views]), np.stack([v[1] for v in views]))
        flip = IMAGE_FLIP if left else np.eye(3)             # camera -> crop rotation of these unrotated crops
        A = flip @ pair.R @ flip.T                           # left crop frame -> right crop frame
        views_out = [{k: torch.as_tensor(np.asarray(out[k][i:i + 1]), dtype=torch.float32)
                      for k in ("features", "pose", "shape")} for i in (0, 1)]
        with torch.no_grad():  # the same fusion the stereo-weights stage trained
            fused = fuse_views(self.stereo, views_out[0], views_out[1], torch.as_tensor(A, dtype=torch.float32)[None])
        pose = fused["pose"][0].numpy().astype(np.float64)
        betas = fused["shape"][0].numpy().astype(np.float64)
        model = hand_model or HandModel(side=side, flat_hand_mean=True)
        # back into the left crop frame, placed by the left view; then the depth from triangulated keypoints
        pose_l = pose.copy()
        pose_l[:3] = Rotation.from_matrix(A.T @ Rotation.from_rotvec(pose[:3]).as_matrix()).as_rotvec()
        kl, kr = (np.asarray(k, np.float64) for k in keypoints_2d)
        params = crop_to_camera(pose_l, betas, out["cam"][0], views[0][2], views[0][4], left, pair.left, model, kl[0])
        X = pair.triangulate(kl, kr)
        ok = X[:, 2] > 0.05
        if ok.sum() >= 5:
            dt = model.v_template.dtype
            with torch.no_grad():
                kp3 = model.keypoints(*(torch.as_tensor(np.asarray(params[k], np.float64)[None], dtype=dt) for k in
                                        ("global_orient", "hand_pose", "betas", "transl")))[0].numpy()
            params["transl"] = np.asarray(params["transl"], np.float64) + np.median(X[ok] - kp3[ok], axis=0)
        mask, prob = self._mask(out, 0, views[0][3], images[0].shape)
        features, sigma = self._sureness(out, 0)
        if sigma is not None:  # the fused estimate: the two views' sigmas averaged (their errors are not independent)
            sigma = 0.5 * (sigma + self._sureness(out, 1)[1])
        return HandNetEstimate(params, mask, prob, views[0][2], features, sigma)

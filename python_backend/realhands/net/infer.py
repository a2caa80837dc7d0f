"""HandNet at run time: a hand's MANO parameters in camera coordinates, and its mask in the image, from an image,
the hand's 21 keypoints (MediaPipe, pixels) and the intrinsics. Runs the shipped ONNX model on onnxruntime.

    reg = HandNetRegressor.default()            # None when no weights ship (falls back to the keypoint fit)
    est = reg.predict(image, keypoints_2d, "left", K)
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

from ..perception.crop import crop_affine, crop_box, invert_affine, keypoint_heatmaps
from .data import F_X, M_Y
from .runtime import OnnxHandNet

#: the shipped CPU model, when present
DEFAULT_WEIGHTS = "assets/handnet_cpu.onnx"


def default_weights():
    """The shipped HandNet ONNX file (a path-like), or None when the package has none."""
    p = resources.files("realhands").joinpath(DEFAULT_WEIGHTS)
    return p if p.is_file() else None


@dataclass
class HandNetEstimate:
    params: dict           # global_orient (3,), hand_pose (45,), betas (10,), transl (3,)
    mask: np.ndarray       # (H,W) bool
    mask_prob: np.ndarray  # (S,S) float in the crop
    crop: np.ndarray       # (2,3) image px -> crop px (includes the mirror for left hands)


def crop_to_camera(pose48, betas, cam, M: np.ndarray, side_px: float, left: bool, K: np.ndarray, model,
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
        R = F_X @ R @ M_Y
        pose[1:, 0] *= -1
        pose[1:, 2] *= -1
    pose[0] = Rotation.from_matrix(R).as_rotvec()
    dt = model.v_template.dtype
    with torch.no_grad():
        kp = model.keypoints(torch.as_tensor(pose[0][None], dtype=dt), torch.as_tensor(pose[1:].reshape(1, 45), dtype=dt),
                             torch.as_tensor(betas[None], dtype=dt), torch.zeros(1, 3, dtype=dt))[0].numpy()
    kp0 = kp[0]
    # weak perspective holds at the keypoints' mean depth: z_mean = fx / (s * side_px / 2); the wrist sits at its own
    # depth relative to that mean, and is seen at t
    z_mean = K[0, 0] / max(abs(s) * side_px / 2, 1e-6)
    z = max(z_mean - float((kp[:, 2] - kp0[2]).mean()), 0.05)
    if wrist_px is None:
        size = abs(np.linalg.det(M[:, :2])) ** 0.5 * side_px   # crop pixels across the box
        inv = invert_affine(M)
        wrist_px = inv[:, :2] @ ((np.array([tx, ty]) + 1) * size / 2) + inv[:, 2]
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    wrist_cam = np.array([(wrist_px[0] - cx) * z / fx, (wrist_px[1] - cy) * z / fy, z])
    return {"global_orient": pose[0], "hand_pose": pose[1:].reshape(45), "betas": betas, "transl": wrist_cam - kp0}


class HandNetRegressor:
    def __init__(self, onnx_path: str | Path, device: str = "auto"):
        self.net = OnnxHandNet(onnx_path, device=device)
        self.size = int(self.net.config.get("input_size", 224))
        self.margin = 1.6

    @classmethod
    def default(cls) -> "HandNetRegressor | None":
        """The shipped weights (realhands/assets/handnet_cpu.onnx) or None when the package has none."""
        return cls(str(default_weights())) if default_weights() else None

    def predict(self, image: np.ndarray, keypoints_2d: np.ndarray, side: str, K: np.ndarray, hand_model=None) -> HandNetEstimate:
        """``image`` (H,W,3) uint8 RGB; ``keypoints_2d`` (21,2) px; ``side`` 'right'/'left'; ``K`` (3,3)."""
        from ..model import HandModel

        S = self.size
        kp = np.asarray(keypoints_2d, np.float64)
        centre, side_px, _ = crop_box(kp, margin=self.margin)
        M = crop_affine(centre, side_px, 0.0, S)
        left = side == "left"
        if left:
            M = np.array([[-1.0, 0, S], [0, 1, 0]]) @ np.vstack([M, [0, 0, 1]])
        M_cv = M.copy()
        M_cv[:, 2] = M[:, 2] + M[:, :2] @ np.array([0.5, 0.5]) - 0.5
        crop = cv2.warpAffine(np.ascontiguousarray(image), M_cv, (S, S), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        heat = keypoint_heatmaps(kp @ M[:, :2].T + M[:, 2], S, sigma=2.0 * S / 224)
        out = self.net(crop.transpose(2, 0, 1)[None].astype(np.float32) / 255.0, heat[None])

        model = hand_model or HandModel(side=side, flat_hand_mean=True)
        params = crop_to_camera(out["pose"][0], out["shape"][0], out["cam"][0], M, side_px, left, K, model, kp[0])
        prob = 1.0 / (1.0 + np.exp(-out["mask_logits"][0, 0])) if "mask_logits" in out else np.zeros((S, S))
        h, w = image.shape[:2]
        back = cv2.warpAffine(prob.astype(np.float32), M_cv, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return HandNetEstimate(params, back > 0.5, prob, M)

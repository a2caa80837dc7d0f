"""Overlays: the reconstructed mesh (shaded, semi-transparent) and keypoint skeletons drawn on an image."""
from __future__ import annotations

import numpy as np
import torch

from ..camera import Camera
from ..conventions import KEYPOINT_PARENTS

SIDE_COLOURS = {"right": (80, 160, 255), "left": (255, 150, 60)}


def draw_overlay(image: np.ndarray, hands, camera: Camera, faces: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """image (H,W,3) uint8; hands: HandResults (camera-frame vertices) seen by ``camera``. Returns a new uint8
    image."""
    import cv2

    from ..render.rasterize import rasterize

    out = image.astype(np.float32).copy()
    h, w = image.shape[:2]
    faces_t = torch.as_tensor(faces)
    K = camera.K_tensor(torch.float32)[None]
    for hand in hands:
        v = torch.as_tensor(hand.vertices, dtype=torch.float32)[None]
        frags = rasterize(v, faces_t, K, h, w)
        m = frags.mask[0].numpy()
        if m.any():
            tri = v[0][faces_t[frags.face[0][frags.mask[0]]]]
            n = torch.nn.functional.normalize(torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1), dim=-1)
            shade = (0.35 + 0.65 * (-n[:, 2]).clamp(0, 1)).numpy()[:, None]
            col = np.array(SIDE_COLOURS.get(hand.handedness, (200, 200, 200)), np.float32)
            out[m] = (1 - alpha) * out[m] + alpha * shade * col
    img = out.clip(0, 255).astype(np.uint8)
    for hand in hands:
        col = SIDE_COLOURS.get(hand.handedness, (200, 200, 200))
        pts = np.round(hand.keypoints_2d).astype(int)
        for k, p in enumerate(KEYPOINT_PARENTS):
            if p >= 0:
                cv2.line(img, tuple(pts[p]), tuple(pts[k]), (255, 255, 255), 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, tuple(p), 3, col, -1, cv2.LINE_AA)
        cv2.putText(img, f"{hand.handedness} {hand.score:.2f}", tuple(pts[0] + [5, 15]), cv2.FONT_HERSHEY_SIMPLEX,
                    0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return img

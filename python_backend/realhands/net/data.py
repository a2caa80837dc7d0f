"""Training samples for HandNet from synthetic stereo samples: a square crop around the hand (from the 2D keypoints,
with augmentation), 21 Gaussian heatmaps of the keypoints HandNet gets at run time, and targets in the crop's frame.

The keypoints: MediaPipe's own detections of the rendered view when the dataset has them (``realhands synth
--detect``: its real errors, drifts and misses, what HandNet sees on real photos), else the true keypoints plus
Gaussian noise. The appearance is widened beyond the renders (``Augment``): colour casts of coloured light, hard
shadows, motion blur and defocus, sensor noise, JPEG compression and occluders.

Left hands are mirrored (crop flipped horizontally) and learned as right hands: the target global orientation is
F_x R M_y (F_x: the image flip ``IMAGE_FLIP``, M_y: the model mirror ``MODEL_MIRROR``, realhands.conventions) and each
joint's axis-angle (x, y, z) becomes (-x, y, -z). A crop rotated by angle a turns the camera-frame targets by R_z(a).

Targets (all float32): pose (48,), shape (10,), kp2d (21,2) in normalised crop coordinates [-1, 1], cam (3,) the
weak-perspective fit (s, tx, ty) of the root-relative 3D keypoints to kp2d, joints3d (21,3) and vertices (V,3)
root-relative in the crop frame (metres), mask (S,S) hand pixels, frame (3,3) the camera -> crop rotation of points
(F_x R_z for a left hand).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from ..conventions import IMAGE_FLIP, MODEL_MIRROR
from ..perception.crop import (
    crop_affine,
    crop_box,
    heatmap_sigma,
    keypoint_heatmaps,
    keypoint_heatmaps_torch,
    mirror_crop,
    opencv_affine,
)


@dataclass
class Augment:
    """Random crop and appearance changes; ``Augment.none()`` for evaluation."""
    scale: tuple = (1.45, 1.85)        # crop side / keypoint box side
    rotation_deg: float = 25.0
    shift: float = 0.08                # of the crop side
    blur_p: float = 0.3
    colour: float = 0.25               # brightness/contrast/saturation jitter amplitude
    keypoint_noise_px: float = 2.5     # on the 640x480 image (true keypoints only; detections carry their own)
    keypoint_drop_p: float = 0.03
    colour_cast: float = 0.2           # per-channel gain of a coloured light, amplitude
    shadow_p: float = 0.25             # a hard-edged shadow across the crop
    motion_blur_p: float = 0.2         # a directional blur up to 9 px
    noise_p: float = 0.4               # sensor noise, sigma up to 8 grey levels
    jpeg_p: float = 0.4                # JPEG compression at quality 30..90
    occluder_p: float = 0.15           # a flat or textured patch over part of the hand

    @staticmethod
    def none() -> Augment:
        return Augment(scale=(1.6, 1.6), rotation_deg=0.0, shift=0.0, blur_p=0.0, colour=0.0, keypoint_noise_px=0.0,
                       keypoint_drop_p=0.0, colour_cast=0.0, shadow_p=0.0, motion_blur_p=0.0, noise_p=0.0, jpeg_p=0.0,
                       occluder_p=0.0)


def _appearance(crop: np.ndarray, rng: np.random.Generator, aug: Augment) -> np.ndarray:
    """Real cameras and rooms on a rendered crop (uint8 (S,S,3) in, out): coloured light, a hard shadow, an
    occluder, motion blur, sensor noise, JPEG compression, each with its probability in ``aug``."""
    size = crop.shape[0]
    x = crop.astype(np.float32)
    if aug.colour_cast:
        x = x * rng.uniform(1 - aug.colour_cast, 1 + aug.colour_cast, 3)
    if aug.shadow_p and rng.random() < aug.shadow_p:  # a half-plane through the crop, darker
        a = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:size, 0:size]
        side = (xx - size / 2) * np.cos(a) + (yy - size / 2) * np.sin(a) > rng.uniform(-0.3, 0.3) * size
        x[side] *= rng.uniform(0.35, 0.75)
    if aug.occluder_p and rng.random() < aug.occluder_p:  # a flat or noisy patch, up to a third of the crop
        h, w = (int(rng.uniform(0.12, 0.35) * size) for _ in range(2))
        y0, x0 = int(rng.integers(0, size - h)), int(rng.integers(0, size - w))
        patch = rng.uniform(0, 255, 3) + (rng.normal(0, 25, (h, w, 3)) if rng.random() < 0.5 else 0)
        x[y0:y0 + h, x0:x0 + w] = patch
    x = np.clip(x, 0, 255)
    if aug.motion_blur_p and rng.random() < aug.motion_blur_p:
        n = int(rng.integers(3, 10))
        k = np.zeros((n, n), np.float32)
        k[n // 2] = 1.0 / n
        R = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        k = cv2.warpAffine(k, R, (n, n))
        x = cv2.filter2D(x, -1, k / max(k.sum(), 1e-6))
    if aug.noise_p and rng.random() < aug.noise_p:
        x = x + rng.normal(0, rng.uniform(1, 8), x.shape)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if aug.jpeg_p and rng.random() < aug.jpeg_p:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 91))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def weak_perspective_fit(xy_rel: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(s, tx, ty) minimising |s * xy_rel + t - uv|^2 for (N,2) root-relative points (m) and their projections."""
    mx, mu = xy_rel.mean(0), uv.mean(0)
    a, b = xy_rel - mx, uv - mu
    s = float((a * b).sum() / max((a * a).sum(), 1e-12))
    t = mu - s * mx
    return np.array([s, t[0], t[1]], np.float32)


def make_sample(sample: dict, rng: np.random.Generator, size: int = 224, aug: Augment | None = None,
                view: str = "left", compact: bool = False) -> dict:
    """One HandNet training sample (torch tensors) from a synthetic sample dict (``realhands.synth.dataset``;
    images as (3,H,W) float tensors or (H,W,3) uint8 arrays). ``compact``: the crop as uint8 and the heatmaps' 21
    keypoints (``heat_keypoints``, crop pixels) instead of the maps and the mask as booleans: at 160 px ~110 kB per
    sample instead of ~2.6 MB for the loaders to ship; :func:`expand_batch` makes the full batch on the training
    device."""
    aug = aug or Augment()
    rgb, mask_full = sample[f"rgb_{view}"], sample[f"mask_{view}"]
    if torch.is_tensor(rgb):  # (3,H,W) float in [0,1]; SynthMemoryDataset gives (H,W,3) uint8 directly
        rgb = np.rint(rgb.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    mask_full = np.asarray(mask_full).astype(np.uint8)
    kp_img = sample[f"joints2d_{view}"].numpy().astype(np.float64)
    left = sample["side"] == "left"
    detected = sample.get(f"detected2d_{view}")
    detected = None if detected is None else np.asarray(detected, np.float64)
    if detected is not None and not np.isfinite(detected).all():
        detected = None  # MediaPipe missed this view: the true keypoints with noise stand in
    seen = kp_img if detected is None else detected  # what the crop and the heatmaps come from, as at run time

    centre, side, _ = crop_box(seen, margin=1.0)
    side = side * rng.uniform(*aug.scale)
    centre = centre + rng.uniform(-aug.shift, aug.shift, 2) * side
    angle = np.deg2rad(rng.uniform(-aug.rotation_deg, aug.rotation_deg)) if aug.rotation_deg else 0.0
    M = crop_affine(centre, side, angle, size)
    if left:  # mirror the crop: u' = size - u
        M = mirror_crop(M, size)
    M_cv = opencv_affine(M)
    crop = cv2.warpAffine(rgb, M_cv, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(mask_full, M_cv, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    kp_crop = kp_img @ M[:, :2].T + M[:, 2]
    seen_crop = seen @ M[:, :2].T + M[:, 2]

    # appearance
    if aug.colour:
        x = crop.astype(np.float32)
        contrast, brightness = (rng.uniform(1 - aug.colour, 1 + aug.colour) for _ in range(2))
        x = (x - x.mean()) * contrast + x.mean() * brightness
        grey = x.mean(2, keepdims=True)
        x = grey + (x - grey) * rng.uniform(1 - aug.colour, 1 + aug.colour)
        x = x * rng.uniform(1 - aug.colour / 3, 1 + aug.colour / 3, 3)
        crop = np.clip(x, 0, 255).astype(np.uint8)
    if aug.blur_p and rng.random() < aug.blur_p:
        crop = cv2.GaussianBlur(crop, (0, 0), rng.uniform(0.5, 1.8))
    crop = _appearance(crop, rng, aug)

    # heatmaps of the keypoints HandNet gets at run time: MediaPipe's, or the truth with MediaPipe-like noise
    scale_px = size / side
    noisy = seen_crop
    if detected is None and aug.keypoint_noise_px:
        noisy = seen_crop + rng.normal(0, aug.keypoint_noise_px * scale_px, seen_crop.shape)
    if aug.keypoint_drop_p:
        noisy = np.where(rng.random((21, 1)) < aug.keypoint_drop_p, -1000.0, noisy)

    # 3D targets in the crop frame: rotate about the optical axis by the crop's in-plane rotation, mirror left hands
    A = M[:, :2] / np.linalg.norm(M[0, :2])            # for a left hand: the flip times a rotation
    rot = np.eye(3)
    rot[:2, :2] = np.diag([-1.0, 1.0]) @ A if left else A
    frame = IMAGE_FLIP @ rot if left else rot                   # camera axes -> crop axes, for points
    pose = sample["pose"].numpy().astype(np.float64).reshape(16, 3)
    R_new = frame @ Rotation.from_rotvec(pose[0]).as_matrix() @ (MODEL_MIRROR if left else np.eye(3))
    if left:
        pose[1:, 0] *= -1
        pose[1:, 2] *= -1
    pose[0] = Rotation.from_matrix(R_new).as_rotvec()

    joints3d = sample["joints3d"].numpy().astype(np.float64) @ frame.T
    verts = sample["vertices"].numpy().astype(np.float64) @ frame.T
    root = joints3d[0].copy()
    kp_n = kp_crop / size * 2 - 1
    cam = weak_perspective_fit(joints3d[:, :2] - root[:2], kp_n)
    if compact:
        image = {"rgb": torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))),
                 "heat_keypoints": torch.from_numpy(np.asarray(noisy, np.float32)),
                 "mask": torch.from_numpy(mask == 1)}
    else:
        image = {"rgb": torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0,
                 "heatmaps": torch.from_numpy(keypoint_heatmaps(noisy, size, sigma=heatmap_sigma(size))),
                 "mask": torch.from_numpy(mask == 1).float()}
    return {
        **image,
        "pose": torch.from_numpy(pose.reshape(48).astype(np.float32)),
        "shape": sample["betas"].float(),
        "kp2d": torch.from_numpy(kp_n.astype(np.float32)),
        "cam": torch.from_numpy(cam),
        "joints3d": torch.from_numpy((joints3d - root).astype(np.float32)),
        "vertices": torch.from_numpy((verts - root).astype(np.float32)),
        "left": torch.tensor(left),
        "frame": torch.from_numpy(frame.astype(np.float32)),
    }


def expand_batch(batch: dict) -> dict:
    """A batch of compact samples (``make_sample(compact=True)``, keys optionally prefixed as in StereoPairDataset)
    made full where it is, e.g. on the GPU: uint8 crops to floats in [0, 1], heatmaps drawn from their keypoints. A
    full batch passes through unchanged."""
    out = dict(batch)
    for key in [k for k in batch if k.endswith("heat_keypoints")]:
        prefix = key[: -len("heat_keypoints")]
        rgb = out[prefix + "rgb"]
        size = rgb.shape[-1]
        out[prefix + "heatmaps"] = keypoint_heatmaps_torch(out.pop(key), size, heatmap_sigma(size))
        if rgb.dtype == torch.uint8:
            out[prefix + "rgb"] = rgb.float() / 255.0
        if out[prefix + "mask"].dtype == torch.bool:
            out[prefix + "mask"] = out[prefix + "mask"].float()
    return out


class HandNetDataset(torch.utils.data.Dataset):
    """HandNet samples over a synthetic dataset (``SynthShardDataset`` or ``SynthOnTheFlyDataset``); the left view,
    or both views alternately with ``views='both'``. Deterministic per (index, epoch) when ``augment`` is False.
    ``compact``: samples as :func:`make_sample` makes them with ``compact=True`` (for training on a GPU)."""

    def __init__(self, base, size: int = 224, augment: bool = True, seed: int = 0, views: str = "left",
                 compact: bool = False):
        self.base, self.size, self.augment, self.seed, self.views = base, size, augment, seed, views
        self.compact = compact
        self.epoch = 0

    def __len__(self):
        return len(self.base) * (2 if self.views == "both" else 1)

    def __getitem__(self, i: int) -> dict:
        j, v = (i // 2, ("left", "right")[i % 2]) if self.views == "both" else (i, "left")
        rng = np.random.default_rng([self.seed, i, self.epoch if self.augment else 0])
        return make_sample(self.base[j], rng, self.size, Augment() if self.augment else Augment.none(), view=v,
                           compact=self.compact)


class StereoPairDataset(torch.utils.data.Dataset):
    """Both views of each synthetic sample, for the stereo-weights stage: keys ``l_*`` and ``r_*`` (each a
    :func:`make_sample` dict) and ``left_to_right`` (3,3), the rotation from the left crop frame to the right one.
    Targets for Eq. 11 are the right view's (``r_vertices``, ``r_joints3d``)."""

    def __init__(self, base, size: int = 224, augment: bool = True, seed: int = 0):
        self.base, self.size, self.augment, self.seed = base, size, augment, seed
        self.epoch = 0

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i: int) -> dict:
        rng = np.random.default_rng([self.seed, i, self.epoch if self.augment else 0, 7])
        aug = Augment() if self.augment else Augment.none()
        s = self.base[i]
        lv, rv = make_sample(s, rng, self.size, aug, view="left"), make_sample(s, rng, self.size, aug, view="right")
        R_rl = torch.as_tensor(s["T_right_from_left"])[:3, :3].float()
        d = {f"l_{k}": v for k, v in lv.items()}
        d.update({f"r_{k}": v for k, v in rv.items()})
        d["left_to_right"] = rv["frame"] @ R_rl @ lv["frame"].T
        return d


def training_data(data=None, on_the_fly: int | None = None, freihand: str | None = None, model_path=None,
                  unpacked: str | None = None, partial: bool = False, limit: int | None = None, seed: int = 0,
                  device: str = "cpu", workers: int = 0, detect: bool = False):
    """The base dataset of a training run, from exactly one of: ``data`` (folders of `realhands synth`, optionally
    decoded once into memory-mapped arrays in ``unpacked``; ``partial``: the shards written so far), ``on_the_fly``
    (that many samples rendered as needed) or ``freihand`` (its official layout, with the official MANO as
    ``model_path``); the first ``limit`` samples when given. ``detect``: on-the-fly samples carry MediaPipe's
    detections (datasets on disk carry them when made with ``realhands synth --detect``)."""
    from ..errors import DatasetError
    from ..synth.dataset import SynthOnTheFlyDataset, SynthShardDataset, SynthUnpackedDataset, unpack_dataset

    if sum(bool(x) for x in (data, on_the_fly, freihand)) != 1:
        raise DatasetError("give the training data: --data DIR (a `realhands synth` folder), --on-the-fly N, or "
                           "--freihand DIR (with --model MANO_RIGHT.pkl)")
    if freihand:
        from .freihand import FreiHANDDataset

        base = FreiHANDDataset(freihand, model_path=model_path)
    elif data and unpacked:
        base = SynthUnpackedDataset(unpack_dataset(data, unpacked, partial=partial, threads=max(2, workers)))
    elif data:
        parts = [SynthShardDataset(d, partial=partial) for d in data]
        base = parts[0] if len(parts) == 1 else torch.utils.data.ConcatDataset(parts)
    else:
        base = SynthOnTheFlyDataset(on_the_fly, seed=seed, device=device, detect=detect)
    if limit:
        base = torch.utils.data.Subset(base, range(min(limit, len(base))))
    return base

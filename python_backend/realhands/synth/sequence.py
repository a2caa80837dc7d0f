"""Smooth, plausible hand motion over time: gestures, grasps, waving, a hand entering and leaving the view.

A sequence is a list of HandSamples at a frame rate. Hand poses move between library keyframes with per-joint
spherical interpolation and eased timing; the hand's placement drifts smoothly (sums of low-frequency sines)
around an egocentric viewpoint; appearance, light and background stay fixed for the whole sequence.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from ..model.io import HandModelData
from .rig import StereoRig
from .sampling import HandSample, sample_betas, sample_view

#: name -> keyframe poses (library names) cycled through; the hand dwells briefly on each.
GESTURES = {
    "grasp": ["relaxed", "spread", "grasp_cylinder", "fist", "grasp_cylinder", "relaxed"],
    "pinch": ["relaxed", "pinch", "relaxed", "ok", "relaxed"],
    "count": ["fist", "point", "victory", "spread", "relaxed"],
    "wave": ["spread", "spread"],
    "enter_exit": ["relaxed", "point", "relaxed"],
    "mixed": ["relaxed", "point", "pinch", "spread", "fist", "thumbs_up", "ok", "relaxed"],
    # the guided capture (realhands.personal): the back, then turned over to the palm and back, fingers spread
    "turn": ["relaxed", "spread", "spread", "spread", "relaxed", "spread", "relaxed"],
}

#: "turn": (fraction of the sequence, roll about the hand's long axis in degrees, side-to-side tilt in degrees);
#: linear in between. Back to the camera, turned over to show the palm, tilted both ways, and turned back.
TURN_KEYS = ((0.0, 0, 0), (0.15, 0, 0), (0.45, 180, 0), (0.6, 180, 35), (0.7, 180, -35), (0.8, 180, 0),
             (0.95, 360, 0), (1.0, 360, 0))


def _ease(t):
    return t * t * (3 - 2 * t)


def pose_track(data: HandModelData, keyframes: list[str], num_frames: int, hold: float = 0.3) -> np.ndarray:
    """(T,45) absolute hand poses passing through the named library poses, eased, per-joint slerp."""
    names = list(data.pose_names)
    missing = [k for k in keyframes if k not in names]
    if missing:
        raise ValueError(f"poses {missing} are not in this model's library ({', '.join(names)})")
    keys = np.stack([data.pose_library[names.index(k)] for k in keyframes])  # (K,45)
    segs = len(keys) - 1
    out = np.empty((num_frames, 45))
    for f in range(num_frames):
        u = f / max(num_frames - 1, 1) * segs
        k = min(int(u), segs - 1)
        local = u - k
        t = _ease(np.clip((local - hold / 2) / (1 - hold), 0, 1))  # dwell at each keyframe
        for j in range(15):
            rots = Rotation.from_rotvec(keys[[k, k + 1], 3 * j:3 * j + 3])
            out[f, 3 * j:3 * j + 3] = Slerp([0, 1], rots)([t]).as_rotvec()[0]
    return out


def _drift(rng, num_frames, fps, amplitude, period_range=(1.5, 5.0), components=3):
    """(T,) smooth random signal: a sum of sines with random periods (s) and phases."""
    t = np.arange(num_frames) / fps
    sig = np.zeros(num_frames)
    for _ in range(components):
        sig += np.sin(2 * np.pi * t / rng.uniform(*period_range) + rng.uniform(0, 2 * np.pi))
    return amplitude * sig / components


def make_sequence(data: HandModelData, rig: StereoRig, kind: str, num_frames: int, fps: float,
                  rng: np.random.Generator) -> list[HandSample]:
    """A gesture sequence for one hand (``data.side``) as seen by the rig's left camera."""
    if kind not in GESTURES:
        raise ValueError(f"unknown sequence kind {kind!r}: use one of {', '.join(GESTURES)}")
    poses = pose_track(data, GESTURES[kind], num_frames)
    centre = data.J_regressor[4] @ data.v_template
    glob0, transl0 = sample_view(rng, rig, data.side, centre, egocentric=True)
    R0 = Rotation.from_rotvec(glob0)
    betas = sample_betas(rng)
    frames = []
    wobble = [_drift(rng, num_frames, fps, np.radians(8)) for _ in range(3)]
    shift = [_drift(rng, num_frames, fps, 0.02) for _ in range(3)]
    t = np.arange(num_frames) / fps
    wave = np.radians(25) * np.sin(2 * np.pi * t * 1.2) if kind == "wave" else np.zeros(num_frames)
    turn = _turn(num_frames, data) if kind == "turn" else [Rotation.identity()] * num_frames
    for f in range(num_frames):
        rot = R0 * turn[f] * Rotation.from_rotvec([wobble[0][f], wobble[1][f], wobble[2][f] + wave[f]])
        # keep the middle knuckle where the drift puts it (rotation about the hand's centre, not the wrist)
        c = R0.apply(centre) + transl0 + np.array([shift[0][f], shift[1][f], shift[2][f]])
        if kind == "enter_exit":  # slide in from the side and out the other
            s = f / max(num_frames - 1, 1)
            c = c + np.array([(s - 0.5) * 2.2 * c[2] * rig.width / rig.fx, 0.0, 0.0])
        transl = c - rot.apply(centre)
        frames.append(HandSample(data.side, rot.as_rotvec(), poses[f], betas, transl, np.zeros(3), "egocentric"))
    return frames


def _turn(num_frames: int, data: HandModelData) -> list:
    """The "turn" kind's rotations in the model's frame (TURN_KEYS): roll about the wrist-to-middle-knuckle axis,
    tilt about the palm's normal."""
    J = data.J_regressor @ data.v_template
    axis = J[4] - J[0]
    axis /= np.linalg.norm(axis)
    normal = np.cross(axis, J[10] - J[1])  # across the knuckles x along the hand: the palm's normal
    normal /= np.linalg.norm(normal)
    keys = np.array(TURN_KEYS, dtype=np.float64)
    u = np.arange(num_frames) / max(num_frames - 1, 1)
    roll, tilt = np.interp(u, keys[:, 0], keys[:, 1]), np.interp(u, keys[:, 0], keys[:, 2])
    return [Rotation.from_rotvec(np.radians(r) * axis) * Rotation.from_rotvec(np.radians(t) * normal)
            for r, t in zip(_ease_track(roll), tilt, strict=True)]


def _ease_track(x: np.ndarray) -> np.ndarray:
    """A piecewise-linear track smoothed (a moving average over 9 frames) so that it starts and stops gently."""
    k = np.ones(9) / 9
    return np.convolve(np.pad(x, 4, mode="edge"), k, mode="valid")


def smoothness(frames: list[HandSample]) -> float:
    """Largest frame-to-frame change of any joint angle (rad): a check that motion has no jumps."""
    poses = np.stack([np.concatenate([f.global_orient, f.hand_pose]) for f in frames])
    d = Rotation.from_rotvec(poses[1:].reshape(-1, 3)).inv() * Rotation.from_rotvec(poses[:-1].reshape(-1, 3))
    return float(np.max(d.magnitude()))


def write_sequence(out, frames: list, fps: float):
    """Write rendered sequence frames (synth.generate.StereoSample) to folder ``out``: left/right JPEGs, label
    PNGs, ``ground_truth.npz`` (fps, side, K, T_right_from_left, per-frame vertices, joints, 2D joints, pose, betas,
    transl) and a half-size ``preview.gif``. Returns the folder."""
    from pathlib import Path

    from PIL import Image
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(tqdm(frames, desc="writing frames", unit="frame")):
        Image.fromarray(f.rgb_left).save(out / f"left_{i:05d}.jpg", quality=95)
        Image.fromarray(f.rgb_right).save(out / f"right_{i:05d}.jpg", quality=95)
        Image.fromarray(f.label_left).save(out / f"label_left_{i:05d}.png")
        Image.fromarray(f.label_right).save(out / f"label_right_{i:05d}.png")
    np.savez(out / "ground_truth.npz", fps=fps, side=frames[0].side, K=frames[0].K_left,
             T_right_from_left=frames[0].T_right_from_left,
             **{k: np.stack([getattr(f, k) for f in frames]) for k in
                ("vertices", "joints3d", "joints2d_left", "joints2d_right", "pose", "betas", "transl")})
    gif = [Image.fromarray(f.rgb_left).resize((f.rgb_left.shape[1] // 2, f.rgb_left.shape[0] // 2)) for f in frames]
    gif[0].save(out / "preview.gif", save_all=True, append_images=gif[1:], duration=int(1000 / fps), loop=0)
    return out

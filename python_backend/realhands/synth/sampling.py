"""Random scene parameters for synthetic hands: viewpoint, pose, shape, handedness, light, wrist bend.

Everything is drawn from a numpy Generator, so a sample is a pure function of its seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ..model.anatomy import clamp_hand_pose
from ..model.io import HandModelData
from .rig import StereoRig


@dataclass
class HandSample:
    """One hand in the left camera's frame (OpenCV axes, metres)."""

    side: str
    global_orient: np.ndarray  # (3,) axis-angle, model -> left camera
    hand_pose: np.ndarray  # (45,) absolute axis-angle (flat-hand mean)
    betas: np.ndarray  # (10,)
    transl: np.ndarray  # (3,) metres
    wrist_bend: np.ndarray  # (3,) axis-angle of the forearm relative to the hand, model axes
    view: str  # "egocentric" or "third_person"


def sample_hand_pose(data: HandModelData, rng: np.random.Generator, n_pca: int = 6, pca_scale: float = 0.75,
                     joint_noise: float = 0.1) -> np.ndarray:
    """(45,) absolute axis-angle: mean pose + first ``n_pca`` PCA components (``pca_scale`` x their spread)
    plus per-joint noise (rad), clamped to the joint limits when the model has them."""
    std = data.hands_pca_std if data.hands_pca_std is not None else np.ones(45)
    coeffs = rng.normal(0, pca_scale, n_pca) * std[:n_pca]
    pose = data.hands_mean + coeffs @ data.hands_components[:n_pca] + rng.normal(0, joint_noise, 45)
    if data.joint_frames is not None and data.joint_limits is not None:
        pose = clamp_hand_pose(pose, data.joint_frames, data.joint_limits, data.side)
    return pose


def sample_betas(rng: np.random.Generator, limit: float = 2.5) -> np.ndarray:
    """Shape: standard normal per component, truncated at +-limit sd (adult range)."""
    return np.clip(rng.normal(0, 1, 10), -limit, limit)


def hand_orientation(distal_cam: np.ndarray, dorsal_hint: np.ndarray, roll: float) -> np.ndarray:
    """Rotation (3,3) model -> camera that points the hand's distal axis (model x) along ``distal_cam`` and
    its back (model z) towards ``dorsal_hint`` turned by ``roll`` radians about the distal axis."""
    x = distal_cam / np.linalg.norm(distal_cam)
    z = dorsal_hint - (dorsal_hint @ x) * x
    z /= np.linalg.norm(z)
    z = Rotation.from_rotvec(x * roll).apply(z)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def sample_view(rng: np.random.Generator, rig: StereoRig, side: str, hand_centre_model: np.ndarray,
                egocentric: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(global_orient (3,), transl (3,)) placing the hand in front of the left camera.

    Egocentric (as from a head-mounted ZED): 20-70 cm away, near the optical axis, the forearm rising from an
    elbow below and beside the hand, the back of the hand towards the camera in about 70% of samples.
    Third person: 30-90 cm, any orientation.
    """
    half_w = rig.width / (2 * rig.fx)
    half_h = rig.height / (2 * rig.fy)
    if egocentric:
        depth = rng.uniform(0.2, 0.7)
        spread = 0.12  # offset from the optical axis, in units of depth (tan of the angle)
    else:
        depth = rng.uniform(0.3, 0.9)
        spread = 0.18
    off = rng.normal(0, spread, 2).clip(-0.7, 0.7) * np.array([half_w, half_h]) / max(half_w, half_h) * depth
    centre_cam = np.array([off[0], off[1], depth])
    if egocentric:
        # The forearm rises from the elbow, which is below the hand, towards the body's side and more or less
        # behind it (hands raised in front of the face: little; hands over a table: much). The hand points
        # along the forearm give or take a wrist bend, its back towards the camera ~70% of the time.
        sign = 1.0 if side == "right" else -1.0
        to_elbow = np.array([sign * rng.uniform(0.1, 0.6), rng.uniform(0.6, 1.0), -rng.uniform(0.1, 0.9)])
        distal = Rotation.from_rotvec(rng.normal(0, np.radians(12), 3)).apply(-to_elbow)
        back_to_camera = rng.uniform() < 0.7
        roll = rng.normal(0, np.radians(25)) + (0.0 if back_to_camera else np.pi)
        R = hand_orientation(distal, -centre_cam, roll)
    else:
        R = Rotation.random(random_state=rng).as_matrix()
    transl = centre_cam - R @ hand_centre_model
    return Rotation.from_matrix(R).as_rotvec(), transl


def sample_wrist_bend(rng: np.random.Generator) -> np.ndarray:
    """Forearm relative to the hand: wrist flexion/extension (about model y) and deviation (about model z)."""
    return np.array([0.0, rng.normal(0, np.radians(15)), rng.normal(0, np.radians(8))])


def sample_hand(data: HandModelData, rng: np.random.Generator, rig: StereoRig, egocentric_ratio: float = 0.8
                ) -> HandSample:
    pose = sample_hand_pose(data, rng)
    centre = data.J_regressor[4] @ data.v_template  # middle knuckle: the hand's centre in view
    ego = rng.uniform() < egocentric_ratio
    glob, transl = sample_view(rng, rig, data.side, centre, egocentric=ego)
    return HandSample(data.side, glob, pose, sample_betas(rng), transl, sample_wrist_bend(rng),
                      "egocentric" if ego else "third_person")


@dataclass
class LightSample:
    ambient: np.ndarray  # (3,)
    direction: np.ndarray  # (3,) camera coordinates, light -> scene
    colour: np.ndarray  # (3,)
    specular: float


def sample_light(rng: np.random.Generator) -> LightSample:
    """Random ambient and directional light: white-ish to warm/cool tints, from mostly above and in front."""
    temp = rng.uniform(-1, 1)  # colour temperature: warm (> 0) to cool (< 0)
    tint = np.array([1 + 0.08 * temp, 1.0, 1 - 0.10 * temp])
    amb = rng.uniform(0.3, 0.6) * tint
    d = np.array([rng.normal(0, 0.6), rng.uniform(0.1, 1.0), rng.uniform(0.3, 1.0)])
    return LightSample(amb, d / np.linalg.norm(d), rng.uniform(0.35, 0.9) * tint, float(rng.uniform(0.02, 0.15)))

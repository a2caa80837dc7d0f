"""Anatomical joint angles <-> MANO axis-angle, and joint limits.

Each joint j has an anatomical frame F_j (3,3) in rest model space whose columns are the flexion axis,
the radial-deviation axis and the distal (bone) axis. A joint's anatomical angles (flex, radial, twist) in
radians give its local rotation ``F_j @ Rx(flex) @ Ry(radial) @ Rz(twist) @ F_j.T``.

Signs, the same on both hands: flexion > 0 curls towards the palm; radial > 0 moves towards the thumb side
(for the fingers: abduction of the index, adduction of ring and pinky); twist > 0 turns by the right-hand
rule about the distal axis of the right hand (mirrored for the left).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..conventions import check_side

#: Anatomical angle signs in a left hand's (proper-rotation) frames; see io.mirror_model.
_LEFT_SIGNS = np.array([1.0, -1.0, -1.0])


def _signs(side: str) -> np.ndarray:
    return _LEFT_SIGNS if check_side(side) == "left" else np.ones(3)


def anatomical_to_axis_angle(angles: np.ndarray, frames: np.ndarray, side: str = "right") -> np.ndarray:
    """angles (...,15,3) radians (flex, radial, twist) of joints 1..15 -> hand pose (...,45) axis-angle."""
    angles = np.asarray(angles, dtype=np.float64) * _signs(side)
    shape = angles.shape[:-2]
    R_anat = Rotation.from_euler("XYZ", angles.reshape(-1, 3)).as_matrix().reshape(*shape, 15, 3, 3)
    F = frames[1:]
    R = F @ R_anat @ np.swapaxes(F, -1, -2)
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape(*shape, 45)


def axis_angle_to_anatomical(hand_pose: np.ndarray, frames: np.ndarray, side: str = "right") -> np.ndarray:
    """hand pose (...,45) axis-angle -> anatomical angles (...,15,3) radians."""
    hand_pose = np.asarray(hand_pose, dtype=np.float64)
    shape = hand_pose.shape[:-1]
    R = Rotation.from_rotvec(hand_pose.reshape(-1, 3)).as_matrix().reshape(*shape, 15, 3, 3)
    F = frames[1:]
    R_anat = np.swapaxes(F, -1, -2) @ R @ F
    angles = Rotation.from_matrix(R_anat.reshape(-1, 3, 3)).as_euler("XYZ").reshape(*shape, 15, 3)
    return angles * _signs(side)


def clamp_hand_pose(hand_pose: np.ndarray, frames: np.ndarray, limits: np.ndarray,
                    side: str = "right") -> np.ndarray:
    """Clamp a hand pose (...,45) to joint limits (16,3,2) radians, joint by joint in anatomical angles."""
    ang = axis_angle_to_anatomical(hand_pose, frames, side)
    ang = np.clip(ang, limits[1:, :, 0], limits[1:, :, 1])
    return anatomical_to_axis_angle(ang, frames, side)


def limit_violation(hand_pose: np.ndarray, frames: np.ndarray, limits: np.ndarray,
                    side: str = "right") -> np.ndarray:
    """Per-joint angle outside the limits, (...,15,3) radians (0 inside)."""
    ang = axis_angle_to_anatomical(hand_pose, frames, side)
    lo, hi = limits[1:, :, 0], limits[1:, :, 1]
    return np.maximum(lo - ang, 0.0) + np.maximum(ang - hi, 0.0)

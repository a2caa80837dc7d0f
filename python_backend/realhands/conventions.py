"""Conventions shared by the whole pipeline, written down once.

Units and frames
----------------
* Lengths are metres everywhere; angles are radians unless a name says ``_deg``.
* Camera coordinates use OpenCV axes: x right, y down, z forward (into the scene). Pixels: origin at the
  top-left corner of the top-left pixel, u right, v down.
* Hand *model space* (rest pose) of our own model: origin at the wrist joint, x distal (wrist towards the
  middle-finger knuckle), z dorsal (out of the back of the hand), y = z cross x. For the right hand y points to
  the thumb side; the left model is the right one mirrored across the x-z plane (y -> -y). Official MANO files
  keep their own rest frame; the kinematics do not depend on it.
* Axis-angle vectors are rotations of a joint relative to its parent, expressed in model-space axes
  (MANO's convention: rest-pose joint frames are aligned with model space).
* Other engines' axes: glTF is x right, y up, z backwards (OpenCV with y and z negated); Unity is x right, y up,
  z forward, left-handed (OpenCV with y negated). ``opencv_to_gltf`` and ``opencv_to_unity`` convert points;
  the Unity package's C# core applies the same rule (``Conventions`` in Runtime/Core).
* Mirroring: the left model is the right one mirrored by ``MODEL_MIRROR`` (y -> -y); a horizontally flipped
  image flips camera x (``IMAGE_FLIP``). HandNet learns left hands as mirrored right hands with both.

Parameter layout
----------------
A hand's MANO parameters are ``global_orient`` (3, axis-angle), ``hand_pose`` (45), ``betas`` (10) and ``transl``
(3, metres), in that order when flattened into one vector (``MANO_PARAMS``, ``PARAM_SLICES``; 61 numbers).

Joint orders
------------
* MANO's 16 kinematic joints (``MANO_JOINT_NAMES``): wrist, then index, middle, pinky, ring, thumb, each from
  the knuckle outwards. Note pinky before ring: that is MANO's order.
* ``HandOutput.joints`` holds 21 points: those 16 then the 5 fingertips (thumb, index, middle, ring, pinky),
  which are mesh vertices.
* ``KEYPOINT_NAMES``: the 21-keypoint order of MediaPipe Hands and FreiHAND (wrist, then thumb, index, middle,
  ring, pinky, each from the base to the tip). ``MANO21_TO_KEYPOINTS`` converts.
"""
from __future__ import annotations

import numpy as np

MANO_JOINT_NAMES: tuple[str, ...] = (
    "wrist",
    "index1", "index2", "index3",
    "middle1", "middle2", "middle3",
    "pinky1", "pinky2", "pinky3",
    "ring1", "ring2", "ring3",
    "thumb1", "thumb2", "thumb3",
)
#: Parent of each MANO joint (-1 for the root).
MANO_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)
NUM_JOINTS = 16
NUM_HAND_POSE = 45  # 15 non-root joints x 3 axis-angle
NUM_BETAS = 10

FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
#: MANO joint indices of each finger, from the base outwards.
FINGER_JOINTS: dict[str, tuple[int, int, int]] = {
    "thumb": (13, 14, 15), "index": (1, 2, 3), "middle": (4, 5, 6), "ring": (10, 11, 12), "pinky": (7, 8, 9),
}
#: Fingertip vertex ids of the official MANO topology (778 vertices), in FINGERS order (as in smplx).
MANO_TIP_VERTEX_IDS: tuple[int, ...] = (744, 320, 443, 554, 671)

KEYPOINT_NAMES: tuple[str, ...] = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
#: Parent of each keypoint in KEYPOINT_NAMES order (for drawing skeletons and bone lengths).
KEYPOINT_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19)

#: ``keypoints = mano21[MANO21_TO_KEYPOINTS]``: MANO order (16 joints + 5 tips) -> MediaPipe/FreiHAND order.
MANO21_TO_KEYPOINTS: np.ndarray = np.array(
    [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20], dtype=np.int64)
#: ``mano21 = keypoints[KEYPOINTS_TO_MANO21]``: the inverse permutation.
KEYPOINTS_TO_MANO21: np.ndarray = np.argsort(MANO21_TO_KEYPOINTS)
#: Per keypoint (KEYPOINT_NAMES order), the MANO joint whose frame carries it: a joint's own, a fingertip's the
#: finger's last joint (for offsets that move with the bone, as in ``HandModel.keypoints(landmark_offsets=)``).
KEYPOINT_OWNERS: np.ndarray = np.array([0, 13, 14, 15, 15, 1, 2, 3, 3, 4, 5, 6, 6, 10, 11, 12, 12, 7, 8, 9, 9],
                                       dtype=np.int64)

SIDES = ("right", "left")
#: The wrist and the four knuckles (index, middle, ring, little), in keypoint order: the palm.
PALM_KEYPOINTS = [0, 5, 9, 13, 17]

#: The MANO parameters of one hand and their sizes, in the order of a flattened parameter vector.
MANO_PARAMS: tuple[tuple[str, int], ...] = (("global_orient", 3), ("hand_pose", NUM_HAND_POSE), ("betas", NUM_BETAS),
                                            ("transl", 3))
MANO_PARAM_NAMES: tuple[str, ...] = tuple(n for n, _ in MANO_PARAMS)
#: Where each parameter sits in the flattened vector: global_orient 0:3, hand_pose 3:48, betas 48:58, transl 58:61.
PARAM_SLICES: dict[str, slice] = {}
_at = 0
for _name, _size in MANO_PARAMS:
    PARAM_SLICES[_name] = slice(_at, _at + _size)
    _at += _size
NUM_PARAMS = _at  # 61
del _at, _name, _size

#: The left model from the right one: mirror across the model's x-z plane (y -> -y).
MODEL_MIRROR: np.ndarray = np.diag([1.0, -1.0, 1.0])
#: A horizontally flipped image seen as a camera: x -> -x.
IMAGE_FLIP: np.ndarray = np.diag([-1.0, 1.0, 1.0])
#: OpenCV camera axes -> glTF axes (y up, z backwards) and -> Unity axes (y up, z forward, left-handed).
OPENCV_TO_GLTF: np.ndarray = np.diag([1.0, -1.0, -1.0])
OPENCV_TO_UNITY: np.ndarray = np.diag([1.0, -1.0, 1.0])


def opencv_to_gltf(points: np.ndarray) -> np.ndarray:
    """(...,3) points in OpenCV camera axes -> glTF axes (what GLB files and most viewers expect)."""
    return np.asarray(points) * np.diag(OPENCV_TO_GLTF)  # a diagonal change of axes: a sign per axis


def opencv_to_unity(points: np.ndarray) -> np.ndarray:
    """(...,3) points in OpenCV camera axes -> Unity's axes (left-handed, y up)."""
    return np.asarray(points) * np.diag(OPENCV_TO_UNITY)


def check_side(side: str) -> str:
    """Return ``side`` if it is 'right' or 'left', else raise a clear error."""
    if side not in SIDES:
        raise ValueError(f"handedness must be 'right' or 'left', got {side!r}")
    return side


def conventions_dict() -> dict:
    """The conventions above as plain data (written to shared_schema/hand_conventions.json for Unity)."""
    return {
        "units": "metres",
        "camera_axes": "OpenCV: x right, y down, z forward",
        "model_axes": "x distal (wrist to middle knuckle), z dorsal, y = z cross x (thumb side on a right hand)",
        "left_from_right": "mirror across the model x-z plane (y -> -y)",
        "mano_joint_names": list(MANO_JOINT_NAMES),
        "mano_parents": list(MANO_PARENTS),
        "fingertip_order": list(FINGERS),
        "keypoint_names": list(KEYPOINT_NAMES),
        "keypoint_parents": list(KEYPOINT_PARENTS),
        "mano21_to_keypoints": [int(i) for i in MANO21_TO_KEYPOINTS],
    }

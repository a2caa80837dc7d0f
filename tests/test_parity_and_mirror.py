"""smplx parity (< 1e-6 m), left hands by mirroring, anatomical angles and limits."""
import numpy as np
import pytest
import torch

from realhands.conventions import KEYPOINTS_TO_MANO21, MANO21_TO_KEYPOINTS
from realhands.conventions import MODEL_MIRROR as MIRROR
from realhands.model import HandModel, mirror_model, quality
from realhands.model.anatomy import anatomical_to_axis_angle, axis_angle_to_anatomical, clamp_hand_pose, limit_violation
from realhands.model.parity import smplx_parity

TOL = 1e-6  # metres


@pytest.mark.parametrize("use_pca,flat", [(False, False), (False, True), (True, False), (True, True)])
def test_smplx_parity_right(right_data, use_pca, flat):
    r = smplx_parity(right_data, num_samples=12, seed=3, use_pca=use_pca, flat_hand_mean=flat, num_pca_comps=12)
    assert r["max_vertex_error_m"] < TOL and r["max_joint_error_m"] < TOL, r


def test_smplx_parity_left(left_data):
    r = smplx_parity(left_data, num_samples=12, seed=4)
    assert r["max_vertex_error_m"] < TOL and r["max_joint_error_m"] < TOL, r


def _mirror_pose(p):
    return (p.reshape(-1, 3) * np.array([-1.0, 1.0, -1.0])).reshape(p.shape)


def test_left_hand_is_the_mirror_image(right_data, left_data, rng):
    right = HandModel(right_data, dtype=torch.float64)
    left = HandModel(left_data, dtype=torch.float64)
    pose = rng.normal(size=(4, 45)) * 0.4
    glob = rng.normal(size=(4, 3)) * 0.5
    betas = rng.normal(size=(4, 10))
    a = right(hand_pose=torch.as_tensor(pose), global_orient=torch.as_tensor(glob), betas=torch.as_tensor(betas))
    b = left(hand_pose=torch.as_tensor(_mirror_pose(pose)), global_orient=torch.as_tensor(_mirror_pose(glob)),
             betas=torch.as_tensor(betas))
    np.testing.assert_allclose(b.vertices.numpy(), a.vertices.numpy() @ MIRROR, atol=1e-9)
    np.testing.assert_allclose(b.joints.numpy(), a.joints.numpy() @ MIRROR, atol=1e-9)


def test_left_mesh_is_valid_and_outward(left_data):
    f, v = left_data.faces, left_data.v_template
    assert quality.is_watertight(f) and quality.is_consistently_oriented(f)
    assert quality.signed_volume(v, f) > 0  # winding flipped with the reflection: normals still point out
    thumb_tip = v[left_data.tip_vertex_ids[0]]
    pinky_tip = v[left_data.tip_vertex_ids[4]]
    assert thumb_tip[1] < pinky_tip[1]  # the left thumb is on the -y side
    assert mirror_model(left_data).side == "right"


def test_keypoint_order_conversion_round_trips():
    x = np.arange(21)
    np.testing.assert_array_equal(x[MANO21_TO_KEYPOINTS][KEYPOINTS_TO_MANO21], x)
    assert MANO21_TO_KEYPOINTS[4] == 16 and MANO21_TO_KEYPOINTS[20] == 20  # thumb tip, pinky tip


def test_anatomical_round_trip_and_mirror_semantics(right_data, left_data, rng):
    ang = rng.uniform(-0.5, 0.5, (20, 15, 3))
    for data in (right_data, left_data):
        back = axis_angle_to_anatomical(anatomical_to_axis_angle(ang, data.joint_frames, data.side),
                                        data.joint_frames, data.side)
        np.testing.assert_allclose(back, ang, atol=1e-9)
    # the same anatomical angles give mirror-image poses on the two hands
    r = anatomical_to_axis_angle(ang, right_data.joint_frames, "right")
    left = anatomical_to_axis_angle(ang, left_data.joint_frames, "left")
    np.testing.assert_allclose(left, _mirror_pose(r), atol=1e-9)


def test_flexion_curls_fingers_towards_the_palm(right_data, left_data):
    for data in (right_data, left_data):
        m = HandModel(data, flat_hand_mean=True, dtype=torch.float64)
        ang = np.zeros((15, 3))
        ang[[0, 1, 2], 0] = np.radians([60, 60, 30])  # index MCP, PIP, DIP flexion
        out = m(hand_pose=torch.as_tensor(anatomical_to_axis_angle(ang, data.joint_frames, data.side)[None]))
        tip = out.joints[0, 17].numpy()  # index tip
        rest_tip = m().joints[0, 17].numpy()
        assert tip[2] < rest_tip[2] - 0.03  # moved to the palm side (model -z) by several cm
        ang = np.zeros((15, 3))
        ang[0, 1] = np.radians(20)  # index MCP radial deviation: towards the thumb on either hand
        out = m(hand_pose=torch.as_tensor(anatomical_to_axis_angle(ang, data.joint_frames, data.side)[None]))
        thumb_side = 1.0 if data.side == "right" else -1.0
        assert thumb_side * (out.joints[0, 17, 1] - rest_tip[1]) > 0.01


def test_limits_clamp_and_library_inside(right_data, rng):
    frames, lim = right_data.joint_frames, right_data.joint_limits
    assert np.all(lim[..., 0] < lim[..., 1])
    wild = rng.normal(size=(50, 45)) * 1.5
    clamped = clamp_hand_pose(wild, frames, lim)
    assert limit_violation(clamped, frames, lim).max() < 1e-6
    assert limit_violation(right_data.pose_library, frames, lim).max() < 1e-6
    assert limit_violation(wild, frames, lim).max() > 0.1

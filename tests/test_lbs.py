"""Forward kinematics and rotation helpers against hand-computed results."""
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from realhands.conventions import MANO_PARENTS
from realhands.model.lbs import axis_angle_to_matrix, matrix_to_axis_angle


def test_rodrigues_matches_scipy(rng):
    r = rng.normal(size=(200, 3)) * 1.5
    ours = axis_angle_to_matrix(torch.as_tensor(r)).numpy()
    np.testing.assert_allclose(ours, Rotation.from_rotvec(r).as_matrix(), atol=1e-7)


def test_matrix_to_axis_angle_round_trip_including_zero_and_pi(rng):
    r = rng.normal(size=(100, 3))
    r /= np.linalg.norm(r, axis=1, keepdims=True)
    r *= rng.uniform(0, np.pi - 1e-6, (100, 1))
    r = np.concatenate([r, [[0, 0, 0], [np.pi, 0, 0], [0, 0, -np.pi + 1e-7]]])
    back = matrix_to_axis_angle(axis_angle_to_matrix(torch.as_tensor(r))).numpy()
    np.testing.assert_allclose(Rotation.from_rotvec(back).as_matrix(), Rotation.from_rotvec(r).as_matrix(),
                               atol=1e-6)


def test_single_joint_rotation_moves_children_rigidly(right64):
    rest = right64(return_rest=True).rest_joints[0].numpy()
    pose = torch.zeros(1, 45, dtype=torch.float64)
    pose[0, 0:3] = torch.tensor([0.0, 0.0, np.pi / 2])  # index MCP (joint 1), 90 deg about model z
    out = right64(hand_pose=pose)
    joints = out.joints[0].numpy()
    Rz = Rotation.from_rotvec([0, 0, np.pi / 2]).as_matrix()
    for child in (2, 3):
        expected = rest[1] + Rz @ (rest[child] - rest[1])
        np.testing.assert_allclose(joints[child], expected, atol=1e-10)
    untouched = [j for j in range(16) if j not in (2, 3)]
    np.testing.assert_allclose(joints[untouched], rest[untouched], atol=1e-12)


def test_chain_composes_parent_rotations(right64):
    rest = right64(return_rest=True).rest_joints[0].numpy()
    r1, r2 = np.array([0.0, 0.7, 0.1]), np.array([0.0, 0.9, 0.0])
    pose = torch.zeros(1, 45, dtype=torch.float64)
    pose[0, 0:3], pose[0, 3:6] = torch.as_tensor(r1), torch.as_tensor(r2)
    glob = np.array([0.3, -0.2, 1.1])
    t = np.array([0.01, -0.2, 0.5])
    out = right64(global_orient=torch.as_tensor(glob[None]), hand_pose=pose, transl=torch.as_tensor(t[None]))
    R0, R1, R2 = (Rotation.from_rotvec(x).as_matrix() for x in (glob, r1, r2))
    J = lambda j: rest[j]  # noqa: E731
    p1 = R0 @ (J(1) - J(0)) + J(0)
    p2 = p1 + R0 @ R1 @ (J(2) - J(1))
    p3 = p2 + R0 @ R1 @ R2 @ (J(3) - J(2))
    np.testing.assert_allclose(out.joints[0, 1:4].numpy(), np.stack([p1, p2, p3]) + t, atol=1e-10)
    world = out.joint_transforms[0].numpy()
    np.testing.assert_allclose(world[3, :3, :3], R0 @ R1 @ R2, atol=1e-10)
    np.testing.assert_allclose(world[3, :3, 3], p3 + t, atol=1e-10)


def test_skin_transforms_map_rest_to_posed(right64, rng):
    pose = torch.as_tensor(rng.normal(size=(3, 45)) * 0.4)
    out = right64(hand_pose=pose, global_orient=torch.as_tensor(rng.normal(size=(3, 3))),
                  transl=torch.as_tensor(rng.normal(size=(3, 3))), return_rest=True)
    rest_h = torch.cat([out.rest_joints, torch.ones(3, 16, 1, dtype=torch.float64)], -1)
    mapped = (out.skin_transforms @ rest_h[..., None])[..., :3, 0]
    torch.testing.assert_close(mapped, out.joints[:, :16], atol=1e-10, rtol=0)
    assert MANO_PARENTS[0] == -1


def test_batched_float32_and_gradients(right_data):
    from realhands.model import HandModel

    m = HandModel(right_data, use_pca=True, num_pca_comps=6)
    pose = torch.zeros(4, 6, requires_grad=True)
    betas = torch.zeros(4, 10, requires_grad=True)
    out = m(hand_pose=pose, betas=betas)
    assert out.vertices.shape == (4, right_data.num_vertices, 3) and out.vertices.dtype == torch.float32
    assert out.keypoints.shape == (4, 21, 3)
    out.vertices.square().sum().backward()
    assert torch.isfinite(pose.grad).all() and pose.grad.abs().sum() > 0
    assert betas.grad.abs().sum() > 0


def test_wrong_pose_size_is_a_clear_error(right_data):
    from realhands.model import HandModel

    with pytest.raises(ValueError, match="expects 45"):
        HandModel(right_data)(hand_pose=torch.zeros(1, 6))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(right_data, rng):
    from realhands.model import HandModel

    pose = torch.as_tensor(rng.normal(size=(8, 45)) * 0.5, dtype=torch.float32)
    cpu = HandModel(right_data)(hand_pose=pose).vertices
    gpu = HandModel(right_data).cuda()(hand_pose=pose.cuda()).vertices.cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-5, rtol=0)

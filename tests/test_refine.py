"""Silhouette refinement: every offset moves, the divergence guard holds, alignment improves."""
import numpy as np
import torch

from realhands.camera import Camera
from realhands.metrics import silhouette_iou
from realhands.model import HandModel
from realhands.refine.silhouette import RefineConfig, SilhouetteRefiner, hand_faces
from realhands.render.rasterize import rasterize

CAM = Camera(450.0, 450.0, 160.0, 120.0, 320, 240)
K = CAM.K


def _scene():
    m = HandModel(flat_hand_mean=True)
    truth = {"global_orient": np.array([[np.pi / 2, 0.0, 0.3]]), "hand_pose": m.data.pose_library[[1]],
             "betas": np.zeros((1, 10)), "transl": np.array([[0.0, 0.0, 0.4]])}
    t = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in truth.items()}
    v = m(**t).vertices
    mask = rasterize(v, hand_faces(m), torch.as_tensor(K, dtype=torch.float32)[None], 240, 320).mask[0].numpy()
    return m, truth, mask


def _iou(m, verts, mask):
    hard = rasterize(verts, hand_faces(m), torch.as_tensor(K, dtype=torch.float32)[None], 240, 320).mask[0]
    return silhouette_iou(hard.numpy(), mask)


def test_every_offset_moves():
    m, truth, mask = _scene()
    start = dict(truth, transl=truth["transl"] + [[0.004, -0.003, 0.0]])
    r = SilhouetteRefiner(m, RefineConfig(iterations=2)).refine(start, [mask], [CAM])
    assert not r.diverged
    for k in ("global_orient", "hand_pose", "betas", "transl"):
        assert np.abs(r.params[k].numpy() - start[k]).max() > 0, k
    assert r.vertex_offsets.abs().max() > 0


def test_divergence_returns_the_unrefined_hand_flagged():
    m, truth, mask = _scene()
    start = dict(truth, transl=truth["transl"] + [[0.01, 0.0, 0.0]])
    r = SilhouetteRefiner(m, RefineConfig(iterations=5, lr=50.0)).refine(start, [mask], [CAM])
    assert r.diverged
    base = m(**{k: torch.as_tensor(v, dtype=torch.float32) for k, v in start.items()}).vertices
    torch.testing.assert_close(r.vertices, base)
    assert torch.isfinite(r.vertices).all() and (r.vertex_offsets == 0).all()


def test_refinement_pulls_a_displaced_hand_onto_its_silhouette():
    m, truth, mask = _scene()
    start = dict(truth, transl=truth["transl"] + [[0.006, -0.004, 0.0]])
    base = m(**{k: torch.as_tensor(v, dtype=torch.float32) for k, v in start.items()}).vertices
    r = SilhouetteRefiner(m, RefineConfig(iterations=15)).refine(start, [mask], [CAM])
    assert not r.diverged
    assert _iou(m, r.vertices, mask) > _iou(m, base, mask) + 0.02


def test_stereo_views():
    m, truth, mask = _scene()
    T = np.eye(4)
    T[0, 3] = -0.063  # ZED Mini baseline
    t = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in truth.items()}
    v_right = m(**t).vertices + torch.tensor([-0.063, 0.0, 0.0])
    mask_r = rasterize(v_right, hand_faces(m), torch.as_tensor(K, dtype=torch.float32)[None], 240, 320).mask[0].numpy()
    start = dict(truth, transl=truth["transl"] + [[0.005, 0.0, 0.0]])
    r = SilhouetteRefiner(m, RefineConfig(iterations=10)).refine(start, [mask, mask_r], [CAM, CAM], [np.eye(4), T])
    assert not r.diverged and r.losses[-1] < r.losses[0]

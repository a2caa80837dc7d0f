"""Metrics against hand-computed cases (FreiHAND definitions)."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from realhands import metrics as M


def test_mpjpe_hand_computed():
    gt = np.zeros((2, 3))
    pred = np.array([[0.003, 0.004, 0.0], [0.0, 0.0, 0.010]])  # 5 mm and 10 mm
    assert M.mpjpe(pred, gt, align="none") == pytest.approx(7.5)
    # root-relative: both shifted by their first point -> errors 0 and |(-3,-4,10)| mm
    assert M.mpjpe(pred, gt, align="root") == pytest.approx((0 + np.sqrt(9 + 16 + 100)) / 2)


def test_procrustes_removes_similarity_but_not_shape(rng):
    gt = rng.normal(size=(21, 3)) * 0.05
    R = Rotation.from_rotvec([0.3, -1.0, 0.5]).as_matrix()
    pred = 1.7 * gt @ R.T + np.array([0.1, -0.2, 0.5])
    assert M.mpjpe(pred, gt, align="procrustes") == pytest.approx(0.0, abs=1e-9)
    assert M.mpjpe(pred, gt, align="root") > 10
    mirrored = gt * np.array([-1, 1, 1])  # a reflection is not a rotation: must not be aligned away
    assert M.mpjpe(mirrored, gt, align="procrustes") > 1.0
    # batched = per-sample
    b = M.per_point_error_mm(np.stack([pred, pred]), np.stack([gt, gt]), align="procrustes")
    assert b.shape == (2, 21) and b.max() < 1e-6


def test_mpvpe_root_needs_roots():
    v = np.zeros((5, 3))
    with pytest.raises(ValueError, match="root"):
        M.mpvpe(v, v, align="root")
    assert M.mpvpe(v + 0.002, v, align="root", pred_root=np.array([0.002, 0, 0]),
                   gt_root=np.zeros(3)) == pytest.approx(np.sqrt(0 + 4 + 4))


def test_f_score_hand_computed():
    gt = np.array([[0, 0, 0], [0.1, 0, 0], [0.2, 0, 0], [0.3, 0, 0]], float)
    pred = gt + np.array([[0.004, 0, 0], [0.004, 0, 0], [0.02, 0, 0], [0.02, 0, 0]])
    # nearest-neighbour distances: pred->gt 4,4,20,20 mm; gt->pred 4,4,20,20 mm
    assert M.f_score(pred, gt, 0.005, align="none") == pytest.approx(0.5)
    assert M.f_score(pred, gt, 0.015, align="none") == pytest.approx(0.5)
    assert M.f_score(pred, gt, 0.025, align="none") == pytest.approx(1.0)


def test_pck_and_auc_hand_computed():
    t, pck = M.pck_curve([0.0, 10.0, 20.0, 60.0], thresholds_mm=[0, 10, 20, 30])
    np.testing.assert_allclose(pck, [0.25, 0.5, 0.75, 0.75])
    # AUC over 0..30: trapezoid of (0.25,0.5,0.75,0.75) / 30
    assert M.pck_auc([0.0, 10.0, 20.0, 60.0], [0, 10, 20, 30]) == pytest.approx((3.75 + 6.25 + 7.5) / 30)
    assert M.pck_auc(np.zeros(10)) == pytest.approx(1.0)
    assert M.pck_auc(np.full(10, 100.0)) == 0.0


def test_2d_and_silhouette_metrics():
    r = M.keypoint_error_2d([[0, 0], [3, 4], [6, 8]], [[0, 0], [0, 0], [0, 0]])
    assert r["mean_px"] == pytest.approx(5.0) and r["median_px"] == pytest.approx(5.0)
    r = M.keypoint_error_2d([[0, 0], [3, 4]], [[0, 0], [0, 0]], visible=[False, True])
    assert r["mean_px"] == 5.0
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2, :2] = True  # 4 px
    b[1:3, 1:3] = True  # 4 px, overlap 1
    assert M.silhouette_iou(a, b) == pytest.approx(1 / 7)
    assert M.pixel_accuracy(a, b) == pytest.approx(10 / 16)
    assert M.silhouette_iou(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0

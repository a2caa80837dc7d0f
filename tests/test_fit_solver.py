"""The keypoint fit's Levenberg-Marquardt solver (realhands.fit.solver) and its agreement with L-BFGS."""
import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.config import ReconstructConfig
from realhands.errors import ConfigError
from realhands.fit.keypoint_fit import KeypointFitter, term_cost
from realhands.fit.solver import levenberg_marquardt
from realhands.metrics import mpjpe
from realhands.model import HandModel
from realhands.perception.mediapipe_hands import mirror_world
from realhands.synth.sampling import sample_hand_pose

KNEE = 0.1


def _line_problem(robust: bool):
    """y = 2x - 1 sampled at 20 points, one of them a gross outlier: residuals of a line (a, b) at many (a, b)."""
    x = torch.linspace(-1, 1, 20, dtype=torch.float64)
    y = 2 * x - 1
    y[7] += 5.0

    def evaluate(X):
        r = (X[:, :1] * x[None] + X[:, 1:2] - y[None])[..., None]  # (N,20,1)
        knee = KNEE if robust else None
        r2 = (r ** 2).sum(-1)
        w = 1.0 if knee is None else 0.5 / torch.sqrt(1.0 + r2 / knee ** 2)
        return r[..., 0], torch.as_tensor(w, dtype=r.dtype).expand(r2.shape), term_cost(r, 1.0, knee)
    return evaluate


def test_levenberg_marquardt_solves_least_squares_and_shrugs_off_an_outlier():
    x0 = torch.zeros(2, dtype=torch.float64)
    free = torch.ones(2, dtype=torch.bool)
    plain = levenberg_marquardt(_line_problem(False), x0, free, 20)
    robust = levenberg_marquardt(_line_problem(True), x0, free, 50)
    # plain least squares is pulled by the outlier; the pseudo-Huber fit finds the line
    assert abs(plain.x[1].item() + 1.0) > 0.2
    assert torch.allclose(robust.x, torch.tensor([2.0, -1.0], dtype=torch.float64), atol=0.02), robust.x
    # the cost only ever falls, and a held parameter stays where it was
    held = levenberg_marquardt(_line_problem(True), torch.tensor([0.0, -1.0], dtype=torch.float64),
                               torch.tensor([True, False]), 30)
    assert held.x[1].item() == -1.0 and abs(held.x[0].item() - 2.0) < 0.05
    assert held.cost <= _line_problem(True)(torch.tensor([[0.0, -1.0]], dtype=torch.float64))[2].item()


def test_the_fast_fit_matches_the_lbfgs_fit_on_fixed_cases():
    """Both solvers minimise the same loss: from the same detections (projected known hands with 1.5 px noise and
    MediaPipe-like 3D landmarks, cold and warm starts) they land on the same articulated hands within a few
    millimetres; LM reaches a loss no higher than L-BFGS's, and its placement (one view: depth from the hand's
    size, the weakest quantity) is as close to the truth on average."""
    model = HandModel(side="right", flat_hand_mean=True)
    fits = {s: KeypointFitter(model, solver=s) for s in ("lbfgs", "lm")}
    rng = np.random.default_rng(5)
    cam = Camera(500.0, 500.0, 320.0, 240.0, 640, 480)
    absolute = {"lbfgs": [], "lm": []}
    for case in range(4):
        pose = torch.tensor(sample_hand_pose(model.data, rng)[None], dtype=torch.float32)
        go = torch.tensor(rng.normal(0, 0.4, (1, 3)), dtype=torch.float32)
        betas = torch.tensor(rng.normal(0, 0.5, (1, 10)), dtype=torch.float32)
        tr = torch.tensor([[0.02, -0.01, 0.45]], dtype=torch.float32)
        with torch.no_grad():
            gt = model.keypoints(go, pose, betas, tr)[0].numpy().astype(np.float64)
        kp = cam.project(gt)[None] + rng.normal(0, 1.5, (1, 21, 2))
        world = (gt - gt[0])[None] + rng.normal(0, 0.003, (1, 21, 3))
        init = {"global_orient": go + 0.05, "hand_pose": pose + 0.05, "betas": betas * 0, "transl": tr + 0.01}
        for start in (None, init):
            out = {s: f.fit(kp, cam.K[None], world, init=start) for s, f in fits.items()}
            a, b = (out[s].joints3d[0].numpy() for s in ("lbfgs", "lm"))
            assert mpjpe(a, b, "procrustes") < 6.0, (case, start is None)
            assert out["lm"].objective[0] <= out["lbfgs"].objective[0] * 1.01, (case, start is None)
            assert out["lm"].reprojection_px[0] < 4.0
            absolute["lbfgs"].append(mpjpe(a, gt, "none"))
            absolute["lm"].append(mpjpe(b, gt, "none"))
    assert np.mean(absolute["lm"]) < np.mean(absolute["lbfgs"]) + 5.0, absolute


def test_the_solver_is_one_choice_of_the_configuration():
    assert ReconstructConfig().fit_solver == "lbfgs"
    with pytest.raises(ConfigError, match="fit_solver"):
        ReconstructConfig(fit_solver="newton")
    with pytest.raises(ValueError, match="solver"):
        KeypointFitter(HandModel(side="right", flat_hand_mean=True), solver="adam")


def test_mirrored_world_landmarks_are_the_other_hand():
    """Mirrored landmarks match the other side's model in the mirrored pose (axis-angle mirrored as a pseudo-vector
    across the model's x-z plane) after a rotation, and no longer match their own side's."""
    models = {s: HandModel(side=s, flat_hand_mean=True, dtype=torch.float64) for s in ("right", "left")}
    z = torch.zeros(1, 3, dtype=torch.float64)
    pose = torch.as_tensor(models["right"].data.pose_library[4][None])
    right = models["right"].keypoints(z, pose, torch.zeros(1, 10, dtype=torch.float64), z)[0].numpy()
    left = models["left"].keypoints(z, pose * torch.tensor([-1.0, 1.0, -1.0], dtype=torch.float64).repeat(15),
                                    torch.zeros(1, 10, dtype=torch.float64), z)[0].numpy()
    mirrored = mirror_world(right - right[0])

    def rigid_error(a, b):  # best rotation only, mm
        a, b = a - a.mean(0), b - b.mean(0)
        U, _, Vt = np.linalg.svd(b.T @ a)
        R = U @ np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))]) @ Vt
        return np.linalg.norm(a @ R.T - b, axis=1).mean() * 1000

    assert rigid_error(mirrored, left - left[0]) < 1.0
    assert rigid_error(mirrored, right - right[0]) > 5.0
    assert mirror_world(None) is None

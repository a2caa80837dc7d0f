"""The keypoint fit's NumPy loss (realhands.fit.problem, realhands.fit.kinematics) and solvers (realhands.fit.solver):
exact against the torch model and loss, and the two solvers' agreement."""
import numpy as np
import pytest
import torch

from realhands.camera import Camera, project_points
from realhands.config import ReconstructConfig
from realhands.errors import ConfigError
from realhands.fit import problem
from realhands.fit.keypoint_fit import KeypointFitter
from realhands.fit.kinematics import KeypointKinematics, rodrigues
from realhands.fit.landmarks import landmark_offsets
from realhands.fit.solver import lbfgs, levenberg_marquardt
from realhands.metrics import mpjpe
from realhands.model import HandModel
from realhands.model.lbs import matrix_to_axis_angle
from realhands.perception.mediapipe_hands import mirror_world
from realhands.synth.sampling import sample_hand_pose

KNEE = 0.1


class _Line:
    """y = 2x - 1 sampled at 20 points, one of them a gross outlier: a line (a, b) fitted as a FitProblem is."""

    def __init__(self, robust: bool):
        self.x = np.linspace(-1, 1, 20)
        self.y = 2 * self.x - 1
        self.y[7] += 5.0
        self.knee = KNEE if robust else None

    def evaluate(self, p, jacobian=False):
        r = p[0] * self.x + p[1] - self.y
        r2 = r ** 2
        if self.knee is None:
            cost, g = float(r2.sum()), np.ones_like(r)
        else:
            root = np.sqrt(1.0 + r2 / self.knee ** 2)
            cost, g = float((self.knee ** 2 * (root - 1.0)).sum()), 0.5 / root
        if not jacobian:
            return cost
        return cost, r, g, np.stack([self.x, np.ones_like(self.x)], 1)


@pytest.mark.parametrize("solve", [levenberg_marquardt, lbfgs])
def test_the_solvers_solve_least_squares_and_shrug_off_an_outlier(solve):
    free = np.ones(2, dtype=bool)
    plain = solve(_Line(False), np.zeros(2), free, 50)
    robust = solve(_Line(True), np.zeros(2), free, 100)
    # plain least squares is pulled by the outlier; the pseudo-Huber fit finds the line
    assert abs(plain.x[1] + 1.0) > 0.2
    assert np.allclose(robust.x, [2.0, -1.0], atol=0.02), robust.x
    # the cost only falls, and a held parameter stays where it was
    held = solve(_Line(True), np.array([0.0, -1.0]), np.array([True, False]), 50)
    assert held.x[1] == -1.0 and abs(held.x[0] - 2.0) < 0.05
    assert held.cost <= _Line(True).evaluate(np.array([0.0, -1.0]))


def _mano_like(model: HandModel, rng) -> HandModel:
    """Our model with MANO's fingertip traits our own model lacks: tips skinned to several joints and
    pose-corrective offsets."""
    w = torch.as_tensor(rng.dirichlet(np.ones(3), 5), dtype=model.tip_weights.dtype)
    blend = torch.zeros_like(model.tip_weights)
    for t, owner in enumerate(model.tip_weights.argmax(1).tolist()):
        parent = model.parents[owner]
        blend[t, [owner, parent, model.parents[parent]]] = w[t]
    model.tip_weights = blend
    model.tip_posedirs = torch.as_tensor(rng.normal(0, 0.003, tuple(model.tip_posedirs.shape)),
                                         dtype=model.tip_posedirs.dtype)
    return model


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("mano_tips", [False, True])
def test_numpy_keypoints_and_their_jacobian_are_the_hand_models(side, mano_tips):
    """KeypointKinematics gives HandModel.keypoints' points (landmark offsets included) and their exact Jacobian
    (against autograd), for our model and for MANO-like fingertips (blended skinning, pose-corrective offsets)."""
    rng = np.random.default_rng(3)
    model = HandModel(side=side, flat_hand_mean=True, dtype=torch.float64)
    if mano_tips:
        model = _mano_like(model, rng)
    offsets = torch.as_tensor(rng.normal(0, 0.004, (21, 3)))
    kin = KeypointKinematics(model, offsets)
    assert kin.posed_tips == mano_tips
    pose, betas, tr = rng.normal(0, 0.5, (16, 3)), rng.normal(0, 1, 10), np.array([0.03, -0.02, 0.4])
    x = torch.as_tensor(np.concatenate([pose.ravel(), betas, tr]))

    def f(x):
        return model.keypoints(x[None, :3], x[None, 3:48], x[None, 48:58], x[None, 58:], offsets)[0]

    points, d_pose, d_betas = kin.forward(pose, betas, tr, jacobian=True)
    assert np.abs(points - f(x).numpy()).max() < 1e-8  # metres (torch keeps an epsilon in its Rodrigues)
    J = torch.autograd.functional.jacobian(f, x).numpy()
    assert np.abs(d_pose - J[..., :48]).max() < 1e-7
    assert np.abs(d_betas - J[..., 48:58]).max() < 1e-7
    assert np.abs(J[..., :48]).max() > 0.1  # (a Jacobian that is not trivially zero)


def _fit_problem(n_views: int, seed: int = 1):
    """A FitProblem of a known left hand seen in one or two views (5 px noise, a lower confidence, a missing
    triangulated point, noisy world landmarks), the point x it is evaluated at (away from the truth, joints past
    their limits), and the same data for KeypointFitter.loss."""
    rng = np.random.default_rng(seed)
    model = HandModel(side="left", flat_hand_mean=True, dtype=torch.float64)
    fitter = KeypointFitter(model, landmark_offsets=landmark_offsets(model))
    K = torch.tensor([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]], dtype=torch.float64)
    R = torch.as_tensor(rodrigues(np.array([0.0, -0.15, 0.02])))
    t = torch.tensor([-0.063, 0.0, 0.0], dtype=torch.float64)
    truth = {"global_orient": torch.tensor([[2.5, 0.3, 0.2]], dtype=torch.float64),
             "hand_pose": torch.as_tensor(rng.normal(0, 0.5, (1, 45))),
             "betas": torch.as_tensor(rng.normal(0, 1, (1, 10))),
             "transl": torch.tensor([[0.02, 0.01, 0.4]], dtype=torch.float64)}
    kp = fitter.detected(truth)
    conf = torch.ones(1, 21, dtype=torch.float64)
    conf[0, 3] = 0.3
    views = [(project_points(kp, K[None]) + torch.as_tensor(rng.normal(0, 5, (1, 21, 2))), K[None], None, None, conf),
             (project_points(kp @ R.T + t, K[None]) + torch.as_tensor(rng.normal(0, 5, (1, 21, 2))), K[None], R, t,
              conf)][:n_views]
    world = (kp - kp[:, :1])[0] + torch.as_tensor(rng.normal(0, 0.01, (21, 3)))
    points = None
    if n_views == 2:
        points = kp[0] + torch.as_tensor(rng.normal(0, 0.01, (21, 3)))
        points[4] = float("nan")
    # HandNet's keypoints (root-relative, noisy) with per-keypoint weights, as from its uncertainty head
    net = ((kp - kp[:, :1])[0] + torch.as_tensor(rng.normal(0, 0.01, (21, 3))),
           torch.as_tensor(rng.uniform(0.05, 3.0, 21)))
    at = dict(truth, hand_pose=truth["hand_pose"] + 0.6)  # away from the truth, some joints past their limits
    assert fitter.limit_excess(at["hand_pose"]).sum() > 0
    x = problem.pack(dict(at, image_t=fitter._to_image_params(at["transl"], K[None])))
    fp = problem.FitProblem(fitter,
                            [tuple(None if v is None else (v[0] if v.dim() == 3 or i == 4 else v).numpy()
                                   for i, v in enumerate(view)) for view in views],
                            world.numpy(), None if points is None else points.numpy(),
                            (net[0].numpy(), net[1].numpy()))
    return fp, x, (fitter, at, views, world, points, net)


@pytest.mark.parametrize("n_views,far", [(1, False), (2, False), (1, True)])
def test_the_numpy_loss_is_the_torch_loss_and_its_jacobian_is_exact(n_views, far):
    """FitProblem's cost equals KeypointFitter.loss on the same data (two views with triangulated points, or one
    view with the size term; confidences, a missing point, active joint limits, HandNet's keypoints), its Jacobian
    matches central differences of its residuals, and its gradient is 2 J^T W r. ``far``: the hand 10 times further
    than the detections say, so that the projected-size term is active."""
    fp, x, (fitter, at, views, world, points, net) = _fit_problem(n_views)
    if far:
        x = x.copy()
        x[-1] += np.log(10.0)  # log depth
        at = dict(at, transl=at["transl"] * 10.0)
        band, weight = fp.terms(x)[0][1][:2]  # the projected-size term follows the view's 2D term
        assert weight == fitter.w.projected_size
        assert band[0, 0] == pytest.approx(-np.log(10.0 / problem.SIZE_BAND), abs=0.15)
    cost, r, g, J = fp.evaluate(x, jacobian=True)
    cost_g, grad = fp.gradient(x)
    assert cost_g == pytest.approx(cost, rel=1e-12)
    assert np.allclose(grad, 2 * J.T @ (g * r), rtol=1e-9, atol=1e-9 * np.abs(grad).max())
    reference = fitter.loss(at, views, world[None], None if points is None else points[None],
                            (net[0][None], net[1][None]))[0].item()
    assert abs(cost - reference) < 1e-6 * reference
    numeric = np.zeros_like(J)
    for i in range(len(x)):
        step = np.zeros_like(x)
        step[i] = 1e-6
        numeric[:, i] = (fp.evaluate(x + step, True)[1] - fp.evaluate(x - step, True)[1]) / 2e-6
    assert np.abs(numeric - J).max() < 1e-5 * np.abs(J).max()


def _torch_lbfgs(problem_, x0, free, iterations):
    """The reference: torch.optim.LBFGS (lr 1, strong Wolfe, the solver's memory and tolerances) on the same cost
    and gradient, returning the lowest-cost point evaluated, its cost and the iterations run."""
    from realhands.fit import solver
    x = np.asarray(x0, np.float64).copy()
    sub = torch.tensor(x[free])
    opt = torch.optim.LBFGS([sub], lr=1.0, max_iter=iterations, history_size=solver.LBFGS_HISTORY,
                            line_search_fn="strong_wolfe", tolerance_grad=solver.LBFGS_TOLERANCE_GRAD,
                            tolerance_change=solver.LBFGS_TOLERANCE_CHANGE)
    best = {"cost": np.inf, "x": x.copy()}

    def closure():
        x[free] = sub.detach().numpy()
        cost, r, g, J = problem_.evaluate(x, jacobian=True)
        if cost < best["cost"]:
            best["cost"], best["x"] = cost, x.copy()
        sub.grad = torch.from_numpy((2.0 * J.T @ (g * r))[free])
        return torch.tensor(cost, dtype=torch.float64)

    opt.step(closure)
    return best["x"], best["cost"], opt.state[opt._params[0]]["n_iter"]


@pytest.mark.parametrize("case", ["line", "two views", "one view", "warm, pose held"])
def test_our_lbfgs_is_torchs_lbfgs(case):
    """The NumPy L-BFGS runs torch's algorithm: from the same start, over the same free parameters and budget of
    iterations, it reaches the same point (to rounding) with the same cost and the same count of iterations."""
    if case == "line":
        prob, x0, iterations = _Line(True), np.zeros(2), 30
        free = np.ones(2, dtype=bool)
    else:
        prob, x0, _ = _fit_problem(1 if case == "one view" else 2, seed=5)
        free = np.ones(problem.SIZE, dtype=bool)
        iterations = 40
        if case.startswith("warm"):
            free[problem.BETAS] = False
            iterations = 10
    ours = lbfgs(prob, x0, free, iterations)
    x_ref, cost_ref, iters_ref = _torch_lbfgs(prob, x0, free, iterations)
    assert ours.iterations == iters_ref
    assert ours.cost == pytest.approx(cost_ref, rel=1e-7)
    assert np.abs(ours.x - x_ref).max() < 1e-6 * max(1.0, np.abs(x_ref).max())
    assert ours.cost < prob.evaluate(x0) * 0.9  # (it did move)


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


class _Cliff(_Line):
    """The line problem, undefined (NaN) past a = 4: where a long line-search step lands."""

    visits = 0

    def evaluate(self, p, jacobian=False):
        out = super().evaluate(p, jacobian)
        if p[0] <= 4.0:
            return out
        self.visits += 1
        return np.nan if not jacobian else (np.nan, out[1] * np.nan, out[2], out[3])


def test_lbfgs_steps_back_from_where_the_loss_is_undefined():
    """A first step far past the cliff: the line search shortens it and goes on to the solution; the result is
    always a finite point with its true cost."""
    cliff, start = _Cliff(True), np.array([-40.0, 0.0])
    out = lbfgs(cliff, start, np.ones(2, dtype=bool), 30)
    assert cliff.visits > 0
    assert np.isfinite(out.x).all() and out.cost == _Cliff(True).evaluate(out.x)
    assert np.allclose(out.x, [2.0, -1.0], atol=0.05), out.x


def test_the_joint_limit_jacobian_does_not_jump_across_the_angle_wrap():
    """A joint turned by almost pi about its first anatomical axis (past its limit): the central difference of the
    Euler angles straddles atan2's wrap at +-pi; it is taken modulo 2 pi, so the Jacobian stays of order one."""
    model = HandModel(side="right", flat_hand_mean=True, dtype=torch.float64)
    fitter = KeypointFitter(model)
    F = fitter.frames[0].numpy()
    local = F @ rodrigues(np.array([np.pi - 2e-6, 0.0, 0.0])) @ F.T
    x = np.zeros(problem.SIZE)
    x[0:3], x[3:48] = [2.5, 0.3, 0.2], fitter.mean.numpy()
    x[3:6] = matrix_to_axis_angle(torch.as_tensor(local)).numpy()
    x[58:] = [3.2, 2.4, np.log(0.4)]
    K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    fp = problem.FitProblem(fitter, [(np.full((21, 2), 300.0), K, None, None, np.ones(21))])
    assert abs(abs(fp._euler(x[3:48].reshape(15, 3))[0, 0]) - np.pi) < 1e-5
    J = fp.evaluate(x, True)[3]
    limit_rows = J[-100:-10]  # the 90 joint-limit rows, before the 10 shape-prior rows
    assert np.abs(limit_rows[:, 3:6]).max() > 0.1  # the joint is past its limit: its rows are not empty
    assert np.abs(limit_rows).max() < 10.0


@pytest.mark.parametrize("seed", [0, 8])
def test_a_one_view_fit_with_wrong_3d_readings_stays_at_a_plausible_depth(seed):
    """A hand 45 cm away whose world landmarks (and HandNet's start) are another hand, turned another way: without
    the projected-size term the fit gave up on the keypoints and shrank the hand to a point hundreds of metres away
    (462 and 1884 m for these two seeds); with it the hand stays where its keypoints put it."""
    from scipy.spatial.transform import Rotation

    from realhands.fit.keypoint_fit import _project
    from realhands.synth.sampling import sample_hand_pose

    model = HandModel(side="right", flat_hand_mean=True, dtype=torch.float64)
    K = torch.tensor([[[600.0, 0, 320], [0, 600, 240], [0, 0, 1]]], dtype=torch.float64)
    rng = np.random.default_rng(seed)
    go = torch.as_tensor(Rotation.random(random_state=seed).as_rotvec()[None])
    pose = torch.as_tensor(sample_hand_pose(model.data, rng)[None])
    betas = torch.as_tensor(rng.normal(0, 0.5, (1, 10)))
    tr = torch.tensor([[0.0, 0.0, 0.45]], dtype=torch.float64)
    kp2d = _project(model.keypoints(go, pose, betas, tr), K).numpy() + rng.normal(0, 3, (1, 21, 2))
    go2 = torch.as_tensor(Rotation.random(random_state=seed + 1000).as_rotvec()[None])
    pose2 = torch.as_tensor(sample_hand_pose(model.data, rng)[None])
    other = model.keypoints(go2, pose2, betas, tr)
    start = {"global_orient": go2[0].numpy(), "hand_pose": pose2[0].numpy(), "betas": betas[0].numpy()}
    fit = KeypointFitter(model).fit(kp2d, K.numpy(), (other - other[:, :1]).numpy(), articulation=start)
    assert 0.2 < float(fit.transl[0, 2]) < 1.0, float(fit.transl[0, 2])

"""HandNet's per-keypoint uncertainty (realhands.net.uncertainty) and the hybrid fit that weighs HandNet's keypoints
against MediaPipe's world landmarks with it (FitWeights.handnet_3d)."""
import shutil

import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.errors import ModelFileError
from realhands.fit.keypoint_fit import FitWeights, KeypointFitter, _project
from realhands.model import HandModel
from realhands.net.uncertainty import (
    SIGMA_RANGE_MM,
    JointSigma,
    UncertaintyHead,
    aligned_errors,
    nll,
    save_head,
    train_head,
    uncertainty_path,
)
from realhands.synth.sampling import sample_hand_pose

INDEX = [5, 6, 7, 8]  # the index finger's keypoints (MCP, PIP, DIP, tip)


def test_aligned_errors_ignore_the_rotation_and_find_a_moved_keypoint():
    rng = np.random.default_rng(0)
    truth = rng.normal(0, 0.05, (2, 21, 3))
    R = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    R *= np.sign(np.linalg.det(R))
    turned = (truth - truth[:, :1]) @ R.T + 1.0  # rotated and moved: the same hand
    assert np.abs(aligned_errors(turned, truth)).max() < 1e-9
    moved = turned.copy()
    moved[1, 8] += 0.02 * R[:, 0]  # one fingertip 2 cm off
    e = np.linalg.norm(aligned_errors(moved, truth), axis=-1)
    assert e[0].max() < 1e-9 and e[1].argmax() == 8 and e[1, 8] > 0.015
    assert np.abs(aligned_errors(rng.normal(0, 0.05, (3, 21, 3)), truth[[0, 1, 0]])[:, 0]).max() == 0  # as the fit:
    # wrist-relative, turned about the wrist


def test_the_head_learns_which_keypoints_are_unsure_and_round_trips_for_its_network_only(tmp_path):
    """Features that carry the size of each keypoint's error: the NLL-trained head ranks the errors and beats a
    constant sigma; saved beside its ONNX it loads (same sigmas in NumPy), for another network it does not, and a
    damaged file is a clear error."""
    rng = np.random.default_rng(1)
    n = 1500
    scale = rng.uniform(2, 40, (n, 1)) * np.linspace(0.5, 1.5, 21)[None]  # mm, per crop and keypoint
    features = np.concatenate([np.log(scale), rng.normal(0, 1, (n, 512 - 21))], 1).astype(np.float32)
    errors = rng.normal(0, 1, (n, 21, 3)) * scale[..., None]
    train, val = np.arange(1200), np.arange(1200, n)
    head, val_nll = train_head(features, errors, train, val, epochs=40)
    X, E = torch.as_tensor(features), torch.as_tensor(errors, dtype=torch.float32)
    constant = nll(torch.log(E[train].norm(dim=-1).pow(2).mean(0).div(3).sqrt())[None].expand(len(val), 21), E[val])
    assert val_nll < float(constant) - 0.3, (val_nll, float(constant))
    onnx = tmp_path / "net.onnx"
    onnx.write_bytes(b"a network")
    path = save_head(head, uncertainty_path(onnx), onnx)
    js = JointSigma.load(onnx)
    with torch.no_grad():
        expected = torch.exp(head(X[:5])).numpy()
    got = js.sigma_mm(features[:5])
    assert got.shape == (5, 21) and np.allclose(got, expected, rtol=1e-4)
    assert np.corrcoef(np.log(got).ravel(), np.log(scale[:5]).ravel())[0, 1] > 0.9
    assert (got >= SIGMA_RANGE_MM[0]).all() and (got <= SIGMA_RANGE_MM[1]).all()
    other = tmp_path / "other.onnx"
    other.write_bytes(b"another network")
    shutil.copy(path, uncertainty_path(other))
    assert JointSigma.load(other) is None  # trained for another network
    assert JointSigma.load(tmp_path / "none.onnx") is None  # none ships
    uncertainty_path(onnx).write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelFileError, match="uncertainty_head"):
        JointSigma.load(onnx)


def test_the_shipped_network_says_how_sure_it_is(synthetic_hand_image):
    """The shipped HandNet carries its uncertainty head: every estimate has 21 finite sigmas in range."""
    from realhands.net.infer import HandNetRegressor

    reg = HandNetRegressor.default()
    if reg is None or reg.uncertainty is None:
        pytest.skip("no shipped HandNet or no uncertainty head for it")
    image, kp, side, camera = synthetic_hand_image
    est = reg.predict(image, kp, side, camera)
    assert est.features.shape == (512,)
    assert est.joint_sigma_mm.shape == (21,) and np.isfinite(est.joint_sigma_mm).all()
    assert (est.joint_sigma_mm >= SIGMA_RANGE_MM[0]).all() and (est.joint_sigma_mm <= SIGMA_RANGE_MM[1]).all()


@pytest.fixture(scope="module")
def synthetic_hand_image():
    from realhands.synth.generate import SynthConfig, SynthGenerator

    s = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0), seed=3).sample(0)
    return s.rgb_left, s.joints2d_left, s.side, s.camera


# ---- the hybrid's weighting -------------------------------------------------------------------------------------

def _case(side="right"):
    """A known hand seen in one view whose index finger the image does not show (its keypoints have confidence 0):
    only the 3D sources (MediaPipe's world landmarks, HandNet's keypoints) say where it is. Returns the model, the
    true parameters, the detections and a wrong reading of the index finger (bent 0.6 rad more at each joint)."""
    model = HandModel(side=side, flat_hand_mean=True, dtype=torch.float64)
    rng = np.random.default_rng(4)
    truth = {"global_orient": torch.tensor([[0.3, -0.2, 0.1]], dtype=torch.float64),
             "hand_pose": torch.as_tensor(sample_hand_pose(model.data, rng)[None]),
             "betas": torch.as_tensor(rng.normal(0, 0.5, (1, 10))),
             "transl": torch.tensor([[0.01, 0.02, 0.45]], dtype=torch.float64)}
    wrong = dict(truth, hand_pose=truth["hand_pose"].clone())
    wrong["hand_pose"][0, 0:9] += torch.tensor([0.0, 0.0, 0.6] * 3, dtype=torch.float64)  # index curled
    K = Camera(600.0, 600.0, 320.0, 240.0).K_tensor(torch.float64)[None]
    return model, truth, wrong, K


def _fit(model, weight, K, kp, world, articulation):
    fitter = KeypointFitter(model, FitWeights(handnet_3d=weight))
    conf = np.ones((1, 21))
    conf[0, INDEX] = 0.0  # the index finger is hidden in the image
    res = fitter.fit(_project(kp, K).numpy(), K.numpy(), world, conf, articulation=articulation)
    return res.joints3d[0].numpy()


def _index_error_mm(a, b):
    a, b = a - a[:1], b - b[:1]
    return float(np.linalg.norm(a[INDEX] - b[INDEX], axis=-1).mean() * 1000)


@pytest.mark.parametrize("side", ["right", "left"])
def test_the_hybrid_follows_the_source_that_is_sure(side):
    """HandNet right and sure of the hidden finger, MediaPipe's landmarks wrong: the fit follows HandNet (and does
    not without the term). HandNet wrong and unsure of it, the landmarks right: the fit follows the landmarks. The
    same wrong HandNet claiming to be sure would pull the fit away: it is the sigma that decides."""
    model, truth, wrong, K = _case(side)
    kp_true = model.keypoints(*(truth[k] for k in ("global_orient", "hand_pose", "betas", "transl")))
    kp_wrong = model.keypoints(*(wrong[k] for k in ("global_orient", "hand_pose", "betas", "transl")))
    world_true = (kp_true - kp_true[:, :1]).numpy()
    world_wrong = (kp_wrong - kp_wrong[:, :1]).numpy()
    truth_j = kp_true[0].numpy()
    wrong_mm = _index_error_mm(kp_wrong[0].numpy(), truth_j)
    assert wrong_mm > 25  # the wrong reading is clearly wrong (29 mm)

    sure, unsure = np.full(21, 4.0), np.full(21, 4.0)
    unsure[INDEX] = 150.0
    net_right = {k: truth[k][0].numpy() for k in ("global_orient", "hand_pose", "betas")}
    net_wrong = {k: wrong[k][0].numpy() for k in ("global_orient", "hand_pose", "betas")}

    # 1. HandNet right and sure, the landmarks wrong
    with_term = _index_error_mm(_fit(model, 1.0, K, kp_true, world_wrong, dict(net_right, joint_sigma_mm=sure)),
                                truth_j)
    start_only = _index_error_mm(_fit(model, 0.0, K, kp_true, world_wrong, dict(net_right, joint_sigma_mm=sure)),
                                 truth_j)
    assert with_term < 3.0 and with_term < 0.3 * start_only, (with_term, start_only)  # 1.0-1.2 against 17-23
    # 2. HandNet wrong and unsure of the finger, the landmarks right: they pull the finger most of the way back
    # within the cold fit's iterations (7-12 mm left of 29; as from the wrong start without the term)
    follows_world = _index_error_mm(_fit(model, 1.0, K, kp_true, world_true,
                                         dict(net_wrong, joint_sigma_mm=unsure)), truth_j)
    assert follows_world < 0.5 * wrong_mm, (follows_world, wrong_mm)
    # 3. the same wrong HandNet, claiming to be sure: the fit keeps its wrong finger (28-29 mm)
    misled = _index_error_mm(_fit(model, 1.0, K, kp_true, world_true, dict(net_wrong, joint_sigma_mm=sure)), truth_j)
    assert misled > 0.85 * wrong_mm and misled > follows_world + 8.0, (misled, follows_world)


def test_no_sigma_or_a_bad_one_leaves_the_term_out():
    model, truth, _, K = _case()
    fitter = KeypointFitter(model, FitWeights(handnet_3d=1.0))
    art = {k: truth[k][0].numpy() for k in ("global_orient", "hand_pose", "betas")}
    assert fitter.handnet_term(art) is None
    assert fitter.handnet_term(dict(art, joint_sigma_mm=None)) is None
    assert fitter.handnet_term(dict(art, joint_sigma_mm=np.full(21, np.nan))) is None
    rel, w = fitter.handnet_term(dict(art, joint_sigma_mm=np.full(21, 22.0)))
    assert rel.shape == (21, 3) and np.allclose(rel[0], 0) and np.allclose(w, 0.25)
    assert KeypointFitter(model).handnet_term(dict(art, joint_sigma_mm=np.full(21, 22.0))) is None  # weight 0


@pytest.mark.parametrize("damage", ["no digest", "version text", "version array", "version 1.5", "mean as text",
                                    "std zero", "weights cut"])
def test_a_damaged_head_file_is_one_clear_error(tmp_path, damage):
    """Any head file this version cannot use, whatever is wrong with it, is a ModelFileError naming the file."""
    onnx = tmp_path / "net.onnx"
    onnx.write_bytes(b"a network")
    path = save_head(UncertaintyHead(), uncertainty_path(onnx), onnx)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change = {"no digest": ("onnx_sha256", None), "version text": ("version", np.asarray("1")),
              "version array": ("version", np.asarray([1, 1])), "version 1.5": ("version", np.asarray(1.5)),
              "mean as text": ("mean", np.asarray(["x"] * 512)), "std zero": ("std", np.zeros(512, np.float32)),
              "weights cut": ("net.0.weight", np.zeros((3, 3), np.float32))}[damage]
    if change[1] is None:
        arrays.pop(change[0])
    else:
        arrays[change[0]] = change[1]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=path.name):
        JointSigma.load(onnx)


def test_a_second_start_from_the_mean_hand_keeps_the_lower_loss():
    """``also_from_mean``: a cold fit from HandNet's (here wrong) articulation is also run from the mean hand, and
    the result is the fit with the lower loss, whichever start found it, in one view and in two."""
    from realhands.fit.keypoint_fit import View

    model, truth, wrong, K = _case()
    kp = model.keypoints(*(truth[k] for k in ("global_orient", "hand_pose", "betas", "transl")))
    world = (kp - kp[:, :1]).numpy()
    art = {k: wrong[k][0].numpy() for k in ("global_orient", "hand_pose", "betas")}
    fitter = KeypointFitter(model)
    kp2d = _project(kp, K).numpy()
    one = {name: fitter.fit(kp2d, K.numpy(), world, **kw) for name, kw in
           (("net", {"articulation": art}), ("mean", {}), ("both", {"articulation": art, "also_from_mean": True}))}
    cost = {k: float(v.objective[0]) for k, v in one.items()}
    assert cost["both"] == pytest.approx(min(cost["net"], cost["mean"]), rel=1e-9)
    assert abs(cost["net"] - cost["mean"]) > 1e-3  # (two different minima: the choice matters here)
    cam = Camera(600.0, 600.0, 320.0, 240.0)
    T = np.eye(4)
    T[0, 3] = -0.063
    right = (kp[0].numpy() @ T[:3, :3].T + T[:3, 3])
    views = [View(kp2d[0], cam), View(_project(torch.as_tensor(right[None]), K).numpy()[0], cam, T)]
    two = {name: float(fitter.fit_views(views, world[0], **kw).objective[0]) for name, kw in
           (("net", {"articulation": art}), ("mean", {}), ("both", {"articulation": art, "also_from_mean": True}))}
    assert two["both"] == pytest.approx(min(two["net"], two["mean"]), rel=1e-9)

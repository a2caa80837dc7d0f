"""Perception (crops, heatmaps, MediaPipe on renders), keypoint fitting, masks, smoothing, reconstruct CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.fit.keypoint_fit import KeypointFitter, _project
from realhands.fit.smoothing import OneEuroFilter, quaternion_to_rotvec, rotvec_to_quaternion
from realhands.metrics import joint_errors, mpjpe, silhouette_iou
from realhands.model import HandModel
from realhands.perception.crop import hand_crop, keypoint_heatmaps
from realhands.synth.generate import SynthConfig, SynthGenerator
from realhands.synth.sampling import sample_hand_pose

from helpers import beats, mean_pose_joints

EGO = SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0, background_style="everyday")


@pytest.fixture(scope="module")
def renders():
    g = SynthGenerator(EGO, seed=321)
    return [g.sample(i) for i in range(4)]


def test_crop_affine_is_exact_and_invertible(rng):
    img = (rng.uniform(0, 255, (200, 300, 3))).astype(np.uint8)
    kp = rng.uniform([100, 60], [180, 140], (21, 2))
    for rotate in (False, True):
        c = hand_crop(img, kp, size=64, rotate=rotate)
        assert c.image.shape == (64, 64, 3)
        back = c.to_image(c.to_crop(kp))
        np.testing.assert_allclose(back, kp, atol=1e-9)
        inside = c.to_crop(kp)
        assert inside.min() > 0 and inside.max() < 64  # the margin keeps every keypoint in the crop
    # a crop pixel samples the image where the affine says: put a bright dot and find it
    img = np.zeros((200, 300, 3), np.uint8)
    img[100, 150] = 255  # pixel centre (150.5, 100.5)
    c = hand_crop(img, np.array([[130.0, 80.0], [171.0, 121.0]] * 10 + [[150.0, 100.0]]), size=101)
    peak = np.unravel_index(c.image[..., 0].argmax(), (101, 101))
    expected = c.to_crop(np.array([[150.5, 100.5]]))[0] - 0.5  # crop pixel index
    assert abs(peak[1] - expected[0]) <= 1 and abs(peak[0] - expected[1]) <= 1


def test_heatmaps_peak_at_keypoints():
    kp = np.array([[10.5, 20.5], [30.5, 5.5]] + [[100.0, 100.0]] * 19)
    hm = keypoint_heatmaps(kp, size=40, sigma=2.0)
    assert hm.shape == (21, 40, 40) and hm.dtype == np.float32
    assert np.unravel_index(hm[0].argmax(), (40, 40)) == (20, 10)
    assert np.unravel_index(hm[1].argmax(), (40, 40)) == (5, 30)
    assert hm[0].max() == pytest.approx(1.0) and hm[5].max() < 1e-6  # off-crop keypoint: empty channel
    # sigma is in pixels: value one sigma away is exp(-1/2)
    assert hm[0, 20, 12] == pytest.approx(np.exp(-0.5), rel=1e-4)


@pytest.mark.parametrize("side,solver", [("right", "lbfgs"), ("left", "lbfgs"), ("right", "lm"), ("left", "lm")])
def test_fit_recovers_known_parameters_from_clean_keypoints(side, solver):
    model = HandModel(side=side, flat_hand_mean=True)
    fitter = KeypointFitter(model, solver=solver)
    rng = np.random.default_rng(1)
    B = 3
    pose = torch.tensor(np.stack([sample_hand_pose(model.data, rng) for _ in range(B)]), dtype=torch.float32)
    go = torch.tensor(rng.normal(0, 0.4, (B, 3)), dtype=torch.float32)
    betas = torch.tensor(rng.normal(0, 0.7, (B, 10)), dtype=torch.float32)
    tr = torch.tensor(np.column_stack([rng.normal(0, 0.04, B), rng.normal(0, 0.04, B), rng.uniform(0.3, 0.5, B)]),
                      dtype=torch.float32)
    gt = model.keypoints(go, pose, betas, tr)
    K = Camera(600.0, 600.0, 320.0, 240.0).K_tensor(torch.float32)[None].expand(B, 3, 3)
    res = fitter.fit(_project(gt, K).numpy(), K.numpy(), (gt - gt[:, :1]).numpy())
    assert res.reprojection_px.max() < 3.0
    for i in range(B):
        assert mpjpe(res.joints3d[i].numpy(), gt[i].numpy(), "procrustes") < 6.0  # mm
        assert mpjpe(res.joints3d[i].numpy(), gt[i].numpy(), "none") < 40.0  # depth from size: cm-level
    # warm start from the answer stays there
    init = {"global_orient": go, "hand_pose": pose, "betas": betas, "transl": tr}
    warm = fitter.fit(_project(gt, K).numpy(), K.numpy(), (gt - gt[:, :1]).numpy(), init=init)
    assert warm.reprojection_px.max() < 1.5


_MODELS: dict = {}


def _model(side: str) -> HandModel:
    if side not in _MODELS:
        _MODELS[side] = HandModel(side=side, flat_hand_mean=True)
    return _MODELS[side]


def _errors(rows, metric: str = "pa_mpjpe_mm") -> tuple[list, list]:
    """(ours, the mean-pose hand placed as ours) for the hands a variant reconstructed."""
    ours, base = [], []
    for s, _, h in rows:
        if h is not None:
            ours.append(joint_errors(h.joints_3d, s.joints3d)[metric])
            base.append(joint_errors(mean_pose_joints(_model(h.handedness), h.mano), s.joints3d)[metric])
    return ours, base


def test_reconstruction_beats_the_constant_hand_and_mediapipes_own_3d(held_out, held_out_results):
    """The default pipeline (the keypoint fit, HandNet's mask) on held-out renders, end to end: most hands found with
    the right handedness; its 3D beats the mean-pose hand placed where it put its own and MediaPipe's world
    landmarks; depth from the hand's size within 25 % (median); HandNet's mask on the hand."""
    rows = held_out_results["default"]
    found = [(s, d, h) for s, d, h in rows if h is not None]
    assert len(found) >= 0.7 * len(rows)
    assert np.mean([d.handedness == s.side for s, d, _ in found]) >= 0.8  # MediaPipe's own handedness
    assert all(h.handedness == s.side for s, _, h in found)  # the side it was given is the model it fitted
    ours, base = _errors(rows)
    mediapipe = [joint_errors(d.world_landmarks, s.joints3d)["pa_mpjpe_mm"] for s, d, _ in found]
    beats("default PA-MPJPE mm", ours, {"mean-pose hand": base, "MediaPipe world landmarks": mediapipe},
          margin=0.3, limit=19.0)
    # on these renders MediaPipe's keypoints are poorer than on real photos (its world landmarks: ~22 mm PA here,
    # 11.3 on the real photos) and the fit inherits that; the real-photo figures are in test_real_photos.py
    # (margin 0.5: MediaPipe sizes these renders' small model hands as real hands, and the fit takes the hand's size
    # from it at twice the weight since the real photos asked for it: 36.6 -> 37.0 mm here, while on the real photos
    # the wrist went 19.7 -> 16.9 mm; test_real_photos.py holds the real bar)
    ours, base = _errors(rows, "root_relative_mpjpe_mm")
    beats("default root-relative MPJPE mm", ours, {"mean-pose hand": base}, margin=0.5, limit=38.0)
    # absolute depth rests on an assumed (mean) hand size: an unusually small or large hand is placed
    # proportionally too near or far. tools/bench/fit.py reports the median error on 200 hands.
    # (the worst: a render whose hand MediaPipe's world landmarks size far off, which the fit follows: 0.67)
    depth = [abs(h.joints_3d[0, 2] - s.joints3d[0, 2]) / s.joints3d[0, 2] for s, _, h in found]
    assert np.median(depth) < 0.25 and max(depth) < 0.75, depth
    beats("HandNet mask IoU", [silhouette_iou(h.mask, s.label_left == 1) for s, _, h in found],
          {"the keypoints' bounding box": [silhouette_iou(_box(d.keypoints_2d, s.label_left.shape), s.label_left == 1)
                                           for s, d, _ in found]}, margin=0.2, limit=0.8, higher_is_better=True)


def _box(kp: np.ndarray, shape) -> np.ndarray:
    m = np.zeros(shape, bool)
    (x0, y0), (x1, y1) = np.floor(kp.min(0)).astype(int), np.ceil(kp.max(0)).astype(int)
    m[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1] = True
    return m


def test_every_variant_beats_what_it_builds_on(held_out, held_out_results):
    """HandNet alone beats the constant hand, the fit alone beats MediaPipe's own 3D, and the hybrid (the fit
    from HandNet's articulation) beats the constant hand and stays level with the fit on renders (same
    detections, same renders). Its gain over the fit is on real photos, where HandNet turns and places the hand
    worse than it reads the fingers: tests/test_real_photos.py holds it there."""
    hybrid, _ = _errors(held_out_results["hybrid"])
    fit, fit_base = _errors(held_out_results["fit"])
    net, net_base = _errors(held_out_results["net"])
    mediapipe = [joint_errors(d.world_landmarks, s.joints3d)["pa_mpjpe_mm"] for s, d, h in held_out_results["fit"]
                 if h is not None]
    _, hybrid_base = _errors(held_out_results["hybrid"])
    beats("hybrid PA-MPJPE mm", hybrid, {"mean-pose hand": hybrid_base}, margin=0.8, limit=18.0)
    beats("hybrid PA-MPJPE mm, level with the fit", hybrid, {"keypoint fit alone + 0.5 mm": np.add(fit, 0.5)},
          margin=0.0, limit=18.0)
    beats("HandNet alone PA-MPJPE mm", net, {"mean-pose hand": net_base}, margin=0.8, limit=18.0)
    beats("keypoint fit alone PA-MPJPE mm", fit, {"MediaPipe world landmarks": mediapipe, "mean-pose hand": fit_base},
          margin=0.3, limit=19.0)


def test_refinement_brings_the_mesh_onto_the_silhouette(held_out_results):
    """Three refinement steps against HandNet's mask (not a perfect silhouette) move the mesh's outline towards
    the rendered hand: IoU of the mesh's silhouette with the hand label, with and without refinement."""
    from realhands.refine.silhouette import hand_faces
    from realhands.render.rasterize import rasterize

    def iou(s, h):
        model = _model(h.handedness)
        K = s.camera.K_tensor(torch.float32)[None]
        v = torch.as_tensor(h.vertices, dtype=torch.float32)[None]
        return silhouette_iou(rasterize(v, hand_faces(model), K, *s.label_left.shape).mask[0].numpy(),
                              s.label_left == 1)

    pairs = [(iou(s, h0), iou(s, h3), h3.refined) for (s, _, h0), (_, _, h3) in
             zip(held_out_results["default"], held_out_results["refined"], strict=True) if h0 is not None]
    assert all(refined for _, _, refined in pairs)
    beats("mesh silhouette IoU", [b for _, b, _ in pairs], {"unrefined": [a for a, _, _ in pairs]}, margin=0.005,
          limit=0.65, higher_is_better=True)


def test_no_hand_gives_empty_list():
    from realhands.reconstruct import reconstruct

    assert reconstruct(np.full((240, 320, 3), 127, np.uint8)) == []
    with pytest.raises(ValueError, match="RGB image"):
        reconstruct(np.zeros((10, 10), np.uint8))


def test_masks_beat_the_hsv_baseline(renders):
    from realhands.perception.mediapipe_hands import HandDetector
    from realhands.perception.segment import grabcut_mask, hsv_skin_mask

    det = HandDetector()
    gc, hsv = [], []
    for s in renders:
        d = det.detect(s.rgb_left)
        if not d:
            continue
        gt = s.label_left == 1
        gc.append(silhouette_iou(grabcut_mask(s.rgb_left, d[0].keypoints_2d), gt))
        hsv.append(silhouette_iou(hsv_skin_mask(s.rgb_left), gt))
    assert np.mean(gc) > np.mean(hsv)


def test_one_euro_filter_smooths_noise_and_follows_motion():
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    clean = np.where(t < 5, 0.0, 1.0)  # still, then a step
    noisy = clean + rng.normal(0, 0.05, t.shape)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.5)
    out = np.array([f(np.array([x]), ti)[0] for x, ti in zip(noisy, t, strict=True)])
    assert np.std(out[30:140] - clean[30:140]) < 0.5 * np.std(noisy[30:140] - clean[30:140])
    assert abs(out[-1] - 1.0) < 0.05  # catches up after the step
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0)


def test_the_filters_quaternions_are_the_rotations():
    """Axis-angle -> quaternion -> axis-angle returns the rotation (the same matrix), for tiny angles, ordinary ones
    and angles at and near pi; a quaternion of either sign or any norm means the same rotation."""
    from realhands.fit.kinematics import rodrigues

    rng = np.random.default_rng(4)
    axes = rng.normal(size=(40, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.concatenate([[0.0, 1e-10, 1e-5], rng.uniform(0, np.pi, 34), [np.pi - 1e-6, np.pi, 3.0]])
    for v in axes * angles[:, None]:
        q = rotvec_to_quaternion(v)
        assert abs(np.linalg.norm(q) - 1) < 1e-12 and q[0] >= -1e-12
        for back in (quaternion_to_rotvec(q), quaternion_to_rotvec(-3.0 * q)):
            assert np.abs(rodrigues(back) - rodrigues(v)).max() < 1e-9
            assert np.linalg.norm(back) <= np.pi + 1e-9


def test_reconstruct_cli_carries_on_after_bad_files(tmp_path, renders):
    from PIL import Image

    Image.fromarray(renders[0].rgb_left).save(tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"corrupt")
    Image.new("RGB", (64, 48), (90, 90, 90)).save(tmp_path / "c.png")
    out = tmp_path / "r.jsonl"
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "reconstruct", str(tmp_path / "b.jpg"),
                          str(tmp_path / "a.jpg"), str(tmp_path / "missing.jpg"), str(tmp_path / "c.png"),
                          "--out", str(out), "--overlay", str(tmp_path / "ov"), "--no-vertices"],
                         capture_output=True, text=True)
    assert res.returncode == 1  # some inputs failed, all were processed
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [("error" in x) for x in lines] == [True, False, True, False]
    assert "cannot read" in lines[0]["error"] and "no such image" in lines[2]["error"]
    hand = lines[1]["hands"][0]
    assert len(hand["keypoints_2d"]) == 21 and len(hand["joints_3d"]) == 21 and "vertices" not in hand
    assert set(hand["mano"]) == {"global_orient", "hand_pose", "betas", "transl"}
    assert lines[3]["hands"] == []
    assert (tmp_path / "ov" / "a.jpg").exists()


def test_reconstruct_cli_reads_videos_and_reports_broken_ones(tmp_path, renders):
    import cv2

    path = tmp_path / "clip.mp4"
    h, w = renders[0].rgb_left.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    for s in renders[:3]:
        writer.write(cv2.cvtColor(s.rgb_left, cv2.COLOR_RGB2BGR))
    writer.release()
    (tmp_path / "broken.mp4").write_bytes(path.read_bytes()[:200])  # truncated: no readable frame
    (tmp_path / "clip.m4v").write_bytes(path.read_bytes())  # every video suffix is a video (.m4v was an image)
    out = tmp_path / "v.jsonl"
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "reconstruct", str(tmp_path / "broken.mp4"),
                          str(path), str(tmp_path / "clip.m4v"), "--out", str(out), "--no-vertices"],
                         capture_output=True, text=True)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert res.returncode == 1 and "error" in lines[0] and sum("error" in x for x in lines) == 1
    for name in ("clip.mp4", "clip.m4v"):
        frames = [x for x in lines[1:] if f"{name}#frame=" in x["image"]]
        assert len(frames) == 3 and sum(bool(x["hands"]) for x in frames) >= 2, name


def test_reconstruct_cli_refines_when_asked(tmp_path, renders):
    from PIL import Image

    Image.fromarray(renders[0].rgb_left).save(tmp_path / "a.jpg")
    out = tmp_path / "r.jsonl"
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "reconstruct", str(tmp_path / "a.jpg"), "--out",
                          str(out), "--no-vertices", "--refine-iterations", "3"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    hand = json.loads(out.read_text().splitlines()[0])["hands"][0]
    assert hand["refined"] is True and "refine" in hand["timings_ms"] and "mask" in hand["timings_ms"]


def test_reconstruct_cli_writes_the_fused_texture_and_a_textured_glb(tmp_path, renders):
    import trimesh
    from PIL import Image

    for i, s in enumerate(renders[:2]):
        Image.fromarray(s.rgb_left).save(tmp_path / f"{i}.png")
    out, tex = tmp_path / "t.jsonl", tmp_path / "tex"
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "reconstruct", str(tmp_path / "0.png"),
                          str(tmp_path / "1.png"), "--out", str(out), "--no-vertices", "--texture", str(tex),
                          "--texture-size", "256"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    hands = [h for line in out.read_text().splitlines() for h in json.loads(line)["hands"]]
    assert hands and all(h["texture_version"] >= 1 and "texture" in h["timings_ms"] for h in hands)
    pngs = sorted(p for p in tex.glob("images_*.png") if not p.stem.endswith("_observed"))
    assert pngs and {p.stem for p in pngs} == {f"images_{h['handedness']}" for h in hands}
    seen = np.asarray(Image.open(pngs[0].with_name(pngs[0].stem + "_observed.png")))
    assert seen.shape == (256, 256) and 0 < (seen > 0).mean() < 0.9  # where the texture was seen, and how well
    atlas = np.asarray(Image.open(pngs[0]).convert("RGB"))
    assert atlas.shape == (256, 256, 3) and atlas.std() > 5  # image colours, not a flat fill
    glb = trimesh.load(pngs[0].with_suffix(".glb"), force="mesh")
    assert glb.visual.kind == "texture" and glb.visual.uv.shape[0] == len(glb.vertices)
    assert glb.visual.material.baseColorTexture.size == (256, 256)


def test_reconstruct_with_a_handnet_model_runs_the_hybrid(renders, tmp_path):
    """HandNet wired in (an untrained network from a given path, then the shipped weights by default): its estimate
    starts the short keypoint fit, its mask feeds the refinement, and a bad path is a clear error."""
    import torch

    from realhands.net import HandNet, HandNetConfig, export_onnx
    from realhands.reconstruct import Reconstructor

    torch.manual_seed(0)
    path = export_onnx(HandNet(HandNetConfig(width=0.25, input_size=96)), tmp_path / "h.onnx")
    rec = Reconstructor(regressor="handnet", handnet=str(path), mask="handnet", refine_iterations=1)
    s = renders[0]
    hands = rec(s.rgb_left, s.camera)
    assert hands and {"handnet", "fit", "refine"} <= set(hands[0].timings_ms)
    assert hands[0].mask.shape == s.label_left.shape
    # the shipped weights: "auto" is the hybrid (the fit from HandNet's articulation: it wins on real photos,
    # docs/RESULTS.md) and takes HandNet's mask (3D accuracy against baselines: test_every_variant_beats_...)
    auto = Reconstructor(refine_iterations=0)
    assert auto.handnet is not None and auto.regressor == "handnet" and auto.mask_source == "handnet"
    hands = auto(s.rgb_left, s.camera)
    assert hands and "handnet" in hands[0].timings_ms
    assert np.median(np.linalg.norm(s.camera.project(hands[0].joints_3d) - s.joints2d_left, axis=1)) < 12
    assert silhouette_iou(hands[0].mask, s.label_left == 1) > 0.7
    with pytest.raises(RuntimeError, match="no HandNet ONNX model"):
        Reconstructor(regressor="handnet", handnet=str(tmp_path / "missing.onnx"))


def test_the_stages_run_alone_and_compose_into_solve(renders):
    """Each stage of Reconstructor.solve can be called (and timed) on its own over a HandState; in sequence they
    give exactly what solve gives."""
    from realhands.reconstruct import HandState, Reconstructor

    choices = {"mask": "handnet", "refine_iterations": 2, "texture_size": 64}
    rec = Reconstructor(**choices)
    s = renders[0]
    dets = rec.detect(s.rgb_left)
    assert dets
    other = "left" if dets[0].handedness == "right" else "right"
    assert [side for side, *_ in rec.assign_sides([dets[0], dets[0]])] == [dets[0].handedness, other]
    side, det, *_ = rec.assign_sides(dets[:1])[0]
    st = HandState(side, det, s.camera, rec.models[side])
    assert rec.estimate(st, s.rgb_left) and st.estimate is not None
    assert rec.fit(st) and st.params["hand_pose"].shape == (1, 45) and st.reprojection_px < 15
    assert not rec.smooth(st, 0.0)  # unrelated images are not smoothed
    assert rec.mask(st, s.rgb_left) and st.mask is st.estimate.mask
    assert rec.refine(st) and st.refined and st.vertex_offsets is not None
    assert rec.texture(st, s.rgb_left) and st.texture_version == rec.textures[side].version == 1
    alone = st.result()
    whole = Reconstructor(**choices).solve(s.rgb_left, dets[:1], s.camera)[0]
    np.testing.assert_allclose(alone.joints_3d, whole.joints_3d, atol=1e-9)
    assert set(whole.timings_ms) == {"detect", "handnet", "fit", "mask", "refine", "texture"}


def test_a_hand_fitted_in_two_views_is_smoothed_with_the_stereo_cut_off(renders):
    """Video smoothing follows a step of the wrist faster for a hand fitted in two views (smoothing_stereo_hz) than
    for one fitted in one (smoothing_hz), by the One Euro filter's own gain; smoothing_stereo_hz = 0 passes a
    two-view frame as fitted; a bad value is one clear error."""
    import math

    from realhands.config import ConfigError
    from realhands.reconstruct import HandState, Reconstructor

    s = renders[0]
    still = Reconstructor(mask="none", texture_size=0)
    det = still.detect(s.rgb_left)[0]
    st = HandState(det.handedness, det, s.camera, still.models[det.handedness])
    assert still.fit(st)
    fitted = {k: v.clone() for k, v in st.params.items()}
    step = 0.02  # m, along x, between two frames 1/30 s apart

    def followed(rec, views, first_views=None):
        """The share of the step the smoothed wrist took (the frame before it fitted in ``first_views`` views)."""
        st.views = first_views or views
        st.set_params(fitted)
        rec.smooth(st, 0.0)
        before = st.params["transl"][0, 0].item()
        moved = dict(fitted, transl=fitted["transl"] + torch.tensor([[step, 0.0, 0.0]], dtype=torch.float64))
        st.views = views
        st.set_params(moved)
        rec.smooth(st, 1 / 30)
        rec.reset()
        return (st.params["transl"][0, 0].item() - before) / step

    def gain(hz, beta=0.3, dt=1 / 30):  # the One Euro filter's gain on this step (its speed term from dx = step/dt)
        d_alpha = 1 / (1 + 1 / (2 * math.pi * 1.0 * dt))
        cutoff = hz + beta * d_alpha * step / dt
        return 1 / (1 + 1 / (2 * math.pi * cutoff * dt))

    rec = Reconstructor(video=True, mask="none", texture_size=0, smoothing_hz=1.5, smoothing_stereo_hz=3.0)
    one, two = followed(rec, 1), followed(rec, 2)
    assert one == pytest.approx(gain(1.5), abs=1e-6) and two == pytest.approx(gain(3.0), abs=1e-6)
    assert two > one * 1.5
    # one filter across frames: the cut-off follows the views each frame was fitted in
    assert followed(rec, 2, first_views=1) == pytest.approx(gain(3.0), abs=1e-6)
    assert followed(rec, 1, first_views=2) == pytest.approx(gain(1.5), abs=1e-6)
    raw = Reconstructor(video=True, mask="none", texture_size=0, smoothing_stereo_hz=0)
    assert followed(raw, 2) == pytest.approx(1.0) and followed(raw, 1) == pytest.approx(gain(1.5), abs=1e-6)
    for bad in (-1.0, float("nan"), "3", True):
        with pytest.raises(ConfigError, match="smoothing_stereo_hz"):
            Reconstructor(smoothing_stereo_hz=bad)


def test_selfie_images_keep_their_handedness_with_mirrored(renders):
    """A selfie camera shows a mirror image: the same hand flipped left to right. With mirrored=True the detector
    reports the person's actual hand for it, as mirrored=False does for the unflipped image."""
    from realhands.perception.mediapipe_hands import HandDetector

    s = renders[0]
    selfie = np.ascontiguousarray(s.rgb_left[:, ::-1])
    with HandDetector(mirrored=False) as plain, HandDetector(mirrored=True) as mirror:
        assert [d.handedness for d in plain.detect(s.rgb_left)] == [s.side]
        assert [d.handedness for d in mirror.detect(selfie)] == [s.side]
        assert [d.handedness for d in plain.detect(selfie)] == ["left" if s.side == "right" else "right"]


def test_a_model_without_measured_landmark_offsets_is_announced_once(monkeypatch, tmp_path):
    """A hand model the landmark offsets were not measured for (an official MANO file) fits without them; the
    Reconstructor says so in one note naming the model and the command that measures them, which ``realhands
    reconstruct`` and the live process print; our model (offsets shipped) and a fit told not to use them have none."""
    import realhands.reconstruct as reconstruct
    from realhands.batch import reconstruct_files

    assert reconstruct.Reconstructor(texture_size=0).notes == []
    assert reconstruct.Reconstructor(texture_size=0, landmark_offsets=False).notes == []
    monkeypatch.setattr(reconstruct, "landmark_offsets", lambda model: None)
    rec = reconstruct.Reconstructor(texture_size=0)
    assert len(rec.notes) == 1 and "right, left" in rec.notes[0] and "tools.build.landmark_offsets" in rec.notes[0]
    assert all(f.offsets is None for f in rec.fitters.values())
    from PIL import Image

    Image.new("RGB", (64, 48)).save(tmp_path / "empty.png")  # no hand: one line without hands
    printed = []
    summary = reconstruct_files([str(tmp_path / "empty.png")], tmp_path / "out.jsonl", log=printed.append)
    assert summary.written == 1 and printed == rec.notes, printed
    assert reconstruct.Reconstructor(texture_size=0, regressor="net").notes == []  # no keypoint fit: nothing to say
    from realhands.config import LiveConfig
    from realhands.live import LivePipeline
    from realhands.live.sources import SyntheticSource

    printed.clear()
    pipe = LivePipeline(SyntheticSource(num_frames=1, resolution="160x120"), LiveConfig(texture_size=0),
                        log=printed.append)
    assert printed == pipe.rec.notes == rec.notes, printed
    pipe.close()


@pytest.fixture(scope="module")
def clip_views():
    """The left views of the shipped synthetic clip's first 40 frames (one right hand, 640x480)."""
    from realhands.live.sources import DEMO_CLIP
    from realhands.recording import recording_source

    src = recording_source(DEMO_CLIP)
    try:
        return [f.views[0] for f, _ in zip(src, range(40), strict=False)]
    finally:
        src.close()


def _keypoints(res, shape):
    h, w = shape[:2]
    return [np.array([[p.x * w, p.y * h] for p in lms.landmark]) for lms in (res.multi_hand_landmarks or [])]


def test_the_palm_search_cadence_is_mediapipes_tracker_with_fewer_searches(clip_views):
    """palm_search_frames=1 is mp.solutions.hands exactly; at 10, a tracked hand is tracked exactly as MediaPipe
    tracks it, and the palm detector runs on a tenth of the frames (and after a doubtful reading: handedness changed
    or unsure) instead of on every frame where fewer hands than allowed are tracked."""
    import mediapipe as mp

    from realhands.perception.mediapipe_hands import DOUBTFUL_SCORE, HandDetector

    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2) as legacy, \
            HandDetector(static_image_mode=False, palm_search_frames=1, mirrored=True) as same, \
            HandDetector(static_image_mode=False, palm_search_frames=10, mirrored=True) as sparse:
        labels, unsure = [], []
        for img in clip_views:
            ref = _keypoints(legacy.process(img), img.shape)
            a, b = same.detect(img), sparse.detect(img)
            assert len(a) == len(ref)
            for d, r in zip(a, ref, strict=True):
                np.testing.assert_array_equal(d.keypoints_2d, r)
            assert b, "the sparse cadence lost the tracked hand"
            labels.append(sorted(d.handedness for d in b))
            unsure.append(any(d.score < DOUBTFUL_SCORE for d in b))
            for d in b:  # every hand it reports is one MediaPipe reports, to the bit
                assert min(np.abs(d.keypoints_2d - r).max() for r in ref) == 0.0
    assert same.palm_searches >= len(clip_views) - 1  # one hand in view, two allowed: MediaPipe searches each frame
    doubtful = sum((len(a) == len(b) and a != b) or low
                   for a, b, low in zip(labels[:-1], labels[1:], unsure[1:], strict=True))
    assert sparse.palm_searches <= len(clip_views) // 10 + 1 + doubtful
    assert sparse.palm_searches < same.palm_searches / 2


def test_a_second_hand_is_found_within_the_palm_search_cadence(clip_views):
    """One hand tracked; from frame 5 a second hand (the first's mirror image: a left hand) is in view too. MediaPipe
    finds it on the next palm search: within palm_search_frames frames; none is found while it is not there. (A
    still scene: the palm detector's verdict on a frame then does not depend on which frame it runs on.)"""
    from realhands.perception.mediapipe_hands import HandDetector

    one = np.roll(clip_views[29], -200, axis=1)  # the right hand moved to the image's left half
    two = np.ascontiguousarray(np.concatenate([one[:, :320], one[:, ::-1][:, 320:]], axis=1))
    with HandDetector(static_image_mode=True) as still:
        assert sorted(d.handedness for d in still.detect(two)) == ["left", "right"]
    frames = [one] * 5 + [two] * 25
    for every in (1, 10):
        found, searched = [], []
        with HandDetector(static_image_mode=False, palm_search_frames=every) as det:
            for f in frames:
                before = det.palm_searches
                found.append(sorted(d.handedness for d in det.detect(f)))
                searched.append(det.palm_searches > before)
        assert all(f == ["right"] for f in found[:5])
        first = next(i for i, f in enumerate(found) if f == ["left", "right"])
        # found on the first frame the graph was asked to search (not before: the gate works), within the cadence
        assert first == next(i for i in range(5, len(frames)) if searched[i]), (every, found, searched)
        assert first < 5 + every, (every, found)
        assert all(f == ["left", "right"] for f in found[first:])
        if every == 10:
            assert first > 5  # the still scene's reading is sure: the cadence, not a doubt, found it


def test_when_the_palm_detector_runs(monkeypatch):
    """The cadence's rule, frame by frame, on MediaPipe's readings made up (its graph replaced): every frame with no
    hand tracked; every Nth frame while fewer hands than allowed are; the frame after a handedness change or an
    unsure reading; never with max_num_hands tracked; a frame whose processing fails changes nothing."""
    from types import SimpleNamespace as NS

    from realhands.perception.mediapipe_hands import DOUBTFUL_SCORE, HandDetector

    sure, unsure = 0.95, DOUBTFUL_SCORE / 2
    frames = [  # (MediaPipe's readings of the frame: label, handedness score), whether the palm detector runs on it
        ([("Left", sure)], True),  # nothing tracked before
        ([("Left", sure)], False), ([("Left", sure)], False), ([("Left", sure)], False),
        ([("Left", sure)], True),  # the 4th frame since the last search
        ([("Right", sure)], False),
        ([("Right", unsure)], True),  # after a relabelling
        ([("Right", sure)], True),  # after an unsure reading
        ([("Right", sure), ("Left", unsure)], False),
        ([("Right", sure)], False),  # two hands tracked (max_num_hands): never, unsure or not
        ("fail", False),  # the frame's processing fails: nothing changes
        ([], False),
        ([], True),  # nothing tracked
    ]
    asked = []

    def process(inputs):
        asked.append(inputs["detect_palms"])
        readings = frames[len(asked) - 1][0]
        if readings == "fail":
            raise RuntimeError("a graph error")
        point = NS(x=0.5, y=0.5, z=0.0)
        return NS(multi_hand_landmarks=[NS(landmark=[point] * 21) for _ in readings] or None,
                  multi_hand_world_landmarks=[NS(landmark=[point] * 21) for _ in readings] or None,
                  multi_handedness=[NS(classification=[NS(label=lab, score=sc)]) for lab, sc in readings] or None)

    with HandDetector(static_image_mode=False, palm_search_frames=4) as det:
        monkeypatch.setattr(det._hands, "process", process)
        image = np.zeros((48, 64, 3), np.uint8)
        for readings, _ in frames:
            if readings == "fail":
                with pytest.raises(RuntimeError):
                    det.detect(image)
            else:
                assert len(det.detect(image)) == len(readings)
    assert asked == [runs for _, runs in frames]
    assert det.palm_searches == sum(runs for readings, runs in frames if readings != "fail")

"""HandNet: shapes, training targets, a tiny overfit, stage freezing, checkpoints, ONNX parity, the CLI."""
import json

import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.model import HandModel
from realhands.net import (
    CheckpointError,
    HandNet,
    HandNetConfig,
    OnnxError,
    RecipeError,
    StereoFusion,
    build_from_checkpoint,
    checkpoint_from_onnx,
    export_onnx,
    load_checkpoint,
    load_recipe,
    parity,
    train,
)
from realhands.net.backbones import load_torchvision_resnet, resnet_stages
from realhands.net.data import Augment, HandNetDataset, make_sample
from realhands.net.losses import mano_loss
from realhands.net.train import STAGES, set_trainable, train_mode
from realhands.synth.dataset import SynthOnTheFlyDataset, sample_pair

SMALL = HandNetConfig(backbone="resnet18", width=0.25, input_size=64)


def tiny_recipe(tmp_path, stages: str, train: str = ""):
    """A recipe for the SMALL network (64 px, batch 4) with the given [[stages]] TOML."""
    f = tmp_path / "tiny.toml"
    f.write_text("[model]\nbackbone='resnet18'\nwidth=0.25\ninput_size=64\n[train]\nbatch_size=4\n"
                 "val_fraction=0.25\n" + train + stages)
    return load_recipe(str(f))


@pytest.fixture(scope="module")
def synth8():
    """8 synthetic samples rendered once (both hands occur)."""
    from realhands.synth.generate import SynthConfig

    base = SynthOnTheFlyDataset(8, seed=5, config=SynthConfig(resolution="320x240"))
    return [base[i] for i in range(8)]


@pytest.mark.parametrize("backbone,kp", [("resnet18", True), ("resnet34", False), ("resnet50", True)])
def test_shapes(backbone, kp):
    net = HandNet(HandNetConfig(backbone=backbone, width=0.25, input_size=64, use_keypoints=kp)).eval()
    with torch.no_grad():
        o = net(torch.rand(2, 3, 64, 64), torch.rand(2, 21, 64, 64) if kp else None)
    assert o["pose"].shape == (2, 48) and o["shape"].shape == (2, 10) and o["cam"].shape == (2, 3)
    assert o["features"].shape == (2, 512) and o["mask_logits"].shape == (2, 1, 64, 64)
    assert hasattr(net, "keypoint_head") == kp
    if kp:
        with pytest.raises(ValueError, match="heatmaps"):
            net(torch.rand(1, 3, 64, 64))


def test_stereo_fusion_starts_as_the_average_and_weights_per_parameter():
    sf = StereoFusion()
    fl, fr = torch.rand(3, 512), torch.rand(3, 512)
    pl, pr = torch.rand(3, 48), torch.rand(3, 48)
    pose, w = sf(fl, fr, pl, pr)
    assert w.shape == (3, 48) and torch.allclose(pose, (pl + pr) / 2)


def test_torchvision_weights_load_with_an_adapted_keypoint_conv():
    src, _ = resnet_stages("resnet18")
    tv = {("" if not k.startswith("stem.") else "") + k.replace("stem.", ""): v for k, v in src.state_dict().items()}
    tv["fc.weight"] = torch.zeros(1000, 512)
    dst, _ = resnet_stages("resnet18", in_channels=21)
    skipped = load_torchvision_resnet(dst, tv)
    assert skipped == []
    assert torch.allclose(dst["layer3"][0].conv1.weight, src["layer3"][0].conv1.weight)
    w = dst["stem"].conv1.weight
    assert w.shape[1] == 21 and torch.allclose(w[:, 0], src["stem"].conv1.weight.mean(1) * 3 / 21)


def test_training_targets_are_consistent(synth8):
    model = HandModel(side="right", flat_hand_mean=True)
    sides = set()
    for i, s in enumerate(synth8):
        sides.add(s["side"])
        d = make_sample(s, np.random.default_rng(i), 96, Augment())
        p = d["pose"][None]
        kp = model.keypoints(p[:, :3], p[:, 3:], d["shape"][None], torch.zeros(1, 3))[0]
        kp = kp - kp[:1]
        assert (kp - d["joints3d"]).norm(dim=-1).max() < 2e-3  # a right hand with the targets is the (mirrored) hand
        uv = d["cam"][0] * d["joints3d"][:, :2] + d["cam"][1:]
        assert (uv - d["kp2d"]).norm(dim=-1).mean() < 0.12      # weak perspective fits the crop's keypoints
        assert d["rgb"].shape == (3, 96, 96) and d["heatmaps"].shape == (21, 96, 96) and d["mask"].sum() > 20
    assert sides == {"left", "right"}


def _batch(items):
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def test_compact_samples_expand_to_the_full_ones(synth8):
    """The loaders of a GPU run ship uint8 crops and the heatmaps' keypoints; expanded on the device they are the
    samples the CPU path makes (same crop, same maps, same targets), also prefixed as in stereo pairs."""
    from realhands.net.data import expand_batch
    from realhands.perception.crop import keypoint_heatmaps, keypoint_heatmaps_torch

    def batch(compact):
        return _batch([make_sample(s, np.random.default_rng(i), 160, Augment(), compact=compact)
                       for i, s in enumerate(synth8)])

    full, small = batch(False), batch(True)
    assert small["rgb"].dtype == torch.uint8 and "heatmaps" not in small and small["heat_keypoints"].shape == (8, 21, 2)
    nbytes = [sum(v.numel() * v.element_size() for v in b.values()) for b in (small, full)]
    assert nbytes[0] * 15 < nbytes[1], nbytes  # at the shipped model's 160 px
    for prefix in ("", "l_"):
        got = expand_batch({prefix + k: v for k, v in small.items()})
        assert set(got) == {prefix + k for k in full}
        for k, v in full.items():
            assert got[prefix + k].dtype == v.dtype
            assert torch.allclose(got[prefix + k], v, atol=1e-6), k
    assert expand_batch(full) == full  # a full batch passes through
    # the torch maps are the NumPy ones, for points inside, on the edge and far outside (a dropped keypoint)
    kp = np.array([[10.3, 20.7], [0.0, 63.9], [-1000.0, -1000.0]] * 7, np.float32)
    ref = keypoint_heatmaps(kp, 64, sigma=1.3)
    assert np.abs(keypoint_heatmaps_torch(torch.from_numpy(kp)[None], 64, 1.3)[0].numpy() - ref).max() < 1e-6


def test_tiny_overfit_loss_falls(synth8):
    torch.manual_seed(0)
    model = HandModel(side="right", flat_hand_mean=True)
    b = _batch([make_sample(s, np.random.default_rng(i), 64, Augment.none()) for i, s in enumerate(synth8)])
    net = HandNet(SMALL)
    params = set_trainable(net, STAGES["finalize"][1])
    train_mode(net, STAGES["finalize"][1])
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99))
    losses = []
    for _ in range(40):
        o = net(b["rgb"], b["heatmaps"])
        loss = mano_loss(o, b, model)["total"] + torch.nn.functional.binary_cross_entropy_with_logits(
            o["mask_logits"][:, 0], b["mask"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0], losses[::8]


def test_stage_freezing_really_freezes(synth8):
    model = HandModel(side="right", flat_hand_mean=True)
    b = _batch([make_sample(s, np.random.default_rng(i), 64) for i, s in enumerate(synth8[:4])])
    net = HandNet(SMALL)
    branch, active, _ = STAGES["fusion"]
    params = set_trainable(net, active)
    train_mode(net, active)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.Adam(params, lr=1e-2)
    for _ in range(2):
        loss = mano_loss(net(b["rgb"], b["heatmaps"], branch=branch), b, model)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = net.state_dict()
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"fusion", "tail", "regressor"}, changed  # heads and decoder untouched, BN statistics included
    assert all(not p.requires_grad for p in net.image_head.parameters())


def test_recipes_and_their_errors(tmp_path):
    r = load_recipe("cpu_small")
    assert [s.name for s in r.stages] == ["image", "keypoint", "fusion", "segmentation", "finalize"]
    assert [s.name for s in load_recipe("paper_resnet50").stages][-1] == "stereo_adapt"
    with pytest.raises(RecipeError, match="no recipe"):
        load_recipe("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nbackbone='resnet18'\n[[stages]]\nname='warmup'\nepochs=1\n")
    with pytest.raises(RecipeError, match="unknown stage 'warmup'"):
        load_recipe(str(bad))
    assert [s.name for s in load_recipe("stereo_rt18").stages] == ["stereo_weights"]
    bad.write_text("[model]\nbackbone='resnet18'\nuse_keypoints=false\n[[stages]]\nname='fusion'\nepochs=1\n")
    with pytest.raises(RecipeError, match="needs use_keypoints"):
        load_recipe(str(bad))
    bad.write_text("[model\n")
    with pytest.raises(RecipeError, match="not valid TOML"):
        load_recipe(str(bad))


def test_smoke_training_checkpoints_resumes_and_plots(tmp_path, synth8):
    recipe = tiny_recipe(tmp_path, "[[stages]]\nname='image'\nepochs=1\n[[stages]]\nname='finalize'\nepochs=2\n"
                                   "decay_epochs=1\n")
    ds = HandNetDataset(synth8, size=64, augment=True)
    logs = []
    m = train(recipe, ds, tmp_path / "run", max_steps_per_epoch=2, log=logs.append)
    assert {"pa_mpve_mm", "f5", "f15", "mask_iou"} <= set(m) and 0 < m["pa_mpve_mm"] < 200
    rows = [json.loads(x) for x in (tmp_path / "run/train_log.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in rows] == ["image", "finalize", "finalize"]
    assert (tmp_path / "run/loss.png").stat().st_size > 1000
    st = load_checkpoint(tmp_path / "run/checkpoint.pt")
    assert st["stage"] == 2  # done
    train(recipe, ds, tmp_path / "run", max_steps_per_epoch=2, log=logs.append)
    assert any("resuming" in x for x in logs)
    assert len((tmp_path / "run/train_log.jsonl").read_text().splitlines()) == 3  # nothing trained twice


def test_corrupt_checkpoints_give_clear_errors(tmp_path):
    net = HandNet(SMALL)
    good = tmp_path / "good.pt"
    torch.save({"model": net.state_dict(), "config": SMALL.to_dict()}, good)
    assert isinstance(build_from_checkpoint(load_checkpoint(good)), HandNet)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(cut)
    other = tmp_path / "other.pt"
    torch.save({"weights": 1}, other)
    with pytest.raises(CheckpointError, match="not a HandNet checkpoint"):
        load_checkpoint(other)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    wrong = tmp_path / "wrong.pt"
    torch.save({"model": net.state_dict(), "config": dict(SMALL.to_dict(), width=0.5)}, wrong)
    with pytest.raises(CheckpointError, match="do not fit"):
        build_from_checkpoint(load_checkpoint(wrong))


def test_onnx_parity_and_cli(tmp_path):
    from realhands.cli import main

    torch.manual_seed(0)  # fixed weights (see test_an_exported_model_comes_back_as_a_checkpoint_that_fine_tunes)
    net = HandNet(SMALL).eval()
    path = export_onnx(net, tmp_path / "h.onnx")
    diff = parity(net, path, batch=2)
    assert set(diff) == {"pose", "shape", "cam", "features", "mask_logits"}
    assert max(diff.values()) < 1e-4, diff
    ck = tmp_path / "c.pt"
    torch.save({"model": net.state_dict(), "config": SMALL.to_dict()}, ck)
    assert main(["export-onnx", str(ck), str(tmp_path / "c.onnx")]) == 0
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert main(["export-onnx", str(tmp_path / "bad.pt"), str(tmp_path / "x.onnx")]) == 2


def test_an_exported_model_comes_back_as_a_checkpoint_that_fine_tunes(tmp_path, synth8):
    """The shipped model exists only as ONNX (BatchNorms folded into the convolutions): its weights come back as a
    checkpoint with the same outputs, and fine-tuning from it keeps every BatchNorm frozen."""
    torch.manual_seed(0)  # fixed weights: an unseeded network's axis-angle output near pi failed parity 1 run in 10
    net = HandNet(SMALL).eval()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # BatchNorms that are not the identity, as after training
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.num_features, generator=g))
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
    path = export_onnx(net, tmp_path / "shipped.onnx")
    st = checkpoint_from_onnx(path)
    assert st["bn_folded"] and st["config"] == SMALL.to_dict()
    back = build_from_checkpoint(st)
    assert max(parity(back, path).values()) < 1e-4
    # fine-tuning from the .onnx: the folded BatchNorms keep their statistics, the weights move
    recipe = tiny_recipe(tmp_path, "[[stages]]\nname='finalize'\nepochs=1\n")
    logs = []
    train(recipe, HandNetDataset(synth8, size=64, augment=True), tmp_path / "ft", max_steps_per_epoch=2,
          log=logs.append, init=path)
    assert any("BatchNorms folded" in x for x in logs)
    tuned = load_checkpoint(tmp_path / "ft/checkpoint.pt")
    assert tuned["bn_folded"]
    for k, v in st["model"].items():
        if k.endswith(("running_mean", "running_var")):
            assert torch.equal(tuned["model"][k], v), k
    moved = [k for k, v in st["model"].items() if k.endswith("weight") and not torch.equal(tuned["model"][k], v)]
    assert len(moved) > 10
    # foreign and broken files: one clear error each
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(OnnxError, match="not a readable ONNX"):
        checkpoint_from_onnx(tmp_path / "junk.onnx")
    with pytest.raises(OnnxError, match="no HandNet ONNX"):
        checkpoint_from_onnx(tmp_path / "missing.onnx")
    import onnx

    m = onnx.load(str(path))
    del m.metadata_props[:]
    onnx.save(m, str(tmp_path / "plain.onnx"))
    with pytest.raises(OnnxError, match="not a RealHands HandNet export"):
        checkpoint_from_onnx(tmp_path / "plain.onnx")


def test_carried_detections_attach_only_to_the_samples_they_were_made_for(tmp_path):
    """tools/gpu/detections.py: detections made where MediaPipe runs, attached to the same dataset rendered again."""
    from realhands.synth.dataset import DETECTION_KEYS, shard_name, synthesize
    from realhands.synth.generate import SynthConfig
    from tools.gpu.detections import attach, carried_count, extract

    cfg = SynthConfig(resolution="160x120")
    synthesize(tmp_path / "here", 4, seed=7, config=cfg, shard_size=2, progress=False, detect=True)
    synthesize(tmp_path / "there", 4, seed=7, config=cfg, shard_size=2, progress=False)
    carried = tmp_path / "det.npz"
    assert extract(tmp_path / "here", carried)["shards"] == 2
    with np.load(tmp_path / "there" / shard_name(1)) as z:  # one shard that is not the same render
        arrays = {k: z[k] for k in z.files}
    arrays["joints2d_left"] = arrays["joints2d_left"] + 1.0
    np.savez(tmp_path / "there" / shard_name(1), **arrays)
    r = attach(carried, tmp_path / "there")
    assert r["attached"] == 1 and r["different"] == 1
    with np.load(tmp_path / "here" / shard_name(0)) as a, np.load(tmp_path / "there" / shard_name(0)) as b:
        for k in DETECTION_KEYS:
            np.testing.assert_array_equal(a[k], b[k])
    with np.load(tmp_path / "there" / shard_name(1)) as b:
        assert not set(DETECTION_KEYS) & set(b.files)
    synthesize(tmp_path / "other", 4, seed=8, config=cfg, shard_size=2, progress=False)
    with pytest.raises(SystemExit, match="was made for"):
        attach(carried, tmp_path / "other")
    # the machine renders up to the last carried shard only; a shorter dataset of the same samples takes them
    assert carried_count(carried) == 4
    synthesize(tmp_path / "short", 2, seed=7, config=cfg, shard_size=2, progress=False)
    assert attach(carried, tmp_path / "short")["attached"] == 1


def test_crop_estimates_map_back_to_camera_space(synth8):
    """The ground-truth crop targets, decoded as HandNet's output would be, give the hand in camera space: the
    weak-perspective depth from the hand's size, the wrist where it is seen, both hands (left ones mirrored)."""
    from realhands.net.infer import crop_to_camera
    from realhands.perception.crop import crop_affine, crop_box, mirror_crop

    models = {s: HandModel(side=s, flat_hand_mean=True) for s in ("right", "left")}
    for i, s in enumerate(synth8):
        d = make_sample(s, np.random.default_rng(i), 160, Augment.none())
        kp = s["joints2d_left"].numpy().astype(np.float64)
        centre, side_px, _ = crop_box(kp, margin=1.6)
        M = crop_affine(centre, side_px, 0.0, 160)
        if s["side"] == "left":
            M = mirror_crop(M, 160)
        camera = sample_pair(s).left
        p = crop_to_camera(d["pose"].numpy(), d["shape"].numpy(), d["cam"].numpy(), M, side_px, s["side"] == "left",
                           camera, models[s["side"]], wrist_px=kp[0])
        kp3 = models[s["side"]].keypoints(*(torch.as_tensor(p[k][None], dtype=torch.float32)
                                            for k in ("global_orient", "hand_pose", "betas", "transl")))[0].numpy()
        gt = s["joints3d"].numpy()
        rel = np.linalg.norm((kp3 - kp3[:1]) - (gt - gt[:1]), axis=1).max()
        assert rel < 2e-3, rel                                     # pose and shape come back exactly
        assert abs(kp3[0, 2] - gt[0, 2]) < 0.12 * gt[0, 2]          # depth from the hand's size, within 12 %
        uv = camera.project(kp3[:1])[0]
        assert np.linalg.norm(uv - kp[0]) < 0.5                     # the wrist lands on its keypoint (px)
        p_t = crop_to_camera(d["pose"].numpy(), d["shape"].numpy(), d["cam"].numpy(), M, side_px,
                             s["side"] == "left", camera, models[s["side"]])  # from the camera's t alone
        assert np.linalg.norm(p_t["transl"] - p["transl"]) < 0.1 * gt[0, 2]


def test_freihand_layout_loads_and_feeds_training(tmp_path):
    """A FreiHAND-layout folder (made here from our own model: FreiHAND itself is research-only and not in the repo)."""
    import cv2

    from realhands.errors import DatasetError
    from realhands.net.freihand import FreiHANDDataset

    with pytest.raises(DatasetError, match="not a FreiHAND folder"):
        FreiHANDDataset(tmp_path)
    model = HandModel(side="right", flat_hand_mean=True)
    rng = np.random.default_rng(1)
    (tmp_path / "training/rgb").mkdir(parents=True)
    (tmp_path / "training/mask").mkdir(parents=True)
    Ks, manos, xyzs = [], [], []
    mean = np.asarray(model.data.hands_mean, np.float32)
    for j in range(2):
        pose = np.concatenate([rng.normal(0, 0.5, 3), rng.normal(0, 0.2, 45)]).astype(np.float32)  # relative to mean
        betas, transl = rng.normal(0, 1, 10).astype(np.float32), np.array([0.01, -0.02, 0.6], np.float32)
        with torch.no_grad():
            kp = model(global_orient=torch.as_tensor(pose[None, :3]), hand_pose=torch.as_tensor(pose[None, 3:] + mean),
                       betas=torch.as_tensor(betas[None]), transl=torch.as_tensor(transl[None])).keypoints[0].numpy()
        K = Camera(480.0, 480.0, 112.0, 112.0).K
        Ks.append(K.tolist())
        manos.append([np.concatenate([pose, betas, transl]).tolist()])
        xyzs.append(kp.tolist())
        cv2.imwrite(str(tmp_path / f"training/rgb/{j:08d}.jpg"), rng.integers(0, 255, (224, 224, 3), dtype=np.uint8))
        cv2.imwrite(str(tmp_path / f"training/mask/{j:08d}.jpg"), np.full((224, 224), 255, np.uint8))
    for name, val in (("K", Ks), ("mano", manos), ("xyz", xyzs)):
        (tmp_path / f"training_{name}.json").write_text(json.dumps(val))
    ds = FreiHANDDataset(tmp_path)
    assert len(ds) == 2
    s = ds[1]
    assert s["side"] == "right" and s["mask_left"].all()
    with torch.no_grad():
        kp = model(global_orient=s["pose"][None, :3], hand_pose=s["pose"][None, 3:], betas=s["betas"][None],
                   transl=s["transl"][None]).keypoints[0]
    assert torch.allclose(kp, s["joints3d"], atol=1e-5)          # the pose became absolute (mean added)
    d = make_sample(s, np.random.default_rng(0), 64, Augment.none())
    assert d["rgb"].shape == (3, 64, 64) and torch.isfinite(d["cam"]).all()
    (tmp_path / "training_xyz.json").write_text(json.dumps(xyzs[:1]))
    with pytest.raises(DatasetError, match="must match"):
        FreiHANDDataset(tmp_path)


def test_time_budget_scales_the_stages_and_workers_load_batches(tmp_path, synth8):
    from realhands.net.train import Stage, scale_stages

    s = scale_stages([Stage("image", 4, 1), Stage("finalize", 10, 4)], 0.5)
    assert [(x.epochs, x.decay_epochs) for x in s] == [(2, 1), (5, 2)]
    assert [(x.epochs, x.decay_epochs) for x in scale_stages([Stage("image", 3, 1)], 0.01)] == [(1, 1)]
    recipe = tiny_recipe(tmp_path, "[[stages]]\nname='image'\nepochs=3\n[[stages]]\nname='finalize'\nepochs=5\n"
                                   "decay_epochs=2\n")
    logs = []
    train(recipe, HandNetDataset(synth8, size=64, augment=True, compact=True), tmp_path / "run", max_steps_per_epoch=1,
          log=logs.append, time_budget_s=1e-3, workers=2)  # compact samples, as a GPU run loads them
    rows = [json.loads(x) for x in (tmp_path / "run/train_log.jsonl").read_text().splitlines()]
    # a budget this small leaves one epoch per stage, except that the first plan keeps the running stage to a
    # second epoch, after which the plan is made again (the first epoch carries one-off costs)
    assert [r["stage"] for r in rows] == ["image", "image", "finalize"]
    assert sum("time budget" in x for x in logs) == 2  # planned after the first epoch, and again after the second
    assert load_checkpoint(tmp_path / "run/checkpoint.pt")["epoch_scale"] == pytest.approx(2 / 8)  # the two run


def test_shipped_model_beats_the_mean_pose_on_held_out_renders():
    """The committed CPU model (realhands/assets/handnet_cpu.onnx) on renders of the held-out seed: HandNet alone
    well under the mean-pose baseline (tools/eval/handnet.py has the full table)."""
    from realhands.metrics import mpvpe
    from realhands.net.infer import HandNetRegressor

    reg = HandNetRegressor.default()
    assert reg is not None, "realhands/assets/handnet_cpu.onnx is missing"
    models = {s: HandModel(side=s, flat_hand_mean=True) for s in ("right", "left")}
    data = SynthOnTheFlyDataset(6, seed=99)
    rng = np.random.default_rng(0)
    net_err, mean_err = [], []
    for i in range(len(data)):
        s = data[i]
        m = models[s["side"]]
        img = np.rint(s["rgb_left"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        kp = s["joints2d_left"].numpy() + rng.normal(0, 2.5, (21, 2))
        est = reg.predict(img, kp, s["side"], sample_pair(s).left, m)

        def verts(p, m=m):
            with torch.no_grad():
                params = {k: torch.as_tensor(np.asarray(v, np.float32).reshape(1, -1)) for k, v in p.items()}
                return m(**params).vertices[0].numpy()
        gt = s["vertices"].numpy()
        net_err.append(mpvpe(verts(est.params), gt, align="procrustes"))
        mean = dict(est.params, hand_pose=np.asarray(m.data.hands_mean, np.float32), betas=np.zeros(10))
        mean_err.append(mpvpe(verts(mean), gt, align="procrustes"))
        assert est.mask.shape == img.shape[:2] and est.mask.any()
        # without its mask (the graph without the segmentation decoder): the same estimate, no mask
        bare = reg.predict(img, kp, s["side"], sample_pair(s).left, m, mask=False)
        assert bare.mask is None and bare.mask_prob is None
        for k, v in est.params.items():
            assert np.allclose(bare.params[k], v, atol=1e-5), k
        assert np.allclose(bare.features, est.features, atol=1e-5)
    assert np.mean(net_err) < 16 and np.mean(net_err) < np.mean(mean_err) - 3, (net_err, mean_err)
    assert reg.net._pose_only is not None  # onnx is installed with the perception extra: the bare graph is built


def _rot(v):
    from realhands.model.lbs import axis_angle_to_matrix
    return axis_angle_to_matrix(torch.as_tensor(v, dtype=torch.float32))


def test_stereo_pairs_map_the_left_crop_frame_onto_the_right(synth8):
    """Ground truth consistency: the left view's target orientation, turned by left_to_right, is the right view's,
    for both hands, with random crop rotations."""
    from realhands.net.data import StereoPairDataset

    pairs = StereoPairDataset(synth8, size=64, augment=True)
    for i in range(len(pairs)):
        d = pairs[i]
        R_l, R_r = _rot(d["l_pose"][:3]), _rot(d["r_pose"][:3])
        torch.testing.assert_close(d["left_to_right"] @ R_l, R_r, atol=1e-4, rtol=0)
        torch.testing.assert_close(d["l_pose"][3:], d["r_pose"][3:])  # articulation does not depend on the view


def test_fuse_views_blends_in_a_common_frame():
    from realhands.model.lbs import matrix_to_axis_angle
    from realhands.net.handnet import fuse_views

    torch.manual_seed(0)
    stereo = StereoFusion()
    A = _rot([[0.1, -0.3, 0.2]])
    R_r = _rot([[0.5, 1.0, -2.0]])
    pose_r, pose_l = torch.randn(1, 48) * 0.2, torch.randn(1, 48) * 0.2
    pose_r[:, :3] = matrix_to_axis_angle(R_r)
    pose_l[:, :3] = matrix_to_axis_angle(A.transpose(1, 2) @ R_r)  # the same hand, seen from the left crop frame
    outs = [{"features": torch.randn(1, 512), "pose": p, "shape": torch.full((1, 10), v)}
            for p, v in ((pose_l, 1.0), (pose_r, 3.0))]
    f = fuse_views(stereo, outs[0], outs[1], A)
    torch.testing.assert_close(_rot(f["pose"][:, :3]), R_r, atol=1e-5, rtol=0)   # agreeing views: that orientation
    torch.testing.assert_close(f["pose"][:, 3:], (pose_l[:, 3:] + pose_r[:, 3:]) / 2)  # zero init: the average
    torch.testing.assert_close(f["shape"], torch.full((1, 10), 2.0))
    with torch.no_grad():
        stereo.fc.bias.fill_(20.0)  # all weight on the right view
    f = fuse_views(stereo, outs[0], outs[1], A)
    torch.testing.assert_close(f["pose"][:, 3:], pose_r[:, 3:], atol=1e-6, rtol=0)


def test_stereo_weights_stage_trains_only_the_fusion_layer(tmp_path, synth8):
    recipe = tiny_recipe(tmp_path, "[[stages]]\nname='stereo_weights'\nepochs=1\n", train="lr=1e-2\n")
    torch.manual_seed(0)
    net = HandNet(SMALL)
    init = tmp_path / "init.pt"
    torch.save({"model": net.state_dict(), "config": SMALL.to_dict(), "stereo": StereoFusion().state_dict()}, init)
    m = train(recipe, HandNetDataset(synth8, size=64), tmp_path / "run", max_steps_per_epoch=2, init=init,
              log=lambda *_: None)
    assert {"pa_mpve_mm", "left_view_mm", "right_view_mm"} <= set(m)
    st = load_checkpoint(tmp_path / "run/checkpoint.pt")
    for k, v in net.state_dict().items():
        torch.testing.assert_close(st["model"][k], v)  # HandNet frozen, BatchNorm statistics included
    assert st["stereo"]["fc.bias"].abs().sum() > 0     # the fusion layer moved
    with pytest.raises(RecipeError, match="stereo samples"):
        train(recipe, synth8, tmp_path / "run2", max_steps_per_epoch=1, init=init, log=lambda *_: None)


def test_moving_parameters_to_the_other_camera_moves_the_mesh():
    from realhands.net.infer import move_to_other_camera

    m = HandModel(side="left", flat_hand_mean=True)
    rng = np.random.default_rng(1)
    p = {"global_orient": rng.normal(0, 1, 3), "hand_pose": rng.normal(0, 0.2, 45), "betas": rng.normal(0, 1, 10),
         "transl": np.array([0.05, -0.02, 0.4])}
    R, t = _rot([[0.02, -0.1, 0.01]])[0].numpy().astype(np.float64), np.array([-0.063, 0.001, 0.002])
    q = move_to_other_camera(p, R, t, m)

    def verts(x):
        with torch.no_grad():
            return m(**{k: torch.as_tensor(np.asarray(v, np.float32)[None]) for k, v in x.items()}).vertices[0].numpy()
    np.testing.assert_allclose(verts(q), verts(p) @ R.T + t, atol=2e-6)


def test_shipped_model_in_stereo_places_the_hand_by_triangulation():
    """predict_stereo on held-out renders: parameters in left-camera coordinates whose 3D keypoints (MPJPE, no
    alignment) are far closer to the truth than one view's weak-perspective placement, and a shape/articulation
    (PA-MPVE) about as good as one view's."""
    from realhands.metrics import mpvpe
    from realhands.net.infer import HandNetRegressor

    reg = HandNetRegressor.default()
    data = SynthOnTheFlyDataset(4, seed=99)
    err = {"mono": [], "stereo": []}
    pa = {"mono": [], "stereo": []}
    for i in range(len(data)):
        s = data[i]
        m = HandModel(side=s["side"], flat_hand_mean=True)
        imgs = [np.rint(s[f"rgb_{v}"].permute(1, 2, 0).numpy() * 255).astype(np.uint8) for v in ("left", "right")]
        kps = [s[f"joints2d_{v}"].numpy() for v in ("left", "right")]
        pair = sample_pair(s)
        ests = {"stereo": reg.predict_stereo(imgs, kps, s["side"], pair),
                "mono": reg.predict(imgs[0], kps[0], s["side"], pair.left, m)}
        for name, e in ests.items():
            t = {k: torch.as_tensor(np.asarray(v, np.float32)[None]) for k, v in e.params.items()}
            with torch.no_grad():
                kp3 = m.keypoints(t["global_orient"], t["hand_pose"], t["betas"], t["transl"])[0].numpy()
                verts = m(**t).vertices[0].numpy()
            err[name].append(np.linalg.norm(kp3 - s["joints3d"].numpy(), axis=1).mean() * 1000)
            pa[name].append(mpvpe(verts, s["vertices"].numpy(), align="procrustes"))
        assert ests["stereo"].mask.shape == imgs[0].shape[:2]
    assert np.mean(err["stereo"]) < 0.5 * np.mean(err["mono"]) and np.mean(err["stereo"]) < 40, err
    assert np.mean(pa["stereo"]) < np.mean(pa["mono"]) + 1.5, pa


def _peaks(heat: torch.Tensor) -> np.ndarray:
    """(21,2) crop pixel (u, v) of each heatmap's maximum."""
    h = heat.numpy()
    idx = h.reshape(21, -1).argmax(1)
    return np.stack([idx % h.shape[2], idx // h.shape[2]], 1).astype(np.float64)


def test_heatmaps_come_from_mediapipes_detections_when_the_data_has_them(synth8):
    """HandNet trains on the keypoints it gets at run time: with a detection in the sample the crop and heatmaps
    follow it (the targets stay the truth); a missed detection (NaN) falls back to the truth."""
    from realhands.perception.crop import crop_box

    s = dict(synth8[1])
    gt = s["joints2d_left"].numpy().astype(np.float64)
    size = 96
    truth = make_sample(s, np.random.default_rng(0), size, Augment.none())
    gt_px = (truth["kp2d"].numpy() + 1) / 2 * size
    assert np.abs(_peaks(truth["heatmaps"]) - gt_px).max() <= 1.0
    s["detected2d_left"] = torch.from_numpy((gt + [12.0, -7.0]).astype(np.float32))
    d = make_sample(s, np.random.default_rng(0), size, Augment.none())
    shift = _peaks(d["heatmaps"]) - (d["kp2d"].numpy() + 1) / 2 * size
    expected = np.hypot(12.0, 7.0) * size / (crop_box(gt + [12.0, -7.0], margin=1.0)[1] * 1.6)
    assert np.linalg.norm(shift, axis=1).mean() == pytest.approx(expected, rel=0.2, abs=1.0)
    assert np.allclose(d["joints3d"].numpy(), truth["joints3d"].numpy(), atol=1e-5)
    s["detected2d_left"] = torch.full((21, 2), float("nan"))
    missed = make_sample(s, np.random.default_rng(0), size, Augment.none())
    assert np.array_equal(missed["heatmaps"].numpy(), truth["heatmaps"].numpy())


def test_appearance_augmentation_changes_the_crop_and_none_leaves_it():
    from realhands.net.data import _appearance

    crop = np.random.default_rng(0).integers(60, 200, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(_appearance(crop, np.random.default_rng(1), Augment.none()), crop)
    strong = Augment(colour_cast=0.3, shadow_p=1.0, motion_blur_p=1.0, noise_p=1.0, jpeg_p=1.0, occluder_p=1.0)
    out = _appearance(crop, np.random.default_rng(1), strong)
    assert out.shape == crop.shape and out.dtype == np.uint8
    assert np.abs(out.astype(float) - crop).mean() > 5


def _ddp_worker(rank: int, world: int, port: int, recipe_path: str, samples, out: str) -> None:
    """One process of the data-parallel test: join the gloo group, train, save this process's final weights (the
    network is caught by a global forward hook: train() keeps it to itself)."""
    import os

    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    seen = {}

    def catch(module, args, output):
        if isinstance(module, HandNet):
            seen["net"] = module

    handle = torch.nn.modules.module.register_module_forward_hook(catch)
    try:
        train(load_recipe(recipe_path), HandNetDataset(samples, size=64, augment=True), out, max_steps_per_epoch=2,
              log=print)
        torch.save(seen["net"].state_dict(), f"{out}/rank{rank}.pt")
    finally:
        handle.remove()
        dist.destroy_process_group()


def test_data_parallel_training_on_two_cpu_processes(tmp_path, synth8):
    """The recipe data-parallel with PyTorch's own engine (DistributedDataParallel over gloo, as under torchrun):
    both processes end with the same weights, which moved from the start; process 0 alone logs and checkpoints;
    the checkpoint is those weights."""
    import socket

    import torch.multiprocessing as mp

    recipe = tiny_recipe(tmp_path, "[[stages]]\nname='image'\nepochs=1\n[[stages]]\nname='finalize'\nepochs=1\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "ddp"
    mp.spawn(_ddp_worker, args=(2, port, str(recipe.source), synth8, str(out)), nprocs=2, join=True)
    w0, w1 = torch.load(out / "rank0.pt"), torch.load(out / "rank1.pt")
    # the parameters agree exactly; batch-norm running statistics are each process's own after its last batch
    # (DDP sends process 0's at the start of every forward pass), as in any DDP run
    names = {n for n, _ in HandNet(SMALL).named_parameters()}
    differ = [k for k in names if not torch.equal(w0[k], w1[k])]
    assert not differ, differ
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert all(torch.equal(ckpt["model"][k], w0[k]) for k in w0)
    fresh = HandNet(SMALL).state_dict()
    assert any(not torch.equal(fresh[k], w0[k]) for k in w0 if "regressor" in k)
    rows = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in rows] == ["image", "finalize"]  # written once, by process 0

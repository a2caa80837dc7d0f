"""Synthetic stereo data: renderer, rig, determinism, geometry consistency, dataset format and errors."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.errors import DatasetError
from realhands.render.rasterize import rasterize
from realhands.synth.dataset import SynthOnTheFlyDataset, SynthShardDataset, shard_name, synthesize
from realhands.synth.generate import SynthConfig, SynthGenerator
from realhands.synth.rig import make_rig, parse_resolution
from realhands.synth.sequence import smoothness

SMALL = SynthConfig(resolution="160x120", texture_size=128)


@pytest.fixture(scope="module")
def gen():
    return SynthGenerator(SMALL, seed=5)


def test_rasterizer_hand_computed_square():
    # a 2x2 m square at z=2 facing the camera, f=100 px: covers 100x100 px around the centre
    v = torch.tensor([[[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [1.0, 1.0, 2.0], [-1.0, 1.0, 2.0]]])
    faces = torch.tensor([[0, 2, 1], [0, 3, 2]])  # counter-clockwise seen from the camera (y down)
    K = Camera(100.0, 100.0, 100.0, 100.0).K_tensor(torch.float32)[None]
    f = rasterize(v, faces, K, 200, 200)
    assert f.mask.sum() == 100 * 100
    assert f.mask[0, 50:150, 50:150].all() and not f.mask[0, :50].any()
    assert torch.allclose(f.depth[f.mask], torch.tensor(2.0))
    assert torch.allclose(f.bary.sum(-1)[f.mask], torch.tensor(1.0))
    back = rasterize(v, faces[:, [0, 2, 1]], K, 200, 200)  # flipped winding: culled
    assert back.mask.sum() == 0


def test_rasterizer_nearest_surface_wins():
    near = [[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [0.0, 1.0, 2.0]]
    far = [[-1.0, -1.0, 3.0], [1.0, -1.0, 3.0], [0.0, 1.0, 3.0]]
    for order in ((far, near), (near, far)):
        v = torch.tensor([order[0] + order[1]])
        K = Camera(100.0, 100.0, 50.0, 50.0).K_tensor(torch.float32)[None]
        f = rasterize(v, torch.tensor([[0, 2, 1], [3, 5, 4]]), K, 100, 100)
        assert torch.allclose(f.depth[f.mask], torch.tensor(2.0))


def test_rig_specs_and_disparity():
    zed2 = make_rig("zed2", "HD720")
    assert zed2.baseline == 0.12 and (zed2.width, zed2.height) == (1280, 720)
    assert 95 < zed2.hfov_deg < 105
    assert make_rig("zedm", "VGA").baseline == 0.063
    assert parse_resolution("640x480") == (640, 480)
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_resolution("big")
    with pytest.raises(ValueError, match="unknown rig"):
        make_rig("kinect")
    np.testing.assert_allclose(zed2.disparity(0.5), zed2.fx * 0.12 / 0.5)


def test_same_seed_same_data_and_other_seed_differs(gen):
    a, b = gen.sample(3), SynthGenerator(SMALL, seed=5).sample(3)
    np.testing.assert_array_equal(a.rgb_left, b.rgb_left)
    np.testing.assert_array_equal(a.vertices, b.vertices)
    c = SynthGenerator(SMALL, seed=6).sample(3)
    assert not np.array_equal(a.vertices, c.vertices)
    # order does not matter: sample 3 is the same whether or not others were drawn before
    gen.sample(0)
    np.testing.assert_array_equal(gen.sample(3).joints3d, a.joints3d)


def test_projected_joints_fall_inside_the_mask(gen):
    inside, total = 0, 0
    for i in range(12):
        s = gen.sample(i)
        for view in ("left", "right"):
            j2d = getattr(s, f"joints2d_{view}")
            label = getattr(s, f"label_{view}")
            h, w = label.shape
            px = np.round(j2d - 0.5).astype(int)
            ok = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
            hit = label[px[ok, 1], px[ok, 0]] > 0
            inside += hit.sum()
            total += ok.sum()
    assert total > 300 and inside / total > 0.97


def test_stereo_disparity_matches_focal_times_baseline_over_depth(gen):
    s = gen.sample(1)
    disparity = s.joints2d_left[:, 0] - s.joints2d_right[:, 0]
    expected = s.camera.fx * s.pair.baseline / s.joints3d[:, 2]
    np.testing.assert_allclose(disparity, expected, rtol=1e-4)
    np.testing.assert_allclose(s.joints2d_left[:, 1], s.joints2d_right[:, 1], atol=1e-3)  # rectified rows


def test_render_labels_and_colours(gen):
    s = gen.sample(2)
    assert set(np.unique(s.label_left)) <= {0, 1, 2} and (s.label_left == 1).sum() > 30
    hand = s.rgb_left[s.label_left == 1].astype(float)
    assert hand.std() > 1.0  # shaded and textured, not flat


def test_dataset_round_trip_resume_and_errors(tmp_path):
    out = tmp_path / "ds"
    r = synthesize(out, 5, seed=2, config=SMALL, shard_size=2, progress=False)
    assert r["shards"] == 3
    ds = SynthShardDataset(out)
    assert len(ds) == 5
    ref = SynthGenerator(SMALL, seed=2).sample(4)
    d = ds[4]
    assert d["rgb_left"].shape == (3, 120, 160) and d["mask_left"].dtype == torch.bool
    np.testing.assert_allclose(d["vertices"].numpy(), ref.vertices, atol=2e-4)  # float16 relative storage
    np.testing.assert_allclose(d["joints2d_right"].numpy(), ref.joints2d_right, atol=1e-4)
    np.testing.assert_array_equal(d["label_left"].numpy(), ref.label_left)  # PNG: lossless
    assert np.abs(d["rgb_left"].numpy().transpose(1, 2, 0) * 255 - ref.rgb_left).mean() < 4  # JPEG 95
    assert d["side"] == ref.side
    # resume: delete one shard, run again, identical bytes come back
    before = (out / shard_name(1)).read_bytes()
    (out / shard_name(1)).unlink()
    r = synthesize(out, 5, seed=2, config=SMALL, shard_size=2, progress=False)
    assert r["resumed_shards"] == 2
    again, old = np.load(out / shard_name(1)), np.load(io.BytesIO(before))
    for key in ("root", "rgb_left", "label_right", "pose"):
        np.testing.assert_array_equal(again[key], old[key])
    # another dataset in the same folder is refused
    with pytest.raises(DatasetError, match="another dataset"):
        synthesize(out, 5, seed=3, config=SMALL, shard_size=2, progress=False)
    # corrupt and missing shards name the file
    (out / shard_name(0)).write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="shard_00000.npz"):
        SynthShardDataset(out)[0]
    (out / shard_name(2)).unlink()
    with pytest.raises(DatasetError, match="missing shard .*shard_00002.npz"):
        SynthShardDataset(out)[4]
    (out / "meta.json").write_text("{")
    with pytest.raises(DatasetError, match="meta.json is not valid JSON"):
        SynthShardDataset(out)


def test_on_the_fly_dataset_matches_generator():
    ds = SynthOnTheFlyDataset(3, seed=9, config=SMALL)
    ref = SynthGenerator(SMALL, seed=9).sample(1)
    np.testing.assert_allclose(ds[1]["joints3d"].numpy(), ref.joints3d)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=list)))
    assert len(batch) == 2


def test_sequences_are_smooth(gen):
    frames = gen.sequence(0, kind="grasp", num_frames=24, fps=30)
    assert len(frames) == 24
    from realhands.synth.sequence import make_sequence
    hands = make_sequence(gen.models["right"].data, gen.rig, "wave", 60, 30.0, np.random.default_rng(0))
    assert smoothness(hands) < np.radians(8)  # no joint turns more than 8 degrees between frames at 30 fps
    with pytest.raises(ValueError, match="unknown sequence kind"):
        make_sequence(gen.models["right"].data, gen.rig, "moonwalk", 10, 30.0, np.random.default_rng(0))


def test_synth_cli(tmp_path):
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "synth", "--out", str(tmp_path / "d"), "--count",
                          "2", "--resolution", "96x72", "--shard-size", "2"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "d" / "meta.json").read_text())["count"] == 2
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "synth", "--out", str(tmp_path / "d"), "--count",
                          "2", "--resolution", "96x72", "--seed", "4"], capture_output=True, text=True)
    assert res.returncode == 2 and "another dataset" in res.stderr and "Traceback" not in res.stderr


def test_background_folder_photos_bad_files_and_errors(tmp_path):
    from PIL import Image

    from realhands.synth.backgrounds import BackgroundSource

    folder = tmp_path / "bg"
    folder.mkdir()
    Image.new("RGB", (50, 40), (10, 200, 30)).save(folder / "green.png")
    (folder / "broken.jpg").write_bytes(b"not an image")  # one bad file must not stop a run
    src = BackgroundSource(folder)
    rng = np.random.default_rng(0)
    imgs = [src.sample(60, 80, rng) for _ in range(12)]
    assert all(i.shape == (3, 60, 80) for i in imgs)
    greenish = [i for i in imgs if i[1].mean() > 0.6 and i[0].mean() < 0.2]
    assert greenish, "photos from the folder are used"
    with pytest.raises(FileNotFoundError, match="background folder not found"):
        BackgroundSource(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        BackgroundSource(tmp_path / "empty")
    s = SynthGenerator(SynthConfig(resolution="96x72", texture_size=64, background_folder=str(folder)), seed=1)
    assert s.sample(0).rgb_left.shape == (72, 96, 3)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_renderer_on_cuda_matches_cpu():
    cfg = SynthConfig(resolution="160x120", texture_size=128, effects=False)
    cpu = SynthGenerator(cfg, seed=3).sample(0)
    gpu = SynthGenerator(cfg, seed=3, device="cuda").sample(0)
    assert (cpu.label_left != gpu.label_left).mean() < 0.002
    assert np.abs(cpu.rgb_left.astype(float) - gpu.rgb_left).mean() < 2.0


def test_forearm_starts_on_the_hand_rim_and_follows_it(gen):
    from realhands.model import quality

    r = gen.renderers["right"]
    f = r.forearm
    assert quality.is_consistently_oriented(f.faces)
    rim = f.vertices[f.along == 0]
    data = gen.models["right"].data
    # every rim vertex of the tube is a vertex of the hand mesh: no gap, no step at the wrist
    d = np.min(np.linalg.norm(rim[:, None] - data.v_template[None], axis=-1), axis=1)
    assert d.max() < 1e-9
    assert 0 < f.hidden_hand_faces.sum() < 60  # the wrist cap, nothing else
    # posed (with a wrist bend), the tube's rim stays on the posed hand mesh: it follows the hand, not the arm
    from realhands.synth.sampling import sample_hand

    out, forearm = gen.pose_hand(sample_hand(data, np.random.default_rng(0), gen.rig))
    rim_idx = np.nonzero(f.along == 0)[0]
    posed = out.vertices[0].numpy()
    gap = np.min(np.linalg.norm(forearm[0, rim_idx].numpy()[:, None] - posed[None], axis=-1), axis=1)
    assert gap.max() < 0.5e-3, gap.max()


def test_parallel_synthesis_partial_datasets_and_unpacking(tmp_path):
    """jobs=2 writes the same bytes as one process; partial=True reads the finished shards of a stopped run; an
    unpacked copy (memory-mapped) gives the same samples, is reused, and a half-written one is refused."""
    from realhands.synth.dataset import SynthUnpackedDataset, unpack_dataset

    one, two = tmp_path / "one", tmp_path / "two"
    synthesize(one, 5, seed=4, config=SMALL, shard_size=2, progress=False)
    synthesize(two, 5, seed=4, config=SMALL, shard_size=2, progress=False, jobs=2)
    for k in range(3):
        a, b = np.load(one / shard_name(k)), np.load(two / shard_name(k))
        for key in ("rgb_left", "label_right", "vertices", "pose"):
            np.testing.assert_array_equal(a[key], b[key])
    # a run stopped before shard 1 was written: the strict reader fails on it, the partial one skips it
    (two / shard_name(1)).unlink()
    with pytest.raises(DatasetError, match="missing shard"):
        SynthShardDataset(two)[2]
    part = SynthShardDataset(two, partial=True)
    assert len(part) == 3 and part.locate(2) == (2, 0)
    np.testing.assert_array_equal(part[2]["pose"].numpy(), SynthShardDataset(one)[4]["pose"].numpy())
    # unpacked: uint8 images and bool masks, same geometry; a second call reuses it
    up = unpack_dataset([one], tmp_path / "up", progress=False)
    ds, ref = SynthUnpackedDataset(up), SynthShardDataset(one)
    assert len(ds) == 5
    d, r = ds[3], ref[3]
    assert d["rgb_left"].dtype == np.uint8 and d["mask_right"].dtype == bool
    np.testing.assert_array_equal(d["rgb_left"], np.rint(r["rgb_left"].permute(1, 2, 0).numpy() * 255))
    np.testing.assert_array_equal(d["mask_right"], r["mask_right"].numpy())
    np.testing.assert_allclose(d["vertices"].numpy(), r["vertices"].numpy())
    assert d["side"] == r["side"]
    stamp = (up / "rgb_left.npy").stat().st_mtime_ns
    unpack_dataset([one], up, progress=False)
    assert (up / "rgb_left.npy").stat().st_mtime_ns == stamp
    (up / "unpacked.json").unlink()
    with pytest.raises(DatasetError, match="not a finished unpacked dataset"):
        SynthUnpackedDataset(up)
    with pytest.raises(DatasetError, match="no finished shard"):
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "meta.json").write_text((one / "meta.json").read_text())
        SynthShardDataset(tmp_path / "empty", partial=True)


def test_datasets_carry_mediapipe_detections(tmp_path):
    """``synthesize(detect=True)``: MediaPipe's keypoints of each view beside the truth (NaN where it missed the
    hand), through the shard reader, the unpacked copy and the on-the-fly dataset; the same folder without
    detections is another dataset."""
    from realhands.synth.dataset import SynthUnpackedDataset, unpack_dataset

    cfg = SynthConfig(rig="zedm", resolution="640x480")
    out = tmp_path / "det"
    synthesize(out, 3, seed=99, config=cfg, shard_size=2, progress=False, detect=True)
    ds, found = SynthShardDataset(out), 0
    for i in range(3):
        d = ds[i]
        for v in ("left", "right"):
            k = d[f"detected2d_{v}"].numpy()
            assert k.shape == (21, 2)
            if np.isfinite(k).all():
                found += 1
                gt = d[f"joints2d_{v}"].numpy()
                err = np.linalg.norm(k - gt, axis=1).mean()
                # MediaPipe's own keypoints, with its real errors: the hand's, never exactly the truth
                assert 0 < err < 0.5 * np.linalg.norm(gt.max(0) - gt.min(0))
            else:
                assert np.isnan(k).all()
    assert found >= 3
    up = SynthUnpackedDataset(unpack_dataset([out], tmp_path / "up", progress=False))
    np.testing.assert_array_equal(up[2]["detected2d_right"].numpy(), ds[2]["detected2d_right"].numpy())
    fly = SynthOnTheFlyDataset(3, seed=99, config=cfg, detect=True)[2]
    np.testing.assert_allclose(fly["detected2d_right"].numpy(), ds[2]["detected2d_right"].numpy(), atol=0.05)
    assert "detected2d_left" not in SynthOnTheFlyDataset(3, seed=99, config=cfg)[0]
    with pytest.raises(DatasetError, match="another dataset"):
        synthesize(out, 3, seed=99, config=cfg, shard_size=2, progress=False)


def test_render_workers_stop_when_the_main_process_is_killed(tmp_path):
    """A killed `realhands synth --jobs N` (not interrupted: SIGKILL) leaves no worker rendering on unseen."""
    import os
    import signal
    import time

    out = tmp_path / "d"
    code = ("from realhands.synth.dataset import synthesize; from realhands.synth.generate import SynthConfig; "
            f"synthesize({str(out)!r}, 400, seed=2, config=SynthConfig(resolution='64x48', ssaa=1), shard_size=1, "
            "progress=False, jobs=2)")
    p = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 120
        while len(list(out.glob("shard_*.npz"))) < 2 and time.time() < deadline and p.poll() is None:
            time.sleep(0.2)
        assert len(list(out.glob("shard_*.npz"))) >= 2, "the workers never wrote a shard"
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    time.sleep(4)  # the workers' watchdog looks every 2 s
    n = len(list(out.glob("shard_*.npz")))
    time.sleep(3)
    assert len(list(out.glob("shard_*.npz"))) == n, "orphaned workers kept rendering"


@pytest.mark.parametrize("args, why", [
    (["sequence", "--out", "o", "--frames", "0"], "--frames: must be greater than 0"),  # an IndexError before
    (["sequence", "--out", "o", "--fps", "nan"], "--fps: must be greater than 0"),  # "zero norm quaternions" before
    (["sequence", "--out", "o", "--fps", "1e-300"], "--fps: must be at least 0.01"),  # a GIF frame of 1e303 ms
    (["sequence", "--out", "o", "--fps", "inf"], "--fps: must be a finite number"),
    (["synth", "--out", "o", "--count", "1", "--egocentric-ratio", "nan"], "--egocentric-ratio: must be 0 or more"),
    (["synth", "--out", "o", "--count", "1", "--egocentric-ratio", "1.5"], "--egocentric-ratio: must be at most 1"),
])
def test_synthetic_data_numbers_out_of_range_are_one_clear_error(tmp_path, capsys, args, why):
    from realhands.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([a if a != "o" else str(tmp_path / "o") for a in args])
    assert exit_.value.code == 2 and why in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

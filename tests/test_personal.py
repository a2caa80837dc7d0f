"""The user's own hand: the skin model's fill, the guided capture's regions and steps, the saved hand (bit-identical
reload, clear errors), a session started from it, and the capture on the turning synthetic sequence."""
import json

import numpy as np
import pytest
import torch

from realhands.errors import OutputError, PersonalHandError
from realhands.model import HandModel
from realhands.personal import CaptureGuide, PersonalHand
from realhands.personal.hand import FILES
from realhands.synth.skin import bake_texel_maps, sample_appearance, skin_texture
from realhands.texture import TextureFusion, UVAtlas, push_pull_fill
from realhands.texture.skin_fill import skin_fill

SIZE = 128


@pytest.fixture(scope="module")
def skin(right_data):
    """The right hand's atlas and a synthetic skin texture for a dark skin tone (a palm clearly lighter)."""
    atlas = UVAtlas.for_model(right_data, SIZE)
    rng = np.random.default_rng(3)
    app = sample_appearance(rng)
    app.tone = np.array([0.42, 0.28, 0.20])
    app.palm_lift = 0.45
    truth = skin_texture(bake_texel_maps(right_data, SIZE), right_data, app, torch.Generator().manual_seed(0))
    return atlas, truth.permute(1, 2, 0).numpy().astype(np.float32)


def test_unseen_palm_is_filled_from_the_skin_model_lighter_than_the_back(skin):
    atlas, truth = skin
    r = atlas.regions
    back = atlas.valid & (r.palmar < 0.2) & (r.nail < 0.5)
    palm = atlas.valid & (r.palmar > 0.8) & (r.nail < 0.5)
    seen = back.copy()  # an egocentric capture that never saw the palm
    filled, model = skin_fill(truth, seen, np.where(seen, 0.8, 0.0).astype(np.float32), r)
    assert model is not None and model.measured["back"] and not model.measured["palm"]
    kept = (filled[seen] == truth[seen]).all(-1).mean()
    assert kept > 0.98, kept  # what was seen is kept (but for the few texels too far from skin to be skin)
    assert filled[palm].mean() > filled[back].mean() + 0.05  # the palm is lighter than the back
    smeared = push_pull_fill(truth, seen)  # the fill it replaced: the back's colour smeared over the palm
    err = lambda img: float(np.abs(img[palm] - truth[palm]).mean())  # noqa: E731
    assert err(filled) < 0.6 * err(smeared), (err(filled), err(smeared))


def test_a_back_never_seen_is_not_made_darker_than_a_palm_can_tell(right_data, skin):
    """Palm-on photos of a light hand: the back, never seen, is predicted from the palm only a little darker (a
    palm does not tell how dark the back is; undoing the full palm lift made such backs nearly black)."""
    atlas, _ = skin
    r = atlas.regions
    app = sample_appearance(np.random.default_rng(5))
    app.tone, app.palm_lift = np.array([0.85, 0.66, 0.55]), 0.15
    truth = skin_texture(bake_texel_maps(right_data, SIZE), right_data, app, torch.Generator().manual_seed(1))
    truth = 0.65 * truth.permute(1, 2, 0).numpy().astype(np.float32)  # as photographed: exposure is not albedo
    back = atlas.valid & (r.palmar < 0.2) & (r.nail < 0.5)
    palm = atlas.valid & (r.palmar > 0.8) & (r.nail < 0.5)
    filled, model = skin_fill(truth, palm, np.where(palm, 0.8, 0.0).astype(np.float32), r)
    assert model.measured["palm"] and not model.measured["back"]
    assert 0.75 * truth[palm].mean() < filled[back].mean() <= truth[palm].mean()
    assert np.abs(filled[back] - truth[back]).mean() < 0.08


def test_background_on_the_outline_is_not_taken_for_skin(skin):
    atlas, truth = skin
    seen = atlas.valid.copy()
    colour = truth.copy()
    blob = np.zeros_like(seen)
    blob[40:52, 40:52] = True
    blob &= seen
    colour[blob] = (0.2, 0.45, 0.9)  # a blue background a misaligned mesh put on the hand
    filled, _ = skin_fill(colour, seen, np.full(seen.shape, 0.5, np.float32), atlas.regions)
    assert blob.sum() > 50
    assert np.abs(filled[blob] - truth[blob]).mean() < 0.1 < np.abs(colour[blob] - truth[blob]).mean()
    rest = seen & ~blob
    assert np.abs(filled[rest] - truth[rest]).mean() < 0.01  # real skin detail is not mistaken for an outlier
    quality = np.full(seen.shape, 0.5, np.float32)
    confidence = np.full(seen.shape, 0.25, np.float32)  # one view
    filled, _ = skin_fill(colour, seen, quality, atlas.regions, confidence)
    assert np.abs(filled[blob] - truth[blob]).mean() < 0.1
    confidence[blob] = 2.0  # the same patch, agreed on by many views: a tattoo, not background; it stays
    kept, _ = skin_fill(colour, seen, quality, atlas.regions, confidence)
    assert np.array_equal(kept[blob], colour[blob])


def test_the_guide_asks_for_back_then_palm_then_sides(right_data):
    atlas = UVAtlas.for_model(right_data, SIZE)
    guide = CaptureGuide(atlas)
    fusion = TextureFusion(atlas)
    steps = []
    for region in ("back", "palm", "sides"):
        p = guide.progress(fusion)
        steps.append(p.step)
        assert p.progress[region] < 1.0 and not p.done
        fusion.seen |= guide.masks[region]
        fusion.best[guide.masks[region]] = 0.6
    p = guide.progress(fusion)
    assert steps == ["back", "palm", "sides"] and p.done and p.coverage == pytest.approx(1.0)
    assert all(v == 1.0 for v in p.progress.values())
    fusion.best[guide.masks["palm"]] = 0.05  # seen, but only at grazing angles: not seen well
    assert guide.progress(fusion).step == "palm"


def _hand(right_data, size=64, seed=0):
    model = HandModel(right_data, flat_hand_mean=True)
    fusion = TextureFusion(UVAtlas.for_model(right_data, size))
    rng = np.random.default_rng(seed)
    fusion.colour[:] = rng.uniform(0.2, 0.8, fusion.colour.shape)
    fusion.seen[:] = rng.uniform(size=fusion.seen.shape) < 0.7
    fusion.best[:] = np.where(fusion.seen, rng.uniform(0.1, 1.0, fusion.best.shape), 0.0)
    offsets = rng.normal(0, 1e-3, (right_data.num_vertices, 3))
    return model, PersonalHand.from_fusion("right", model, rng.normal(0, 0.5, 10), fusion, offsets,
                                           {"frames": 3, "shape_source": "mono"})


def test_a_saved_hand_reloads_bit_identically(right_data, tmp_path):
    model, hand = _hand(right_data)
    hand.save(tmp_path / "a", model=model)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(FILES)
    again = PersonalHand.load(tmp_path / "a")
    for k in ("colour", "best", "seen"):
        assert again.texture[k].dtype == hand.texture[k].dtype and np.array_equal(again.texture[k], hand.texture[k])
    assert np.array_equal(again.betas, hand.betas) and np.array_equal(again.vertex_offsets, hand.vertex_offsets)
    again.save(tmp_path / "b", model=model)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    import trimesh
    mesh = trimesh.load(tmp_path / "a" / "hand.glb", force="mesh")
    assert len(mesh.vertices) >= right_data.num_vertices and mesh.visual.material.baseColorTexture.size == (64, 64)


def test_a_saved_hand_is_never_replaced_by_surprise_and_damage_is_named(right_data, left_data, tmp_path):
    model, hand = _hand(right_data)
    hand.save(tmp_path / "h")
    before = (tmp_path / "h" / "hand.npz").read_bytes()
    with pytest.raises(OutputError, match="--force"):
        _hand(right_data, seed=1)[1].save(tmp_path / "h")
    assert (tmp_path / "h" / "hand.npz").read_bytes() == before
    _hand(right_data, seed=1)[1].save(tmp_path / "h", force=True)
    assert (tmp_path / "h" / "hand.npz").read_bytes() != before
    with pytest.raises(PersonalHandError, match="capture-hand"):
        PersonalHand.load(tmp_path / "nothing")
    with pytest.raises(PersonalHandError, match="another hand model|left"):
        PersonalHand.load(tmp_path / "h").check_model(HandModel(left_data))
    (tmp_path / "h" / "hand.npz").write_bytes(before[: len(before) // 2])
    with pytest.raises(PersonalHandError, match="hand.npz is damaged"):
        PersonalHand.load(tmp_path / "h")
    (tmp_path / "h" / "hand.json").write_text("{not json")
    with pytest.raises(PersonalHandError, match="hand.json is damaged"):
        PersonalHand.load(tmp_path / "h")
    (tmp_path / "h" / "hand.json").write_text(json.dumps({"format": "realhands-personal-hand", "version": 99}))
    with pytest.raises(PersonalHandError, match="version 99"):
        PersonalHand.load(tmp_path / "h")
    _, bad = _hand(right_data)
    bad.betas[0] = np.nan
    with pytest.raises(PersonalHandError, match="NaN"):
        PersonalHand(bad.side, bad.model, bad.betas, bad.texture)


def test_a_session_starts_from_the_saved_hand(right_data, tmp_path):
    from realhands.reconstruct import Reconstructor

    model, hand = _hand(right_data, size=128)
    hand.save(tmp_path / "me")
    rec = Reconstructor(video=True, regressor="fit", mask="none", texture_size=64, hands=(str(tmp_path / "me"),))
    try:
        assert np.array_equal(rec.shapes["right"], hand.betas)  # held from the first frame: the rig is right at once
        fusion = rec.textures["right"]
        assert fusion.atlas.size == 64 and fusion.version > 0 and fusion.seen.mean() > 0.3  # published at once
        rec.reset()  # a new video: the saved hand is where it starts again
        assert np.array_equal(rec.shapes["right"], hand.betas) and rec.textures["right"].seen.any()
        with pytest.raises(PersonalHandError, match="two personal hands"):
            rec.load_hand(PersonalHand.load(tmp_path / "me"))
    finally:
        rec.close()


def test_a_saved_hand_takes_no_views_so_its_mask_is_never_computed(right_data, tmp_path):
    """Video with the user's saved right hand (the shipped clip shows a right hand): its texture is the saved one,
    so no frame takes a view for it and HandNet never runs for a mask (with the fit as the regressor, nothing else
    asks for HandNet); without the saved hand it runs at the texture's cadence."""
    from realhands.live.sources import open_source
    from realhands.reconstruct import Reconstructor

    model, hand = _hand(right_data, size=64)
    hand.save(tmp_path / "me")
    frames = [f for _, f in zip(range(20), open_source("synthetic", loop=False), strict=False)]

    def handnet_calls(**choices) -> tuple[int, int]:
        rec = Reconstructor(video=True, regressor="fit", texture_size=64, **choices)
        count, predict = [0], rec.handnet.predict

        def counted(*args, **kwargs):
            count[0] += 1
            return predict(*args, **kwargs)

        rec.handnet.predict = counted
        try:
            hands = sum(len(rec(f.views[0], f.camera, timestamp=f.capture_ns / 1e9)) for f in frames)
        finally:
            rec.close()
        return count[0], hands

    n, hands = handnet_calls(hands=(str(tmp_path / "me"),))
    assert hands >= 15 and n == 0, (n, hands)
    n, hands = handnet_calls()
    assert n >= hands // 4, (n, hands)  # (the counting sees HandNet when the texture takes views)


def test_the_guided_capture_completes_on_the_turning_sequence_and_a_run_starts_from_it(tmp_path):
    """`realhands capture-hand` on the synthetic hand turning over (stereo, MediaPipe, the default reconstruction):
    the progress it publishes reaches every region, the hand it writes reloads, and `realhands run --hand` then
    publishes that hand's shape and texture with its first hand frame."""
    import socket
    import subprocess
    import sys
    import time

    import zmq

    from realhands.config import Config
    from realhands.live.session import run_session
    from realhands.streaming.wire import decode

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        endpoint = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"rh.stats")
    sub.setsockopt(zmq.RCVTIMEO, 500)
    sub.connect(endpoint)
    out = tmp_path / "me"
    proc = subprocess.Popen([sys.executable, "-m", "realhands.cli", "capture-hand", str(out), "--endpoint", endpoint,
                             "--synthetic-frames", "90"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    steps, t0 = [], time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < 300:
            try:
                body = decode(sub.recv_multipart())[1]
            except zmq.Again:
                continue
            if body["capture_step"]:
                steps.append((body["capture_step"], body["capture_progress"]))
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        sub.close()
    assert proc.returncode == 0, stderr[-2000:]
    assert steps and steps[-1][0] == "done", steps
    assert all(v == 1.0 for k, v in steps[-1][1].items() if k != "coverage") and steps[-1][1]["coverage"] > 0.85
    hand = PersonalHand.load(out)
    assert hand.info["complete"] and hand.info["shape_source"] == "stereo" and hand.side == "right"
    assert "wrote the right hand" in stdout

    cfg = Config()
    cfg.live.hands = (str(out),)
    cfg.live.texture_size = 0  # no fusing this run: what is published is the saved texture
    first = []
    run_session(cfg, frames=15, publish=False, progress=False,
                on_result=lambda r: first.append(r) if r.hands and not first else None)
    assert first, "no hand in the shipped clip's first frames"
    r = first[0]
    right = [h for h in r.hands if h.handedness == "right"]
    assert right and np.allclose(right[0].mano["betas"], hand.betas[:10], atol=1e-6)  # the user's shape at once
    assert "right" in r.textures  # and the user's texture with the first hand frame

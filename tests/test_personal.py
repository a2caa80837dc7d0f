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


def _forge_npz(path, members: dict, data_bytes: int = 1 << 22) -> None:
    """A hand.npz whose .npy members declare ``members`` {name: (shape, descr)}, each followed by at most
    ``data_bytes`` of zeros, deflated: a small file that claims what its headers say."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (shape, descr) in members.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
            n = min(int(np.prod(shape)) * np.dtype(descr).itemsize, data_bytes)
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                f.write(header.getvalue() + bytes(n))


def _texture(side: int, colour_side: int | None = None) -> dict:
    c = side if colour_side is None else colour_side
    return {"betas": ((10,), "<f8"), "colour": ((c, c, 3), "<f4"), "best": ((side, side), "<f4"),
            "seen": ((side, side), "|b1")}


def test_a_forged_hand_npz_claiming_gigabytes_is_refused_from_its_headers(right_data, tmp_path):
    """A hand.npz of a few kilobytes whose headers declare a 16384x16384 texture (4.5 GB) or a billion vertex
    offsets: refused from the headers, before any data is read. The load runs in a subprocess whose address space
    is capped 1.5 GB above what it has mapped, so a loader that believed the headers fails here instead of taking
    the machine."""
    import subprocess
    import sys

    model, hand = _hand(right_data)
    hand.save(tmp_path / "ok")
    forged = {"texture": _texture(16384), "offsets": {**_texture(64), "vertex_offsets": ((10 ** 9, 3), "<f4")}}
    for name, members in forged.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "hand.json").write_bytes((tmp_path / "ok" / "hand.json").read_bytes())
        _forge_npz(tmp_path / name / "hand.npz", members)
        assert (tmp_path / name / "hand.npz").stat().st_size < 100_000
    script = """if True:
        import json, resource, sys
        from realhands.errors import PersonalHandError
        from realhands.personal import PersonalHand
        mapped = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mapped + (3 << 29), resource.RLIM_INFINITY))
        out = {}
        for folder in sys.argv[1:]:
            try:
                PersonalHand.load(folder)
                out[folder] = "loaded"
            except PersonalHandError as exc:
                out[folder] = str(exc)
            except BaseException as exc:
                out[folder] = f"{type(exc).__name__}: {exc}"
        # (VmHWM: this process's own peak; ru_maxrss on Linux carries the forking parent's across exec)
        out["maxrss_mb"] = next(int(line.split()[1]) for line in open("/proc/self/status")
                                if line.startswith("VmHWM")) / 1024
        print(json.dumps(out))
    """
    folders = [str(tmp_path / name) for name in ("texture", "offsets", "ok")]
    proc = subprocess.run([sys.executable, "-c", script, *folders], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    texture, offsets, ok = (out[f] for f in folders)
    assert "hand.npz is damaged" in texture and "16384" in texture and "4096" in texture, texture
    assert "hand.npz is damaged" in offsets and "vertex_offsets" in offsets and "1000000000" in offsets, offsets
    assert ok == "loaded"
    assert out["maxrss_mb"] < 1500, out  # nothing the size of the claims was ever allocated


def test_a_texture_with_no_texels_or_of_the_wrong_shape_is_refused(right_data, tmp_path):
    """A 0x0 texture passed the loader and crashed `realhands run --hand` in cv2.resize: refused when loaded, as
    are a texture too small to be a hand's, a non-square one and one whose parts differ in size."""
    model, hand = _hand(right_data)
    hand.save(tmp_path / "ok")
    cases = {"empty": _texture(0), "tiny": _texture(4), "wide": {**_texture(64), "best": ((64, 32), "<f4")},
             "mixed": _texture(64, colour_side=32)}
    for name, members in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "hand.json").write_bytes((tmp_path / "ok" / "hand.json").read_bytes())
        _forge_npz(tmp_path / name / "hand.npz", members, data_bytes=1 << 30)  # (all of their data: small)
    with pytest.raises(PersonalHandError, match=r"hand.npz is damaged.* 16 to 4096 texels a side, got 0"):
        PersonalHand.load(tmp_path / "empty")
    with pytest.raises(PersonalHandError, match=r"texels a side, got 4"):
        PersonalHand.load(tmp_path / "tiny")
    with pytest.raises(PersonalHandError, match=r"best array is \(64, 32\)"):
        PersonalHand.load(tmp_path / "wide")
    with pytest.raises(PersonalHandError, match=r"\(S,S,3\) colour with \(S,S\) best and seen"):
        PersonalHand.load(tmp_path / "mixed")
    texture = {"colour": np.zeros((0, 0, 3), np.float32), "best": np.zeros((0, 0), np.float32),
               "seen": np.zeros((0, 0), bool)}
    with pytest.raises(PersonalHandError, match="texels a side, got 0"):
        PersonalHand(hand.side, hand.model, hand.betas, texture)


def test_a_hand_npz_that_is_not_an_npz_archive_is_named(right_data, tmp_path):
    import io

    model, hand = _hand(right_data)
    hand.save(tmp_path / "h")
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))  # a plain .npy where the .npz goes
    (tmp_path / "h" / "hand.npz").write_bytes(buf.getvalue())
    with pytest.raises(PersonalHandError, match=r"hand.npz is damaged: not an .npz archive"):
        PersonalHand.load(tmp_path / "h")
    _forge_npz(tmp_path / "h" / "hand.npz", {**_texture(64), "colour": ((64, 64, 3), "|O")})
    with pytest.raises(PersonalHandError, match="colour array is of type object, not numbers"):
        PersonalHand.load(tmp_path / "h")


def test_betas_no_human_hand_has_are_refused(right_data, tmp_path):
    """Finite but absurd betas (1e4 put the joints 700 m away, 1e30 at 1e26 m) are refused, in a hand made or
    loaded; a plausible shape is kept."""
    from realhands.personal.hand import MAX_ABS_BETA, _npz_bytes

    model, hand = _hand(right_data)
    for value in (1e30, 1e4, -(MAX_ABS_BETA + 1)):
        betas = np.zeros(10)
        betas[3] = value
        with pytest.raises(PersonalHandError, match="no human hand"):
            PersonalHand(hand.side, hand.model, betas, hand.texture)
    hand.save(tmp_path / "h")
    (tmp_path / "h" / "hand.npz").write_bytes(_npz_bytes({"betas": np.full(10, 1e4), **hand.texture}))
    with pytest.raises(PersonalHandError, match=r"h: .*betas.*got 10000: that is no human hand"):
        PersonalHand.load(tmp_path / "h")
    betas = np.full(10, 3.0)
    betas[0] = -MAX_ABS_BETA
    assert np.array_equal(PersonalHand(hand.side, hand.model, betas, hand.texture).betas, betas)


def test_capture_hand_refuses_an_output_under_a_file_before_capturing(right_data, tmp_path, monkeypatch, capsys):
    """`realhands capture-hand notes.txt/me` with notes.txt a file: one error line before any capture (the capture
    used to run, then lose itself in a NotADirectoryError traceback); the save itself names an OSError."""
    import realhands.live.session as session
    import realhands.personal.hand as hand_module
    from realhands.cli import main
    from realhands.personal.hand import check_folder

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")

    def no_capture(*args, **kwargs):
        raise AssertionError("the capture ran")

    monkeypatch.setattr(session, "run_session", no_capture)
    assert main(["capture-hand", str(notes / "me"), "--no-publish", "--frames", "3", "--synthetic-frames", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot make the folder {notes / 'me'} for the personal hand: {notes} is a file"], err
    assert notes.read_text() == "my notes\n"
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_folder(notes)
    with pytest.raises(OutputError, match=f"{notes} is a file"):
        check_folder(notes / "a" / "b")
    assert check_folder(tmp_path / "new" / "me") == tmp_path / "new" / "me"
    monkeypatch.setattr(hand_module.os, "access", lambda path, mode: False)  # (root may write anywhere)
    with pytest.raises(OutputError, match=f"{tmp_path} is not writable"):
        check_folder(tmp_path / "new" / "me")
    monkeypatch.undo()
    model, hand = _hand(right_data)
    monkeypatch.setattr(hand_module, "check_folder", lambda folder, force=False: folder)  # (the save on its own)
    with pytest.raises(OutputError, match="could not write the personal hand to .*notes.txt/me"):
        hand.save(notes / "me")

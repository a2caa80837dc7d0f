"""Hostile but fair input, one test per finding of the probes (issue 17): each becomes one clear error or a right
result, nothing a user already wrote is lost, and a long run never dies of one bad input. Then a seeded fuzz of what
a user or a network can send: image, model, config and recording files, and bytes on the publisher's socket."""
import copy
import copyreg
import json
import os
import pickle
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from realhands.errors import (
    CameraError,
    ConfigError,
    MediaError,
    ModelFileError,
    OutputError,
    RealHandsError,
    RecordingError,
    StreamConfigError,
)

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "realhands.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib() -> float:
    import resource

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _one_error_line(res) -> str:
    """The command failed with exit code 2 and exactly one line on stderr saying why (no traceback)."""
    lines = [x for x in res.stderr.splitlines() if x.strip() and not x.startswith(("W0000", "I0000", "INFO:",
                                                                                     "WARNING: All log"))]
    assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.fixture(scope="module")
def hand_png(tmp_path_factory):
    """A render of a hand, as a PNG file."""
    from PIL import Image

    from realhands.synth.generate import SynthConfig, SynthGenerator

    s = SynthGenerator(SynthConfig(rig="zedm", resolution="320x240", egocentric_ratio=1.0,
                                   background_style="everyday"), seed=5).sample(0)
    path = tmp_path_factory.mktemp("img") / "hand.png"
    Image.fromarray(s.rgb_left).save(path)
    return path


# -- LAN security ----------------------------------------------------------------------------------------------
def test_curve_admits_exactly_the_listed_clients(tmp_path):
    """1. --curve-clients: a listed client's key is admitted, another key is refused (it used to refuse all)."""
    from realhands.streaming import HandPublisher, HandSubscriber, encode
    from realhands.streaming.keys import create_key_pairs

    (server_pub, server_sec), (client_pub, client_sec) = create_key_pairs(tmp_path / "k")
    (_, _), (_, stranger_sec) = create_key_pairs(tmp_path / "other")
    admitted = tmp_path / "admitted"
    admitted.mkdir()
    (admitted / "client.key").write_bytes(client_pub.read_bytes())
    port = _port()
    pub = HandPublisher(f"tcp://0.0.0.0:{port}", lan=True, allow=["127.0.0.1"], curve_secret_key=server_sec,
                        curve_clients=admitted)
    listed = HandSubscriber(f"tcp://127.0.0.1:{port}", curve_server_key=server_pub, curve_client_key=client_sec)
    stranger = HandSubscriber(f"tcp://127.0.0.1:{port}", curve_server_key=server_pub, curve_client_key=stranger_sec)
    try:
        time.sleep(0.6)
        got = {"listed": 0, "stranger": 0}
        for i in range(10):
            pub.publish(encode("stats", {"publish_ns": 1, "uptime_s": 1.0, "frames": i, "dropped": 0, "fps": 1.0,
                                         "stage_ms": {}, "source": "t"}))
            got["listed"] += listed.recv(60) is not None
            got["stranger"] += stranger.recv(20) is not None
        assert got["listed"] >= 5 and got["stranger"] == 0, got
    finally:
        listed.close()
        stranger.close()
        pub.close()


def _zmtp_sub_handshake(sock: socket.socket) -> None:
    """A ZMTP 3.0 NULL-mechanism greeting and READY as a SUB socket, spoken by hand."""
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31
    sock.sendall(greeting)
    sock.recv(64)
    prop = b"\x0bSocket-Type" + struct.pack(">I", 3) + b"SUB"
    body = b"\x05READY" + prop
    sock.sendall(bytes([0x04, len(body)]) + body)


def test_an_oversized_inbound_message_is_refused_before_it_is_buffered():
    """2. A peer that declares a 1 GiB message and streams 48 MiB of it is cut off: the publisher's memory does not
    grow with it, and a good subscriber is still served."""
    from realhands.streaming import HandPublisher, HandSubscriber, encode

    port = _port()
    pub = HandPublisher(f"tcp://127.0.0.1:{port}")
    good = HandSubscriber(f"tcp://127.0.0.1:{port}", topics=("stats",))
    try:
        time.sleep(0.3)
        rss0 = _rss_mib()
        attacker = socket.create_connection(("127.0.0.1", port))
        _zmtp_sub_handshake(attacker)
        attacker.sendall(b"\x02" + struct.pack(">Q", 2**30))  # a long frame of 1 GiB
        chunk, sent = b"\x01" * (1 << 20), 0
        try:
            for _ in range(48):
                attacker.sendall(chunk)
                sent += 1
                pub.service()
        except OSError:
            pass  # disconnected: what should happen
        finally:
            attacker.close()
        for _ in range(20):
            pub.service()
            time.sleep(0.02)
        grew = _rss_mib() - rss0
        assert grew < 20, f"publisher memory grew {grew:.0f} MiB while a peer sent {sent} MiB"
        for i in range(5):
            pub.publish(encode("stats", {"publish_ns": 1, "uptime_s": 1.0, "frames": i, "dropped": 0, "fps": 1.0,
                                         "stage_ms": {}, "source": "t"}))
        assert good.recv(1000) is not None, "the good subscriber starved"
    finally:
        good.close()
        pub.close()


def test_rig_requests_cannot_amplify_rig_traffic():
    """3. Thousands of re-subscriptions to rh.rig re-send the 384 kB rigs a few times a second at most, not once each,
    and every subscriber still gets the rig."""
    from realhands.streaming import HandPublisher, HandSubscriber, decode
    from realhands.streaming.publisher import RIG_RESEND_MIN_INTERVAL_S

    port = _port()
    pub = HandPublisher(f"tcp://127.0.0.1:{port}", hwm=5000)
    pub.set_rig("right", [b"rh.rig", b"h", b"x" * 384_000])
    victim = HandSubscriber(f"tcp://127.0.0.1:{port}", topics=("rig",), rcvhwm=100000)
    noisy = HandSubscriber(f"tcp://127.0.0.1:{port}", topics=("rig",))
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            for _ in range(200):
                noisy.request_rig()
            pub.service()
            time.sleep(0.01)
        time.sleep(RIG_RESEND_MIN_INTERVAL_S + 0.05)
        pub.service()
        seconds = time.monotonic() - t0
        assert pub.rig_requests > 500
        assert pub.rig_resends <= seconds / RIG_RESEND_MIN_INTERVAL_S + 2, (pub.rig_requests, pub.rig_resends)
        got = 0
        while victim.recv_raw(200) is not None:
            got += 1
        assert 1 <= got <= pub.rig_resends + 1
        assert decode is not None
    finally:
        victim.close()
        noisy.close()
        pub.close()


def test_keys_are_private_and_never_replaced_by_surprise(tmp_path):
    """4. Secret key files are 0600; an existing key pair is not overwritten without --force."""
    res = _cli("keys", tmp_path / "k")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "k/server.key_secret").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "k/client.key_secret").stat().st_mode & 0o777 == 0o600
    before = (tmp_path / "k/server.key_secret").read_bytes()
    assert "--force" in _one_error_line(_cli("keys", tmp_path / "k"))
    assert (tmp_path / "k/server.key_secret").read_bytes() == before
    assert _cli("keys", tmp_path / "k", "--force").returncode == 0
    assert (tmp_path / "k/server.key_secret").read_bytes() != before


def test_lan_without_curve_warns_once_and_bad_key_paths_are_clear(tmp_path):
    """5, 6. Unencrypted LAN mode says so once; a missing key file or clients folder is one clear error."""
    from realhands.streaming import HandPublisher
    from realhands.streaming.keys import create_key_pairs

    logs = []
    pub = HandPublisher(f"tcp://0.0.0.0:{_port()}", lan=True, allow=["127.0.0.1"], log=logs.append)
    pub.close()
    assert len(logs) == 1 and "unencrypted" in logs[0]
    with pytest.raises(StreamConfigError, match="CURVE key file not found"):
        HandPublisher(f"tcp://0.0.0.0:{_port()}", lan=True, allow=["127.0.0.1"], curve_secret_key=tmp_path / "nope")
    (_, secret), _ = create_key_pairs(tmp_path / "k")
    with pytest.raises(StreamConfigError, match="--curve-clients folder not found"):
        HandPublisher(f"tcp://0.0.0.0:{_port()}", lan=True, allow=["127.0.0.1"], curve_secret_key=secret,
                      curve_clients=tmp_path / "missing")
    res = _cli("run", "--lan", "--allow", "127.0.0.1", "--endpoint", f"tcp://0.0.0.0:{_port()}",
               "--curve-key", tmp_path / "nope.key_secret", "--frames", "1")
    assert "CURVE key file not found" in _one_error_line(res)


# -- data loss ---------------------------------------------------------------------------------------------------
def test_reconstruct_never_overwrites_an_input_or_a_users_file(hand_png, tmp_path):
    """7, 12. --out is not an input, not a folder, not under a file, not someone's other file (without --force)."""
    import shutil

    img = tmp_path / "hand.jpg"
    shutil.copy(hand_png, img)
    before = img.read_bytes()
    assert "one of the inputs" in _one_error_line(_cli("reconstruct", img, "--out", img))
    assert img.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert "--force" in _one_error_line(_cli("reconstruct", img, "--out", notes))
    assert notes.read_text() == "mine"
    assert "is a folder" in _one_error_line(_cli("reconstruct", img, "--out", tmp_path))
    assert "is a file" in _one_error_line(_cli("reconstruct", img, "--out", notes / "r.jsonl"))


def test_one_bad_input_never_ends_the_run_and_same_names_do_not_collide(hand_png, tmp_path):
    """8, 9. A decompression bomb (a 20000x20000 PNG header) is one error line and the later files are processed;
    two folders' files of one name get two overlays."""
    import shutil

    from realhands.batch import reconstruct_files

    bomb = tmp_path / "a" / "bomb.png"
    bomb.parent.mkdir()
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir(exist_ok=True)
        shutil.copy(hand_png, tmp_path / folder / "same.png")
    out = tmp_path / "r.jsonl"
    s = reconstruct_files([tmp_path / "a", tmp_path / "b"], out, overlay_dir=tmp_path / "ov", log=lambda *a: None)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert s.failures == 1 and s.written == 2 and len(lines) == 3
    assert "bomb.png" in lines[0]["image"] and "pixels" in lines[0]["error"]
    assert sorted(p.name for p in (tmp_path / "ov").glob("*.jpg")) == ["same.jpg", "same_2.jpg"]


def test_outputs_never_replace_a_file_realhands_did_not_write(hand_png, tmp_path):
    """The user's own photo.jpg in the overlay folder, and their notes named like a texture, are kept: those
    outputs take the next free name. A re-run replaces its own outputs (no photo_3.jpg), not the user's."""
    from PIL import Image

    from realhands.batch import reconstruct_files

    photos, ov, tex = tmp_path / "photos", tmp_path / "ov", tmp_path / "tex"
    for d in (photos, ov, tex):
        d.mkdir()
    Image.open(hand_png).convert("RGB").save(photos / "photo.jpg", quality=95)
    (ov / "photo.jpg").write_bytes(b"the user's own picture")
    for side in ("left", "right"):
        (tex / f"images_{side}.glb").write_bytes(b"the user's own model")
    notes: list[str] = []
    for _run in range(2):
        s = reconstruct_files([photos], tmp_path / "r.jsonl", overlay_dir=ov, texture_dir=tex, log=notes.append)
        assert s.written == 1 and s.failures == 0
        assert (ov / "photo.jpg").read_bytes() == b"the user's own picture"
        assert all((tex / f"images_{side}.glb").read_bytes() == b"the user's own model" for side in ("left", "right"))
        assert sorted(p.name for p in ov.iterdir() if not p.name.startswith(".")) == ["photo.jpg", "photo_2.jpg"]
        assert Image.open(ov / "photo_2.jpg").size == Image.open(photos / "photo.jpg").size
        side = json.loads((tmp_path / "r.jsonl").read_text())["hands"][0]["handedness"]
        # the texture group moves as one: png, observed map and GLB under one stem
        assert {f"images_{side}_2.png", f"images_{side}_2_observed.png", f"images_{side}_2.glb",
                f"images_{side}.glb"} == {p.name for p in tex.iterdir() if side in p.name}
    assert sum("photo.jpg was not written by RealHands" in n for n in notes) == 2  # said, once a run


def test_overlays_and_textures_are_never_written_over_the_photos(hand_png, tmp_path):
    """An overlay is named after its photo (photo.jpg -> photo.jpg): an --overlay or --texture folder that holds the
    inputs is refused with one error, before anything is read or written, and the photo is as it was."""
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(hand_png).convert("RGB").save(photos / "photo.jpg", quality=95)
    before = (photos / "photo.jpg").read_bytes()
    (tmp_path / "data").mkdir()
    (photos / "linked.jpg").symlink_to(tmp_path / "data" / "real.jpg")  # a photo kept elsewhere, linked in
    Image.open(hand_png).convert("RGB").save(tmp_path / "data" / "real.jpg", quality=95)
    real = (tmp_path / "data" / "real.jpg").read_bytes()
    for flag, folder, photo in (("--overlay", photos, "photo.jpg"), ("--texture", photos, "photo.jpg"),
                                ("--overlay", tmp_path / "photos" / ".", "photo.jpg"),
                                ("--overlay", photos, "linked.jpg"), ("--overlay", tmp_path / "data", "linked.jpg")):
        msg = _one_error_line(_cli("reconstruct", photos / photo, "--out", tmp_path / "r.jsonl", flag, folder))
        assert "holds the inputs" in msg and flag in msg, msg
        assert (photos / "photo.jpg").read_bytes() == before and (tmp_path / "data" / "real.jpg").read_bytes() == real
        assert sorted(photos.iterdir()) == [photos / "linked.jpg", photos / "photo.jpg"]
    assert not (tmp_path / "r.jsonl").exists()  # refused before the results file was opened


def test_an_output_folder_keeps_whatever_it_did_not_write_itself(tmp_path):
    """OutputFolder, directly: a link or a folder at an output's name, an output the user deleted and replaced
    with their own file, names that would break a line-per-name list (a line break, a byte that is not UTF-8), a
    stem that is a dot, a manifest that is a link or cannot be read: nothing outside is written, nothing kept is
    replaced, and a re-run of the same outputs takes the same names."""
    from realhands.errors import OutputError
    from realhands.outputs import OutputFolder

    ov = tmp_path / "ov"
    notes: list[str] = []

    def put(folder, stem, data=b"overlay"):
        return folder.write(stem, {".jpg": lambda p: p.write_bytes(data)})[0].name

    f = OutputFolder(ov, notes.append)
    names = [put(f, s) for s in ("photo", "a\nb", "x\u2028y", "ph\udce9to", ".", "", "link", "dir", "gone")]
    assert names == ["photo.jpg", "a\nb.jpg", "x\u2028y.jpg", "ph\udce9to.jpg", "..jpg", "_.jpg", "link.jpg",
                     "dir.jpg", "gone.jpg"]
    assert not (tmp_path / "ov.jpg").exists()  # the stem "." stays inside the folder
    (tmp_path / "precious.jpg").write_bytes(b"precious")
    (ov / "link.jpg").unlink()
    (ov / "link.jpg").symlink_to(tmp_path / "precious.jpg")
    (ov / "dir.jpg").unlink()
    (ov / "dir.jpg").mkdir()
    (ov / "gone.jpg").unlink()
    (ov / "gone.jpg").write_bytes(b"the user's own, same name")
    (ov / "b.jpg").write_bytes(b"the user's b")  # a name the line break in "a\nb" must not have made ours
    f = OutputFolder(ov, notes.append)
    again = [put(f, s) for s in ("photo", "a\nb", "x\u2028y", "ph\udce9to", ".", "", "link", "dir", "gone", "b")]
    assert again == ["photo.jpg", "a\nb.jpg", "x\u2028y.jpg", "ph\udce9to.jpg", "..jpg", "_.jpg", "link_2.jpg",
                     "dir_2.jpg", "gone_2.jpg", "b_2.jpg"]
    assert (tmp_path / "precious.jpg").read_bytes() == b"precious"
    assert (ov / "gone.jpg").read_bytes() == b"the user's own, same name" and (ov / "b.jpg").read_bytes() == \
        b"the user's b"
    assert sum("was not written by RealHands" in n for n in notes) == 1  # once a run, not for each file
    manifest = ov / OutputFolder.MANIFEST
    manifest.write_bytes(manifest.read_bytes() + b"edited by hand, no line end")
    f = OutputFolder(ov, notes.append)
    assert put(f, "photo") == "photo.jpg" and put(f, "new") == "new.jpg"
    assert put(OutputFolder(ov, notes.append), "new") == "new.jpg"  # recorded on a line of its own
    manifest.rename(tmp_path / "elsewhere")
    manifest.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="not a plain file"):
        OutputFolder(ov)
    manifest.unlink()
    manifest.mkdir()
    with pytest.raises(OutputError, match="not a plain file"):
        OutputFolder(ov)


def _short_recording(tmp_path) -> Path:
    from realhands.recording.mcap_io import Recorder

    rec = Recorder(tmp_path / "a.mcap", {"source": "t"}, chunk_size=4096)
    for i in range(40):
        rec.add_json("/realhands/ground_truth", i, {"frame": i, "pad": "x" * 500})
    rec.attach("rig_right_v1.bin", b"R" * 1000)
    for i in range(40, 60):
        rec.add_json("/realhands/ground_truth", i, {"frame": i, "pad": "y" * 500})
    rec.close()
    return tmp_path / "a.mcap"


def test_a_damaged_chunk_or_attachment_is_skipped_and_reported(tmp_path):
    """10, 11. A flipped byte inside one chunk loses that chunk only; one inside an attachment is detected."""
    from realhands.recording import read_recording

    path = _short_recording(tmp_path)
    data = path.read_bytes()
    assert len(read_recording(path).messages) == 60
    bad = bytearray(data)
    bad[len(bad) // 4] ^= 0xFF
    (tmp_path / "b.mcap").write_bytes(bytes(bad))
    r = read_recording(tmp_path / "b.mcap")
    assert 40 <= len(r.messages) < 60 and len(r.damaged) == 1 and "chunk" in r.damaged[0] and not r.truncated
    assert max(json.loads(m.data)["frame"] for m in r.messages) == 59  # the chunks after the damage are kept
    bad = bytearray(data)
    bad[data.find(b"R" * 100) + 10] ^= 1
    (tmp_path / "c.mcap").write_bytes(bytes(bad))
    r = read_recording(tmp_path / "c.mcap")
    assert "rig_right_v1.bin" not in r.attachments and "attachment rig_right_v1.bin" in r.damaged[0]


# -- tracebacks and cryptic errors -------------------------------------------------------------------------------
def test_crafted_sparse_matrices_in_a_model_file_are_refused(tmp_path, monkeypatch):
    """13. A scipy.sparse entry with an absurd shape (no terabyte allocation) or a broken state is a clear
    ModelFileError."""
    import scipy.sparse._csc as csc_mod

    from realhands.model import load_model_file

    class FakeCsc:
        def __init__(self, state):
            self.state = state

        def __reduce_ex__(self, protocol):
            return copyreg._reconstructor, (FakeCsc, object, None), self.state

    FakeCsc.__module__, FakeCsc.__name__, FakeCsc.__qualname__ = "scipy.sparse._csc", "csc_matrix", "csc_matrix"
    monkeypatch.setattr(csc_mod, "csc_matrix", FakeCsc)
    for state, match in (({"_shape": (10**7, 10**7), "data": np.zeros(1), "indices": np.zeros(1, int),
                           "indptr": np.zeros(2, int)}, "impossible shape"),
                         ([1, 2, 3], "malformed"),
                         ({"_shape": (16, 4), "data": np.ones(3), "indices": np.array([0, 1, 99]),
                           "indptr": np.array([0, 1, 2, 3, 3])}, "inconsistent")):
        path = tmp_path / "MANO_RIGHT.pkl"
        path.write_bytes(pickle.dumps({"J_regressor": FakeCsc(state)}, protocol=2))
        with pytest.raises(ModelFileError, match=match):
            load_model_file(path)


@pytest.mark.parametrize("toml, match", [
    ("[model]\npath = 123\n", "path must be"), ("output_dir = 5\n", "output_dir must be"),
    ("[stream]\nhwm = 99999999999\n", "hwm must be"), ("[live]\ntexture_hz = nan\n", "texture_hz"),
    ("[live]\nsource = \"\"\n", "live.source must name a source"),
    ("[live]\ntexture_size = true\n", "texture_size"), ("[reconstruct]\nsmoothing_hz = inf\n", "smoothing"),
    ("[reconstruct]\nmax_hands = 0\n", "max_hands"), ("[live]\ntexture_size = 1000000\n", "texture_size"),
    ("[live]\nextrapolate_ms = -5\n", "extrapolate_ms"), ("[live]\nextrapolate_ms = nan\n", "extrapolate_ms"),
    ("[live]\nextrapolate_ms = 10000\n", "extrapolate_ms"), ("[live]\nqueue_frames = 0\n", "queue_frames"),
    ("[live]\nqueue_frames = 2.5\n", "queue_frames"), ("[live]\nqueue_frames = 500\n", "queue_frames"),
    ("[reconstruct]\nfit_solver = \"adam\"\n", "fit_solver"),
    ("[live]\npalm_search_frames = 0\n", "palm_search_frames"),
    ("[live]\npalm_search_frames = 2.5\n", "palm_search_frames"),
    ("[live]\ntexture_cpu_share = 0\n", "texture_cpu_share"),
    ("[live]\ntexture_cpu_share = 1e-300\n", "texture_cpu_share"),
    ("[live]\ntexture_fuse_hz = true\n", "texture_fuse_hz must be float"),  # (true is an int to Python)
    ("[reconstruct]\nmax_hands = true\n", "max_hands must be int"),
    ("[live]\ntexture_cpu_share = 1.5\n", "texture_cpu_share"),
    ("[live]\ntexture_cpu_share = nan\n", "texture_cpu_share"),
    ("[live]\ntexture_cpu_share = true\n", "texture_cpu_share"),
])
def test_bad_config_values_are_one_clear_error(tmp_path, toml, match):
    """14, 20."""
    from realhands.config import Config

    p = tmp_path / "c.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError, match=match):
        Config.from_toml(p)


@pytest.mark.parametrize("args, match", [
    (["--intrinsics", "500,500,nan,nan"], "intrinsics"), (["--intrinsics", "inf,500,320,240"], "intrinsics"),
    (["--intrinsics", "1e-30,1e-30,160,120"], "fx, fy"), (["--intrinsics", "500,500,-1e9,120"], "cx"),
    (["--max-hands", "0"], "max_hands"),
    (["--max-hands", "-1"], "max_hands"),
])
def test_bad_numbers_on_the_command_line_are_one_clear_error(hand_png, tmp_path, args, match):
    """15, 18."""
    out = tmp_path / "r.jsonl"
    assert match in _one_error_line(_cli("reconstruct", hand_png, "--out", out, *args))
    assert not out.exists() or not out.read_text()


def test_a_principal_point_far_outside_the_image_is_refused():
    """18. cx, cy given for another image (or swapped with fx, fy)."""
    from realhands.camera import Camera

    with pytest.raises(CameraError, match="principal point"):
        Camera.coerce((500, 500, 5000, 120), 320, 240)
    assert Camera.coerce((500, 500, 170, 110), 320, 240).cx == 170


def test_bad_run_arguments_and_a_camera_that_never_opens_fail_clearly():
    """21. --frames -1 and --duration -5 are refused; a camera that never opens ends with exit code 2."""
    for args in (["--frames", "-1"], ["--duration", "-5"]):
        res = _cli("run", "--no-publish", *args)
        assert res.returncode == 2 and "greater than 0" in res.stderr
    res = _cli("run", "--no-publish", "--source", "webcam:7", "--texture-size", "0")
    assert res.returncode == 2 and "cannot open webcam:7" in res.stderr


def test_cli_paths_and_bounds_a_user_can_get_wrong_are_one_clear_error_and_replace_nothing(tmp_path):
    """A folder given as --config, a synthetic clip of a hundred million frames, a calibration the source cannot
    take (and one that does not exist), an eval --out that is a file, a replay report onto a user's file, a capture
    into a folder holding the user's own hand.glb, a folder with nothing to reconstruct, a port beyond 65535
    (ZeroMQ took 99999 as 34463), a million refinement steps: each one error line (exit code 2, no traceback),
    before any work, and the user's files untouched."""
    from realhands.live.sources import DEMO_CLIP

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    (tmp_path / "me").mkdir()
    (tmp_path / "me" / "hand.glb").write_bytes(b"my own model")
    (tmp_path / "ann.json").write_text("[]")
    cases = [
        (("--config", tmp_path, "run", "--frames", "1"), "is a folder"),
        (("run", "--no-publish", "--frames", "2", "--synthetic-frames", "100000000"), "at most 3000"),
        (("run", "--no-publish", "--frames", "2", "--calibration", tmp_path / "none.yaml"), "side-by-side"),
        (("eval", "real3d", tmp_path / "ann.json", "--out", notes), "is a file"),
        (("replay", DEMO_CLIP, "--rerun", "--report", notes), "exists"),
        (("capture-hand", tmp_path / "me", "--no-publish", "--frames", "1"), "hand.glb"),
        (("reconstruct", tmp_path / "me", "--out", tmp_path / "r.jsonl"), "nothing to reconstruct"),
        (("run", "--frames", "1", "--endpoint", "tcp://127.0.0.1:99999"), "from 1 to 65535"),
        (("run", "--no-publish", "--source", "webcam:abc"), "not a camera index"),
        (("run", "--no-publish", "--source", ""), "the source is empty"),  # (not the default: a typo'd variable)
        (("capture-hand", tmp_path / "new", "--no-publish", "--source", " "), "the source is empty"),
        (("reconstruct", tmp_path / "me", "--out", tmp_path / "r.jsonl", "--refine-iterations", "1000000"),
         "at most 200"),
    ]
    for args, why in cases:
        res = _cli(*args, timeout=120)
        if "--synthetic-frames" in args:  # argparse's own: the usage, then the error
            assert res.returncode == 2 and why in res.stderr and "Traceback" not in res.stderr, res.stderr[-2000:]
        else:
            assert why in _one_error_line(res), args
    assert notes.read_text() == "my notes\n" and (tmp_path / "me" / "hand.glb").read_bytes() == b"my own model"
    assert not (tmp_path / "new").exists()


# -- silent wrong results ----------------------------------------------------------------------------------------
def test_images_are_read_as_a_person_sees_them(hand_png, tmp_path):
    """16, 17. EXIF orientation is applied; 16-bit greyscale and float images are scaled, not saturated."""
    from PIL import Image

    from realhands.capture.files import read_image

    rgb = read_image(hand_png)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    Image.fromarray(rgb).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = read_image(tmp_path / "phone.jpg")
    assert upright.shape == (rgb.shape[1], rgb.shape[0], 3)
    assert np.abs(upright.astype(int) - np.rot90(rgb, -1).astype(int)).mean() < 4
    grey = (rgb.mean(2) * 200).astype(np.uint16)  # 16-bit, up to ~51000
    Image.fromarray(grey).save(tmp_path / "g16.png")
    g = read_image(tmp_path / "g16.png")
    assert g.dtype == np.uint8 and 5 < g.mean() < 250 and g.std() > 10
    Image.fromarray((rgb.mean(2) / 255.0).astype(np.float32), mode="F").save(tmp_path / "f.tif")
    f = read_image(tmp_path / "f.tif")
    assert np.abs(f[..., 0].astype(int) - rgb.mean(2).astype(int)).mean() < 2


def test_a_model_file_with_nan_is_refused(right_data, tmp_path):
    """19."""
    from realhands.model import load_model_file

    bad = copy.deepcopy(right_data)
    bad.v_template = bad.v_template.copy()
    bad.v_template[5, 1] = np.nan
    path = bad.save_npz(tmp_path / "nan.npz")
    with pytest.raises(ModelFileError, match="NaN"):
        load_model_file(path)
    assert "NaN" in _one_error_line(_cli("model", "info", "--model", path, "--no-parity"))


def test_a_real_time_recording_re_runs_as_it_ran(tmp_path):
    """22. The default (real-time) session drops frames; its recording says which frames were reconstructed, and
    `replay --rerun` repeats exactly those, so an intact recording passes."""
    res = _cli("run", "--no-publish", "--frames", "24", "--texture-size", "0",
               "--record", tmp_path / "rt.mcap", timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    summary = json.loads(res.stdout[:res.stdout.rindex("}") + 1])
    report = tmp_path / "rerun.json"
    res = _cli("replay", tmp_path / "rt.mcap", "--rerun", "--tolerance-mm", "0.5", "--texture-size", "0", "--report",
               report, timeout=600)
    r = json.loads(report.read_text())
    assert res.returncode == 0 and r["passed"] and r["mean_joint_distance_mm"] < 0.5, (summary, r)
    assert r["compared"] >= 0.5 * summary["frames_out"]
    _damaged_copies_of_a_real_recording_lose_only_what_is_damaged(tmp_path / "rt.mcap", tmp_path)


def _rewrite(src: Path, dst: Path, message=None, metadata=None) -> Path:
    """A copy of a recording with its messages passed through ``message(topic, k, data)`` (k: the message's
    number within its topic; None drops it) and its metadata through ``metadata(dict)``."""
    from realhands.recording.mcap_io import Recorder, read_recording

    rec = read_recording(src)
    md = dict(rec.metadata)
    if metadata:
        metadata(md)
    out, seen = Recorder(dst, md), {}
    for m in rec.messages:
        k = seen[m.topic] = seen.get(m.topic, -1) + 1
        data = message(m.topic, k, m.data) if message else m.data
        if data is not None:
            out._add(m.topic, m.log_ns, data)
    for name, data in rec.attachments.items():
        out.attach(name, data)
    out.close()
    return dst


def _damaged_copies_of_a_real_recording_lose_only_what_is_damaged(rt: Path, tmp_path: Path):
    """A damaged input frame (not JSON, no frame id, a list, a number for an id, a bad or empty JPEG) loses that
    frame only, with a warning; a damaged published message (none, cut short, garbage, one frame) is skipped by
    the re-run with one warning, and by replay where it cannot be re-sent (a message it cannot decode, as of
    another wire version, goes out as recorded); a frame rate of 1e-9 (or 0, NaN, text) is not believed, so a
    paced replay does not wait days for its next frame; damaged calibration metadata is one error naming it."""
    from realhands.errors import RecordingError
    from realhands.live.session import recorded_wire
    from realhands.recording.mcap_io import CAMERA_TOPICS, WIRE_TOPIC, pack_frames, read_recording, recording_source

    def frames_of(path):
        said: list[str] = []
        return [f.index for f in recording_source(path, log=said.append)], said

    intact, said = frames_of(rt)
    assert len(intact) >= 10 and not said
    for k, damage in enumerate((lambda d: b"{{{", lambda d: json.dumps({"data": "x"}).encode(), lambda d: b"[1,2]",
                                lambda d: json.dumps(dict(json.loads(d), frame_id=5)).encode(),
                                lambda d: json.dumps(dict(json.loads(d), data="bm90IGEganBlZw==")).encode(),
                                lambda d: json.dumps(dict(json.loads(d), data="")).encode())):
        path = _rewrite(rt, tmp_path / f"cam{k}.mcap",
                        message=lambda t, i, d, damage=damage: damage(d) if t == CAMERA_TOPICS[0] and i == 3 else d)
        got, said = frames_of(path)
        assert got == intact[:3] + intact[4:] and len(said) == 1 and "skipped" in said[0], (k, said)
    wire = read_recording(rt)
    n = len(wire.topic(WIRE_TOPIC))
    for k, bad in enumerate((pack_frames([]), b"\x05\x00", pack_frames([b"rh.frame", b"\x00" * 5, b"junk"]),
                             pack_frames([b"rh.frame"]))):
        path = _rewrite(rt, tmp_path / f"wire{k}.mcap", message=lambda t, i, d, bad=bad: bad if t == WIRE_TOPIC and
                        i == 4 else d)
        said = []
        assert len(recorded_wire(read_recording(path), said.append)) == n - 1 and len(said) == 1, said
    # replay re-sends messages byte for byte: one it cannot decode (another wire version) goes out as recorded,
    # one cut short or of fewer than two frames cannot and is skipped
    assert len(recorded_wire(read_recording(tmp_path / "wire2.mcap"), said.append, decoded=False)) == n
    res = _cli("replay", tmp_path / "wire1.mcap", "--speed", "0", "--endpoint", f"tcp://127.0.0.1:{_port()}")
    assert res.returncode == 0 and "1 damaged published message(s) skipped" in res.stdout + res.stderr, res.stderr
    for fps in ("1e-9", "0", "nan", "abc"):
        path = _rewrite(rt, tmp_path / "slow.mcap", metadata=lambda md, fps=fps: md.update(fps=fps))
        said: list[str] = []
        assert recording_source(path, log=said.append).fps == 30.0
        list(recording_source(path, log=said.append))
        assert "frame rate" in said[0], said
    t = time.monotonic()
    res = _cli("run", "--no-publish", "--source", path, "--frames", "6", "--texture-size", "0", timeout=120)
    assert res.returncode == 0 and time.monotonic() - t < 100, res.stderr[-1500:]
    path = _rewrite(rt, tmp_path / "cal.mcap", metadata=lambda md: md.update(calibration="{not json"))
    with pytest.raises(RecordingError, match="cal.mcap: its calibration"):
        recording_source(path)


# -- fuzz --------------------------------------------------------------------------------------------------------
def _mutants(data: bytes, rng: np.random.Generator, count: int):
    """Seeded damage: flipped bytes, cut ends, repeated and dropped spans."""
    for _ in range(count):
        b = bytearray(data)
        kind = rng.integers(4)
        if kind == 0:
            for i in rng.integers(0, len(b), size=rng.integers(1, 8)):
                b[i] ^= int(rng.integers(1, 256))
        elif kind == 1:
            b = b[: rng.integers(0, len(b))]
        elif kind == 2:
            i, n = rng.integers(0, len(b)), rng.integers(1, 64)
            b[i:i] = b[i:i + n] * int(rng.integers(2, 5))
        else:
            i = rng.integers(0, len(b))
            del b[i:i + rng.integers(1, 256)]
        yield bytes(b)


def test_fuzz_files_a_user_can_hand_over(hand_png, right_data, tmp_path):
    """Damaged images, model files, config files and recordings: each either loads or is refused with the
    project's own error (one clear line), never an unexpected exception."""
    from realhands.capture.files import read_image
    from realhands.config import Config
    from realhands.model import load_model_file
    from realhands.recording import read_recording

    rng = np.random.default_rng(17)
    small = read_image(hand_png)[::4, ::4]
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(small)).save(tmp_path / "s.jpg", quality=80)
    Image.fromarray(np.ascontiguousarray(small)).save(tmp_path / "s.png")
    model = right_data.save_npz(tmp_path / "m.npz").read_bytes()
    config = (b'output_dir = "o"\n[model]\nside = "left"\n[stream]\nendpoint = "tcp://127.0.0.1:5555"\nallow = []\n'
              b'[live]\nmask = "auto"\ntexture_size = 128\ntexture_hz = 2.0\n')
    recording = _short_recording(tmp_path).read_bytes()
    cases = [("jpg", (tmp_path / "s.jpg").read_bytes(), read_image, MediaError, 60),
             ("png", (tmp_path / "s.png").read_bytes(), read_image, MediaError, 60),
             ("npz", model, load_model_file, ModelFileError, 25),
             ("toml", config, Config.from_toml, ConfigError, 120),
             ("mcap", recording, read_recording, RecordingError, 60)]
    counts = {}
    for suffix, data, load, error, n in cases:
        ok = refused = 0
        for k, blob in enumerate(_mutants(data, rng, n)):
            path = tmp_path / f"fuzz_{k}.{suffix}"
            path.write_bytes(blob)
            try:
                load(path)
                ok += 1
            except error as exc:
                assert str(exc) and "\n" not in str(exc).strip(), str(exc)
                refused += 1
            path.unlink()
        counts[suffix] = (ok, refused)
    assert all(refused > 0 for _, refused in counts.values()), counts


def test_fuzz_bytes_on_the_publishers_socket():
    """Random bytes from many connections, with and without a valid greeting first: the publisher keeps serving a
    good subscriber and never raises."""
    from realhands.streaming import HandPublisher, HandSubscriber, encode

    rng = np.random.default_rng(23)
    port = _port()
    pub = HandPublisher(f"tcp://127.0.0.1:{port}")
    good = HandSubscriber(f"tcp://127.0.0.1:{port}", topics=("stats",))
    try:
        time.sleep(0.3)
        for k in range(60):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if k % 2:
                        _zmtp_sub_handshake(s)
                    s.sendall(rng.integers(0, 256, int(rng.integers(1, 4096)), dtype=np.uint8).tobytes())
            except OSError:
                pass  # the publisher hung up on it: fine
            pub.service()
        for i in range(5):
            pub.publish(encode("stats", {"publish_ns": 1, "uptime_s": 1.0, "frames": i, "dropped": 0, "fps": 1.0,
                                         "stage_ms": {}, "source": "fuzz"}))
        assert good.recv(1000) is not None
    finally:
        good.close()
        pub.close()


def test_errors_share_one_base():
    for cls in (CameraError, ConfigError, MediaError, ModelFileError, OutputError, RecordingError,
                StreamConfigError):
        assert issubclass(cls, RealHandsError)
    assert os.path.exists(ROOT / "python_backend/realhands/errors.py")

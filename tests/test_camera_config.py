"""The foundations every stage shares: the one camera type (and its stereo pair), the choice lists and what "auto"
means, media files by kind, the stream's protocol rules. Each is checked against numbers worked out by hand."""
import json

import numpy as np
import pytest

from realhands.camera import (
    Camera,
    StereoPair,
    backproject_points,
    calibration_from_json,
    calibration_to_json,
    project_points,
)
from realhands.config import MASK_SOURCES, REGRESSORS, Config, LiveConfig, ReconstructConfig
from realhands.errors import CameraError, ConfigError, MediaError, RealHandsError


def test_camera_from_k_fov_and_text_agree():
    K = np.array([[500.0, 0, 320], [0, 510, 240], [0, 0, 1]])
    cam = Camera.from_K(K, 640, 480)
    assert cam.intrinsics == (500.0, 510.0, 320.0, 240.0) and cam.size == (640, 480)
    np.testing.assert_array_equal(cam.K, K)
    assert Camera.parse("500,510,320,240") == Camera(500, 510, 320, 240)
    fov = Camera.from_fov(640, 480, 90.0)
    assert fov.fx == pytest.approx(320.0) and fov.cx == 320.0 and fov.hfov_deg == pytest.approx(90.0)
    # what callers may pass, all to the same camera; None is the default field of view of the image's size
    for value in (cam, (500, 510, 320, 240), K):
        assert Camera.coerce(value, 640, 480).intrinsics == cam.intrinsics
    assert Camera.coerce(None, 640, 480) == Camera.from_fov(640, 480)
    assert Camera.from_json(json.loads(json.dumps(cam.to_json()))) == cam


@pytest.mark.parametrize("bad", [(0, 500, 320, 240), (float("nan"), 500, 320, 240), (-1, 500, 1, 1),
                                 "500,500,320", "a,b,c,d", np.eye(4), [[500, 3, 320], [0, 500, 240], [0, 0, 1]]])
def test_bad_intrinsics_are_one_clear_error(bad):
    with pytest.raises(CameraError) as exc:
        Camera.parse(bad) if isinstance(bad, str) else Camera.coerce(bad, 640, 480)
    assert isinstance(exc.value, RealHandsError) and isinstance(exc.value, ValueError)


def test_projection_follows_resize_crop_and_warp():
    """A point's pixel moves exactly as the image does: scaled, cropped, warped by a crop affine."""
    cam = Camera(600.0, 580.0, 330.0, 250.0, 640, 480)
    X = np.array([[0.05, -0.02, 0.5], [-0.1, 0.08, 0.9]])
    uv = cam.project(X)
    np.testing.assert_allclose(uv[0], [600 * 0.1 + 330, 580 * -0.04 + 250])  # by hand
    np.testing.assert_allclose(cam.backproject(uv, X[:, 2]), X, atol=1e-12)
    np.testing.assert_allclose(cam.resized(320, 240).project(X), uv / 2)
    np.testing.assert_allclose(cam.cropped(100, 50).project(X), uv - [100, 50])
    A = np.array([[0.5, 0.0, -20.0], [0.0, 0.5, 7.0]])  # a crop: scale then shift
    np.testing.assert_allclose(cam.warped(A).project(X), uv @ A[:, :2].T + A[:, 2])
    with pytest.raises(CameraError, match="rotation"):
        cam.warped(np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]))
    # the batched torch conversions agree with the camera's own
    import torch

    K = cam.K_tensor()[None]
    p = project_points(torch.as_tensor(X)[None], K)[0].numpy()
    np.testing.assert_allclose(p, uv)
    back = backproject_points(torch.as_tensor(uv)[None], torch.as_tensor(X[:, 2])[None], K)[0].numpy()
    np.testing.assert_allclose(back, X, atol=1e-12)


def test_stereo_pair_triangulates_and_round_trips_its_json():
    left = Camera(350.0, 350.0, 320.0, 240.0, 640, 480)
    right = Camera(352.0, 351.0, 318.0, 241.0, 640, 480)
    T = np.eye(4)
    T[0, 3] = -0.063  # the right camera 63 mm along the left one's x
    pair = StereoPair(left, right, T)
    assert pair.baseline == pytest.approx(0.063)
    X = np.array([[0.02, 0.01, 0.4], [-0.05, 0.03, 0.6], [0.0, 0.0, 1.2]])
    np.testing.assert_allclose(pair.triangulate(left.project(X), right.project(pair.to_right(X))), X, atol=1e-9)
    half = pair.resized(320, 240)
    assert half.left.fx == 175.0 and half.right.cx == 159.0 and half.size == (320, 240)
    back = calibration_from_json(json.loads(json.dumps(calibration_to_json(pair))))
    assert isinstance(back, StereoPair) and back.right == right
    np.testing.assert_array_equal(back.T_right_from_left, T)
    mono = calibration_from_json(calibration_to_json(left))
    assert mono == left


def test_choices_are_defined_once_and_auto_means_the_same_everywhere():
    from realhands.cli import build_parser

    # the command line offers exactly the configuration's lists
    p = build_parser()
    for command in (["reconstruct", "x.jpg", "--out", "o.jsonl"], ["run"]):
        args = p.parse_args(command + ["--mask", MASK_SOURCES[-1], "--regressor", REGRESSORS[-1]])
        assert args.mask == MASK_SOURCES[-1] and args.regressor == REGRESSORS[-1]
        with pytest.raises(SystemExit):
            p.parse_args(command + ["--mask", "magic"])
    # the mask policy: HandNet's mask when installed; without it GrabCut only where refinement needs a silhouette
    c = ReconstructConfig()
    assert c.mask_source(handnet_available=True) == "handnet" and c.mask_source(handnet_available=False) == "none"
    assert ReconstructConfig(refine_iterations=3).mask_source(False) == "grabcut"
    assert ReconstructConfig(mask="hsv").mask_source(True) == "hsv"
    # "auto": the hybrid where HandNet's weights are (it wins on real photos, docs/RESULTS.md), else the fit
    assert ReconstructConfig().regressor_used(True) == "handnet" and ReconstructConfig().regressor_used(False) == "fit"
    assert ReconstructConfig(mask="none").wants_handnet() and not ReconstructConfig(regressor="fit",
                                                                                   mask="none").wants_handnet()
    with pytest.raises(ConfigError, match="no HandNet weights"):
        ReconstructConfig(regressor="net").regressor_used(False)
    with pytest.raises(ConfigError, match="refinement needs a mask"):
        ReconstructConfig(mask="none", refine_iterations=2)
    # the live section takes the same choices (and the same rules) with its own defaults
    assert isinstance(LiveConfig(), ReconstructConfig) and LiveConfig().texture_size == 256
    with pytest.raises(ConfigError, match="'auto', 'handnet', 'grabcut', 'hsv' or 'none'"):
        Config.from_dict({"live": {"mask": "magic"}})
    with pytest.raises(ConfigError, match="texture_alpha is no longer a setting.*best views.*remove it"):
        Config.from_dict({"reconstruct": {"texture_alpha": 0.2}})


def test_media_kinds_come_from_one_list(tmp_path):
    """A .m4v is a video for `realhands reconstruct` exactly as for `run --source` (it was read as an image)."""
    from realhands.capture.files import expand_media, media_kind, read_image
    from realhands.config import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    assert media_kind("clip.M4V") == "video" and media_kind("a.tiff") == "image" and media_kind("x.txt") is None
    assert not set(IMAGE_SUFFIXES) & set(VIDEO_SUFFIXES)
    (tmp_path / "d").mkdir()
    for name in ("b.m4v", "a.png", "notes.txt"):
        (tmp_path / "d" / name).write_bytes(b"x")
    assert [(k, p.name) for k, p in expand_media([tmp_path / "d", tmp_path / "c.m4v"])] == \
        [("image", "a.png"), ("video", "b.m4v"), ("video", "c.m4v")]
    with pytest.raises(MediaError, match="no such image"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(MediaError, match="cannot read"):
        read_image(tmp_path / "d" / "a.png")


class _Fusion:
    def __init__(self):
        self.version = 1

    def image(self):
        return np.zeros((8, 8, 3), np.uint8)


def test_stream_protocol_rules_with_a_fake_clock():
    """Rigs before a hand's first frame and again only after shape drift and a minimum interval; new -> tracked ->
    lost; textures at most texture_hz per hand."""
    from realhands.model import HandModel
    from realhands.reconstruct import HandResult
    from realhands.streaming import decode
    from realhands.streaming.protocol import RIG_RESEND_DRIFT, RIG_RESEND_MIN_INTERVAL_S, StreamProtocol

    now = [100.0]
    models = {s: HandModel(side=s, flat_hand_mean=True) for s in ("right", "left")}
    proto = StreamProtocol(models, send_offsets=False, texture_hz=2.0, clock=lambda: now[0])
    m = models["right"]
    v = m().vertices[0].detach().numpy()

    def hand(betas):
        return HandResult("right", 0.9, np.zeros((21, 2)), np.zeros((21, 3)), v,
                          {"global_orient": np.zeros(3), "hand_pose": np.zeros(45), "betas": np.asarray(betas, float),
                           "transl": np.array([0, 0, 0.4])}, 1.0)

    kinds = [[o.kind for o in proto.frame(i, i, [hand(np.zeros(10))])] for i in range(2)]
    assert kinds == [["rig", "frame"], ["frame"]]
    drifted = np.full(10, 2 * RIG_RESEND_DRIFT)
    assert [o.kind for o in proto.frame(2, 2, [hand(drifted)])] == ["frame"]  # drifted, but too soon
    now[0] += RIG_RESEND_MIN_INTERVAL_S + 0.1
    out = proto.frame(3, 3, [hand(drifted)])
    assert [o.kind for o in out] == ["rig", "frame"] and decode(out[0].frames)[1]["rig_version"] == 2
    later = (proto.frame(4, 4, []), proto.frame(5, 5, []))  # the hand left the view
    states = [h["tracking"] for out in later for h in decode(out[-1].frames)[1]["hands"]]
    assert states == ["lost"]  # the hand that left, once
    assert decode(proto.frame(6, 6, [hand(drifted)])[-1].frames)[1]["hands"][0]["tracking"] == "new"
    f = {"right": _Fusion()}
    assert list(proto.take_textures(f, ["right"])) == ["right"]
    f["right"].version = 2
    assert proto.take_textures(f, ["right"]) == {}  # due in 0.5 s
    now[0] += 0.5
    assert list(proto.take_textures(f, ["right"])) == ["right"]


ZED_HD = ("[LEFT_CAM_HD]\nfx=700.1\nfy=700.2\ncx=640.5\ncy=360.5\n\n[RIGHT_CAM_HD]\nfx=699.0\nfy=699.1\ncx=641.0\n"
          "cy=359.0\n\n[STEREO]\nBaseline=63.0\n")


@pytest.mark.parametrize("text, why", [
    (ZED_HD.replace("fx=700.1", "fx=50%"), r"\[LEFT_CAM_HD\] fx is not a number: '50%'"),  # not interpolation
    ("\x7fELF\x02\x01\x00\x00\n[x]\x00\xff\n", "it is binary"),
    ("fx=700\n" + ZED_HD, "line 1 comes before any \\[SECTION\\] header"),
    (ZED_HD.replace("cy=360.5", "cy"), "line 5 is not KEY=VALUE"),
    (ZED_HD.replace("cy=360.5", "cy=360.5\nfx=1"), r"\[LEFT_CAM_HD\] fx appears twice"),
])
def test_a_damaged_zed_calibration_is_one_line_naming_the_file(tmp_path, text, why):
    from realhands.capture.calibration import load_calibration
    from realhands.errors import CalibrationError

    path = tmp_path / "SN1.conf"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CalibrationError, match=why) as err:
        load_calibration(path)
    assert "SN1.conf" in str(err.value) and "\n" not in str(err.value) and "\\x" not in str(err.value)


def test_a_zed_calibration_for_other_views_says_which_it_has(tmp_path):
    """A VGA-only factory file asked for HD views names the mode it has (not "[LEFT_CAM_HD] fx is missing");
    width=None takes a mode the file has (a check before the inputs' size is known)."""
    from realhands.capture.calibration import load_calibration
    from realhands.errors import CalibrationError

    path = tmp_path / "vga.conf"
    path.write_text(ZED_HD.replace("_HD]", "_VGA]").replace("640.5", "336").replace("641.0", "336")
                    .replace("360.5", "188").replace("359.0", "188"))
    with pytest.raises(CalibrationError, match=r"no calibration for HD views \(1280x720\).*it has VGA \(672x376"):
        load_calibration(path, width=1280)
    assert load_calibration(path, width=None).size == (672, 376) == load_calibration(path, width=672).size
    both = tmp_path / "both.conf"
    both.write_text(path.read_text().replace("[STEREO]", ZED_HD.split("[STEREO]")[0] + "[STEREO]"))
    assert load_calibration(both, width=None).size == (1280, 720)  # HD first
    (tmp_path / "none.conf").write_text("[STEREO]\nBaseline=63\n")
    with pytest.raises(CalibrationError, match="no calibration for HD views.*it has none"):
        load_calibration(tmp_path / "none.conf", width=None)

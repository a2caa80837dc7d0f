"""Mesh export round trips, the command line, the config object and the demo job, on real files."""
import json
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from PIL import Image
from scipy.spatial import cKDTree

from realhands.config import Config, ConfigError
from realhands.model.export import export_mesh, split_uv_seams


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "realhands.cli", *args], capture_output=True, text=True,
                          cwd=cwd)


def assert_same_points(a, b, tol=1e-6):
    """Every point of a has one of b within tol, and the other way round."""
    assert cKDTree(b).query(a)[0].max() < tol and cKDTree(a).query(b)[0].max() < tol


@pytest.mark.parametrize("suffix", [".obj", ".glb", ".ply"])
def test_export_round_trip(right_data, tmp_path, suffix):
    tex = tmp_path / "skin.png"
    Image.new("RGB", (64, 64), (200, 150, 120)).save(tex)
    path = export_mesh(tmp_path / f"hand{suffix}", right_data.v_template, right_data.faces, right_data.uv,
                       right_data.faces_uv, texture=tex if suffix != ".ply" else None)
    loaded = trimesh.load(path, force="mesh", process=False)
    assert_same_points(loaded.vertices, right_data.v_template)
    assert len(loaded.faces) == len(right_data.faces)
    if suffix != ".ply":
        uv = loaded.visual.uv
        v, f, t, src = split_uv_seams(right_data.v_template, right_data.faces, right_data.uv, right_data.faces_uv)
        assert uv is not None and uv.shape == t.shape
        np.testing.assert_allclose(np.sort(uv, axis=0), np.sort(t, axis=0), atol=1e-5)
        img = loaded.visual.material.baseColorTexture if suffix == ".glb" else loaded.visual.material.image
        assert img is not None and img.size == (64, 64)
    if suffix == ".obj":
        assert (tmp_path / "hand.mtl").exists()


def test_export_rejects_unknown_format(right_data, tmp_path):
    with pytest.raises(ValueError, match="cannot export"):
        export_mesh(tmp_path / "hand.fbx", right_data.v_template, right_data.faces)


def test_model_info_json_reports_the_figures():
    res = run_cli("model", "info", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["watertight"] and info["manifold"] and info["self_intersections_at_rest"] == 0
    assert 700 <= info["vertices"] <= 3000
    assert 17 <= info["hand_length_cm"] <= 20 and 7.5 <= info["hand_breadth_cm"] <= 9
    assert info["smplx_parity"]["max_vertex_error_m"] < 1e-6
    assert info["smplx_parity"]["max_joint_error_m"] < 1e-6


def test_cli_errors_are_clear(tmp_path):
    res = run_cli("model", "info", "--model", str(tmp_path / "missing"))
    assert res.returncode == 2 and "model path not found" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nsidee = 'right'\n")
    res = run_cli("--config", str(bad), "model", "info")
    assert res.returncode == 2 and "unknown key(s) in [model]" in res.stderr
    res = run_cli("model", "export", str(tmp_path / "x.obj"), "--pose", "moonwalk")
    assert res.returncode != 0 and "unknown pose 'moonwalk'" in res.stderr


def test_cli_export_posed_and_shaped(tmp_path):
    out = tmp_path / "fist.glb"
    res = run_cli("model", "export", str(out), "--pose", "fist", "--betas", "2", "0", "1", "--side", "left")
    assert res.returncode == 0, res.stderr
    mesh = trimesh.load(out, force="mesh")
    mesh.merge_vertices(merge_tex=True, merge_norm=True)  # undo the UV-seam split
    assert mesh.is_watertight
    assert np.ptp(mesh.vertices[:, 0]) < 0.15  # a fist is shorter than a flat 19 cm hand


def test_config_validation(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        Config.from_toml(tmp_path / "none.toml")
    p = tmp_path / "c.toml"
    p.write_text("output_dir = 'x'\n[model]\nside = 'middle'\n")
    with pytest.raises(ConfigError, match="'right' or 'left'"):
        Config.from_toml(p)
    p.write_text("output_dir = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.from_toml(p)
    p.write_text("output_dir = 'o'\n[model]\nside = 'left'\n")
    cfg = Config.from_toml(p)
    assert cfg.model.side == "left" and str(cfg.output_dir) == "o"
    assert cfg.live.regressor == "auto" and cfg.live.mask == "auto"  # HandNet when its weights are installed
    p.write_text("[live]\nregressor = 'handnet-ish'\n")
    with pytest.raises(ConfigError, match=r"\[live\] regressor must be 'auto', 'handnet', 'net' or 'fit'"):
        Config.from_toml(p)
    p.write_text("[reconstruct]\nmask = 'none'\nrefine_iterations = 2\n")  # the same rules in every section
    with pytest.raises(ConfigError, match=r"\[reconstruct\] refinement needs a mask"):
        Config.from_toml(p)
    p.write_text("[live]\nregressor = 'fit'\nmask = 'handnet'\n")
    assert Config.from_toml(p).live.regressor == "fit"
    for bad in ("'a lot'", "true", "nan", "-1", "1e9"):  # HandNet's keypoint weight: a number from 0 to 100
        p.write_text(f"[reconstruct]\nhandnet_weight = {bad}\n")
        with pytest.raises(ConfigError, match=r"\[reconstruct\] handnet_weight must be"):
            Config.from_toml(p)
    p.write_text("[reconstruct]\nhandnet_weight = 1\n")
    assert Config.from_toml(p).reconstruct.handnet_weight == 1


def test_demo_writes_renders_and_meshes(tmp_path):
    res = run_cli("demo", "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    demo = tmp_path / "out" / "demo"
    summary = json.loads((demo / "summary.json").read_text())
    assert len(summary["files"]) >= 2 * 12 * 2 + 2
    img = np.asarray(Image.open(demo / "right_fist.png"))
    assert img.shape == (320, 320, 3) and (img < 250).any(axis=2).mean() > 0.05  # the hand is in the picture
    mesh = trimesh.load(demo / "left_ok.obj", force="mesh")
    assert len(mesh.faces) > 1000
    clip = Image.open(demo / "synthetic_clip.gif")
    assert clip.n_frames == 24 and clip.size == (960, 240)
    lines = (demo / "reconstruction.jsonl").read_text().splitlines()
    assert len(lines) == 24 and sum(bool(json.loads(x)["hands"]) for x in lines) >= 12


def _cli_main(capsys, *args):
    """The command line in this process (fast): (exit code, its error output)."""
    from realhands.cli import main

    capsys.readouterr()
    rc = main([str(a) for a in args])
    return rc, capsys.readouterr().err


def test_model_export_and_convert_replace_nothing_unless_forced(tmp_path, capsys):
    """An existing output (the .glb; an .obj's .mtl) is refused, one line naming it, untouched, until --force; a
    folder as convert's output is one error and leaves no temporary file behind."""
    from realhands.model.io import DEFAULT_MODEL_FILE

    glb = tmp_path / "hand.glb"
    glb.write_bytes(b"my own model")
    rc, err = _cli_main(capsys, "model", "export", glb)
    assert rc == 2 and "hand.glb exists" in err and "--force" in err and err.count("\n") == 1, err
    assert glb.read_bytes() == b"my own model"
    assert _cli_main(capsys, "model", "export", glb, "--force")[0] == 0 and glb.read_bytes()[:4] == b"glTF"
    (tmp_path / "hand.mtl").write_text("my materials")
    rc, err = _cli_main(capsys, "model", "export", tmp_path / "hand.obj")
    assert rc == 2 and "hand.mtl" in err and not (tmp_path / "hand.obj").exists()
    assert (tmp_path / "hand.mtl").read_text() == "my materials"
    out = tmp_path / "out.npz"
    out.write_bytes(b"mine")
    rc, err = _cli_main(capsys, "model", "convert", DEFAULT_MODEL_FILE, out)
    assert rc == 2 and "out.npz exists" in err and out.read_bytes() == b"mine"
    assert _cli_main(capsys, "model", "convert", DEFAULT_MODEL_FILE, out, "--force")[0] == 0
    assert np.load(out)["v_template"].shape[1] == 3
    (tmp_path / "d").mkdir()
    rc, err = _cli_main(capsys, "model", "convert", DEFAULT_MODEL_FILE, tmp_path / "d")
    assert rc == 2 and ".npz" in err and err.count("\n") == 1, err
    rc, err = _cli_main(capsys, "model", "convert", DEFAULT_MODEL_FILE, tmp_path / "e.npz", "--force")
    assert rc == 0
    (tmp_path / "f.npz").mkdir()
    rc, err = _cli_main(capsys, "model", "convert", DEFAULT_MODEL_FILE, tmp_path / "f.npz", "--force")
    assert rc == 2 and "is a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "e.npz", "f.npz", "hand.glb", "hand.mtl", "out.npz"]
    assert not any((tmp_path / "d").iterdir()) and not any((tmp_path / "f.npz").iterdir())


def test_model_export_refuses_bad_betas_and_textures_and_writes_nothing(tmp_path, capsys):
    """NaN/inf betas (an all-NaN mesh before), a texture that is not an image or is a folder: one error line each,
    no traceback, nothing written. An .obj's texture is named after it (not a shared material_0.png)."""
    (tmp_path / "bad.png").write_text("not an image")
    (tmp_path / "folder").mkdir()
    for args, why in [(("--betas", "nan", "inf"), "finite"), (("--betas", "1e300"), "too large"),
                      (("--texture", tmp_path / "bad.png"), "cannot read"),
                      (("--texture", tmp_path / "folder"), "is a folder")]:
        rc, err = _cli_main(capsys, "model", "export", tmp_path / "y.glb", *args)
        assert rc == 2 and why in err and err.count("\n") == 1, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png", "folder"]
    skin = tmp_path / "skin.png"
    Image.new("RGB", (16, 16), (200, 150, 120)).save(skin)
    assert _cli_main(capsys, "model", "export", tmp_path / "a" / "hand.obj", "--texture", skin)[0] == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["hand.mtl", "hand.obj", "hand_texture.png"]
    assert "map_Kd hand_texture.png" in (tmp_path / "a" / "hand.mtl").read_text()
    skin.rename(tmp_path / "skin_texture.png")
    skin = tmp_path / "skin_texture.png"
    rc, err = _cli_main(capsys, "model", "export", tmp_path / "skin.obj", "--texture", skin, "--force")
    assert rc == 2 and "would replace the texture image" in err and not (tmp_path / "skin.obj").exists()
    gltf = tmp_path / "a" / "hand.gltf"  # one self-contained file (no gltf_buffer_0.bin beside it)
    assert _cli_main(capsys, "model", "export", gltf, "--texture", skin)[0] == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["hand.gltf", "hand.mtl", "hand.obj",
                                                                  "hand_texture.png"]
    assert trimesh.load(gltf, force="mesh").visual.material.baseColorTexture.size == (16, 16)

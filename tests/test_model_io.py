"""MANO-format files: safe loading of official-style pickles, refusal of malicious ones, conversion, paths."""
import copy
import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.sparse
import torch

from realhands.model import HandModel, ModelFileError, load_model_file
from realhands.model.io import MODEL_DIR_ENV, read_mano_pickle, resolve_model_path


def _install_fake_chumpy(monkeypatch):
    """A module named chumpy.ch whose Ch pickles its state the way chumpy does (dict with 'x' and caches)."""
    ch_mod = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x, dtype=np.float64)
            self._dirty_vars = set()
            self._itr = None
            self._make_dense = False
            self._depends_on_deps = {}

        def __getstate__(self):
            return copy.copy(self.__dict__)

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    ch_mod.Ch = Ch
    pkg = types.ModuleType("chumpy")
    pkg.ch = ch_mod
    monkeypatch.setitem(sys.modules, "chumpy", pkg)
    monkeypatch.setitem(sys.modules, "chumpy.ch", ch_mod)
    return Ch


def write_official_style_pickle(data, path, Ch, protocol=2):
    """Our model in the layout of the official MANO_RIGHT.pkl: chumpy arrays, a scipy CSC regressor."""
    d = {
        "v_template": Ch(data.v_template), "f": data.faces.astype(np.uint32),
        "J_regressor": scipy.sparse.csc_matrix(data.J_regressor), "weights": Ch(data.weights),
        "posedirs": Ch(data.posedirs), "shapedirs": Ch(data.shapedirs),
        "kintree_table": data.kintree_table, "hands_components": data.hands_components,
        "hands_mean": data.hands_mean, "hands_coeffs": np.zeros((10, 45)), "bs_style": "lbs",
        "bs_type": "lrotmin", "J": Ch(data.J_regressor @ data.v_template),
    }
    with open(path, "wb") as fh:
        pickle.dump(d, fh, protocol=protocol)
    return path


@pytest.mark.parametrize("protocol", [0, 2])
def test_official_style_pickle_loads_without_chumpy(right_data, tmp_path, monkeypatch, protocol):
    Ch = _install_fake_chumpy(monkeypatch)
    path = write_official_style_pickle(right_data, tmp_path / "MANO_RIGHT.pkl", Ch, protocol)
    monkeypatch.delitem(sys.modules, "chumpy")  # loading must not need chumpy at all
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    loaded = load_model_file(path)
    assert loaded.side == "right"
    for name in ("v_template", "weights", "posedirs", "shapedirs", "J_regressor"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(right_data, name))
    a = HandModel(loaded, dtype=torch.float64)(hand_pose=torch.full((1, 45), 0.1, dtype=torch.float64))
    b = HandModel(right_data, dtype=torch.float64)(hand_pose=torch.full((1, 45), 0.1, dtype=torch.float64))
    torch.testing.assert_close(a.vertices, b.vertices)


class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('true')",))


@pytest.mark.parametrize("payload", ["system", "eval", "nested"])
def test_restricted_unpickler_refuses_code(tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = {"system": _Evil(f"touch {marker}"), "eval": _EvilEval(),
            "nested": {"v_template": np.zeros((3, 3)), "f": [_Evil(f"touch {marker}")]}}[payload]
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(ModelFileError, match="refusing to load"):
        read_mano_pickle(path)
    assert not marker.exists()


def test_reconstructor_cannot_build_arbitrary_classes(tmp_path):
    # protocol-0 pickles build objects through copy_reg._reconstructor: only our stand-ins may be built
    raw = b"ccopy_reg\n_reconstructor\n(csubprocess\nPopen\nc__builtin__\nobject\nNtR."
    path = tmp_path / "x.pkl"
    path.write_bytes(raw)
    with pytest.raises(ModelFileError, match="refusing"):
        read_mano_pickle(path)


def test_truncated_and_garbage_files_give_clear_errors(right_data, tmp_path):
    pkl = right_data.save_mano_pickle(tmp_path / "MANO_RIGHT.pkl")
    pkl.write_bytes(pkl.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="not a readable MANO pickle"):
        load_model_file(pkl)
    npz = tmp_path / "model.npz"
    npz.write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError, match="not a readable model .npz"):
        load_model_file(npz)
    with pytest.raises(ModelFileError, match="not found"):
        load_model_file(tmp_path / "missing.pkl")
    with pytest.raises(ModelFileError, match="unknown model file type"):
        (tmp_path / "m.obj").write_text("")
        load_model_file(tmp_path / "m.obj")


def test_missing_field_is_named(right_data, tmp_path):
    d = {"v_template": right_data.v_template, "f": right_data.faces}
    path = tmp_path / "MANO_RIGHT.pkl"
    path.write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(ModelFileError, match="missing or unreadable J_regressor"):
        load_model_file(path)


def test_npz_round_trip_keeps_everything(right_data, tmp_path):
    back = load_model_file(right_data.save_npz(tmp_path / "m.npz"))
    for name in ("v_template", "faces", "uv", "faces_uv", "joint_limits", "pose_library", "tip_vertex_ids"):
        np.testing.assert_array_equal(getattr(back, name), getattr(right_data, name))
    assert list(back.pose_names) == list(right_data.pose_names)


def test_convert_command_writes_clean_npz(right_data, tmp_path, monkeypatch):
    Ch = _install_fake_chumpy(monkeypatch)
    src = write_official_style_pickle(right_data, tmp_path / "MANO_RIGHT.pkl", Ch)
    out = tmp_path / "converted" / "MANO_RIGHT.npz"
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "model", "convert", str(src), str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    with np.load(out, allow_pickle=False) as z:  # no pickled objects inside
        assert z["v_template"].shape == right_data.v_template.shape
    np.testing.assert_array_equal(load_model_file(out).J_regressor, right_data.J_regressor)


def test_model_resolution_order(right_data, tmp_path, monkeypatch):
    monkeypatch.setenv("REALHANDS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    shipped, mirrored = resolve_model_path("right")
    assert shipped.name == "realhands_hand_right.npz" and not mirrored
    assert resolve_model_path("left")[1]  # left comes from mirroring the shipped right model
    default_dir = tmp_path / "home" / "models"
    right_data.save_mano_pickle(default_dir / "MANO_RIGHT.pkl")
    assert resolve_model_path("right") == (default_dir / "MANO_RIGHT.pkl", False)
    env_dir = tmp_path / "env"
    right_data.save_npz(env_dir / "MANO_LEFT.npz")
    monkeypatch.setenv(MODEL_DIR_ENV, str(env_dir))
    assert resolve_model_path("left") == (env_dir / "MANO_LEFT.npz", False)
    assert resolve_model_path("right") == (env_dir / "MANO_LEFT.npz", True)
    explicit = right_data.save_npz(tmp_path / "x" / "mine.npz")
    assert resolve_model_path("right", explicit) == (explicit, False)
    with pytest.raises(ModelFileError, match="model path not found"):
        resolve_model_path("right", tmp_path / "nope")
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(ModelFileError, match="not a folder"):
        resolve_model_path("right")


def test_part_mask_names_the_labelled_vertices_and_none_without_labels(right_data):
    """Our model labels its nails (five plates, a small share of its vertices); a model without part labels
    (official MANO files) or a part it does not have gives no vertices, never an error."""
    import dataclasses

    nails = right_data.part_mask("nail")
    assert nails.shape == (right_data.num_vertices,) and nails.dtype == bool and 0 < nails.sum() < nails.size // 4
    assert (right_data.vertex_parts[nails] == list(right_data.part_names).index("nail")).all()
    assert not right_data.part_mask("tattoo").any()
    bare = dataclasses.replace(right_data, vertex_parts=None, part_names=None)
    assert not bare.part_mask("nail").any() and bare.part_mask("nail").shape == nails.shape

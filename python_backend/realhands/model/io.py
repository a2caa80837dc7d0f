"""MANO-format model files: our ``.npz``, official MANO pickles (read safely, without chumpy), mirroring.

Where a model comes from (first match wins), see :func:`resolve_model_path`:
1. an explicit path (``--model PATH`` on the command line, ``model_path=`` in code): a file, or a folder
   holding ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` (or ``.npz``);
2. the environment variable ``REALHANDS_MODEL_DIR`` (a folder as above);
3. the default folder ``~/.realhands/models`` (``$REALHANDS_HOME/models`` if that is set);
4. our own open hand model shipped inside the package (``realhands/assets/realhands_hand_right.npz``).
A left model is the right model mirrored when no left file is found next to the right one.
"""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..conventions import MANO_TIP_VERTEX_IDS, MODEL_MIRROR, NUM_JOINTS, check_side
from ..errors import ModelFileError

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_MODEL_FILE = ASSET_DIR / "realhands_hand_right.npz"
MODEL_DIR_ENV = "REALHANDS_MODEL_DIR"


@dataclass
class HandModelData:
    """Arrays of a MANO-format hand model (numpy, float64 unless noted). V vertices, F faces, T UV vertices.

    Required (MANO's own fields): ``v_template`` (V,3) m, ``faces`` (F,3) int, ``J_regressor`` (16,V),
    ``weights`` (V,16), ``posedirs`` (V,3,135), ``shapedirs`` (V,3,10), ``kintree_table`` (2,16) int,
    ``hands_components`` (45,45) rows = PCA basis, ``hands_mean`` (45,).
    Optional (ours): ``tip_vertex_ids`` (5,) thumb..pinky, ``uv`` (T,2) with v up, ``faces_uv`` (F,3),
    ``joint_frames`` (16,3,3) anatomical frames (columns: flexion, radial-deviation and distal axes),
    ``joint_limits`` (16,3,2) radians (min, max of flexion, radial deviation, twist),
    ``vertex_parts`` (V,) int region labels, ``pose_library`` (P,45) axis-angle with ``pose_names``,
    ``shape_names`` (10,) what each beta does, ``hands_pca_std`` (45,) spread of each PCA pose coefficient.
    """

    v_template: np.ndarray
    faces: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    posedirs: np.ndarray
    shapedirs: np.ndarray
    kintree_table: np.ndarray
    hands_components: np.ndarray
    hands_mean: np.ndarray
    side: str = "right"
    name: str = "unnamed"
    tip_vertex_ids: np.ndarray = field(default_factory=lambda: np.array(MANO_TIP_VERTEX_IDS))
    uv: np.ndarray | None = None
    faces_uv: np.ndarray | None = None
    joint_frames: np.ndarray | None = None
    joint_limits: np.ndarray | None = None
    vertex_parts: np.ndarray | None = None
    part_names: np.ndarray | None = None
    pose_library: np.ndarray | None = None
    pose_names: np.ndarray | None = None
    shape_names: np.ndarray | None = None
    hands_pca_std: np.ndarray | None = None
    source: str = ""

    REQUIRED = ("v_template", "faces", "J_regressor", "weights", "posedirs", "shapedirs", "kintree_table",
                "hands_components", "hands_mean")

    @property
    def num_vertices(self) -> int:
        return int(self.v_template.shape[0])

    def part_mask(self, name: str) -> np.ndarray:
        """(V,) bool: the vertices labelled as part ``name`` (e.g. "nail"); all False where the model labels no
        such part (official MANO files label none)."""
        if self.vertex_parts is None or self.part_names is None or name not in list(self.part_names):
            return np.zeros(self.num_vertices, bool)
        return np.asarray(self.vertex_parts) == list(self.part_names).index(name)

    @property
    def parents(self) -> list[int]:
        p = [int(x) for x in self.kintree_table[0]]
        p[0] = -1
        return p

    def validate(self) -> HandModelData:
        """Check shapes and index ranges; raise ModelFileError naming the bad field."""
        V = self.v_template.shape[0] if self.v_template.ndim == 2 else -1
        expect = {
            "v_template": (V, 3), "J_regressor": (NUM_JOINTS, V), "weights": (V, NUM_JOINTS),
            "posedirs": (V, 3, (NUM_JOINTS - 1) * 9), "kintree_table": (2, NUM_JOINTS), "hands_mean": (45,),
        }
        for name, shape in expect.items():
            if getattr(self, name).shape != shape:
                raise ModelFileError(f"{self.source or 'model'}: {name} has shape {getattr(self, name).shape}, "
                                     f"expected {shape}")
        if self.shapedirs.ndim != 3 or self.shapedirs.shape[:2] != (V, 3):
            raise ModelFileError(f"{self.source}: shapedirs has shape {self.shapedirs.shape}, expected ({V},3,B)")
        if self.hands_components.ndim != 2 or self.hands_components.shape[1] != 45:
            raise ModelFileError(f"{self.source}: hands_components has shape {self.hands_components.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3 or self.faces.min() < 0 or self.faces.max() >= V:
            raise ModelFileError(f"{self.source}: faces are not (F,3) indices into {V} vertices")
        if self.tip_vertex_ids.shape != (5,) or self.tip_vertex_ids.max() >= V:
            raise ModelFileError(f"{self.source}: tip_vertex_ids must be 5 vertex indices")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.isfinite(value).all():
                raise ModelFileError(f"{self.source or 'model'}: {f.name} holds NaN or infinite values")
        parents = self.parents
        if any(not (0 <= parents[j] < j) for j in range(1, NUM_JOINTS)):
            raise ModelFileError(f"{self.source}: kintree_table is not a tree ordered parent-first")
        check_side(self.side)
        return self

    # ---- saving -------------------------------------------------------------------------------------
    def save_npz(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write the model as a plain ``.npz`` (no pickled objects), whole or not at all; an existing file is
        replaced only with ``overwrite`` (realhands.outputs.write_files: else an OutputError)."""
        from ..outputs import write_files

        arrays = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            arrays[f.name] = np.asarray(value)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return write_files({Path(path): buf.getvalue()}, overwrite)[0]

    def save_mano_pickle(self, path: str | os.PathLike) -> Path:
        """Write the model as a MANO-format pickle of plain numpy arrays (loadable by smplx.MANO)."""
        data = {
            "v_template": self.v_template, "f": self.faces.astype(np.uint32), "J_regressor": self.J_regressor,
            "weights": self.weights, "posedirs": self.posedirs, "shapedirs": self.shapedirs,
            "kintree_table": self.kintree_table.astype(np.int64), "hands_components": self.hands_components,
            "hands_mean": self.hands_mean, "bs_style": "lbs", "bs_type": "lrotmin",
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(data, fh, protocol=2)
        return path


# ---- restricted unpickling of official MANO files -----------------------------------------------------
class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a class or function outside the MANO allow-list."""


class _ChumpyStandIn:
    """Receives the pickled state of a chumpy object; never runs chumpy code."""

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {"state": state}

    def to_numpy(self):
        x = self.state.get("x")
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, _ChumpyStandIn):
            return x.to_numpy()
        return None  # a derived chumpy expression: its value is not stored in the file


#: Largest sparse matrix a model file may hold, in cells (a crafted shape must not allocate terabytes).
MAX_SPARSE_CELLS = 10_000_000


class _SparseStandIn:
    """Receives the pickled state of a scipy.sparse CSC/CSR matrix and densifies it without scipy."""

    kind = "csc"

    def __setstate__(self, state):
        self.state = state

    def to_numpy(self):
        s = self.state
        try:
            shape = tuple(int(x) for x in (s.get("_shape") or s.get("shape")))
            data, indices, indptr = (np.asarray(s[k]) for k in ("data", "indices", "indptr"))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ModelFileError("a sparse matrix in the file is malformed") from None
        major = shape[1] if len(shape) == 2 and self.kind == "csc" else shape[0] if len(shape) == 2 else -1
        if len(shape) != 2 or min(shape) < 0 or shape[0] * shape[1] > MAX_SPARSE_CELLS:
            raise ModelFileError(f"a sparse matrix in the file has an impossible shape {shape} (MANO's largest has "
                                 f"{16 * 778} cells; at most {MAX_SPARSE_CELLS:,} are accepted)")
        minor = shape[0] if self.kind == "csc" else shape[1]
        if (indptr.shape != (major + 1,) or data.ndim != 1 or indices.shape != data.shape
                or not np.issubdtype(indptr.dtype, np.integer) or not np.issubdtype(indices.dtype, np.integer)
                or (len(indptr) and (indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] > len(data)))
                or (len(indices) and (indices.min() < 0 or indices.max() >= minor))):
            raise ModelFileError("a sparse matrix in the file is inconsistent (its index arrays do not fit its shape)")
        dense = np.zeros(shape, dtype=np.float64)
        for m in range(major):
            lo, hi = int(indptr[m]), int(indptr[m + 1])
            if self.kind == "csc":
                dense[indices[lo:hi], m] = data[lo:hi]
            else:
                dense[m, indices[lo:hi]] = data[lo:hi]
        return dense


class _CsrStandIn(_SparseStandIn):
    kind = "csr"


def _safe_reconstructor(cls, base, state):
    """Stand-in for copyreg._reconstructor that only builds our own stand-in classes."""
    if cls not in (_ChumpyStandIn, _SparseStandIn, _CsrStandIn) or base is not object:
        raise RefusedGlobal(f"refusing to reconstruct {cls!r}")
    return object.__new__(cls)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler for MANO files: numpy arrays, chumpy arrays (turned into numpy) and scipy sparse matrices.

    Besides those it admits only object/set/frozenset and codecs.encode (how Python 3 stores bytes). Any other
    global (functions, os.system, builtins.eval, ...) is refused with UnpicklingError, so loading a file never
    executes code from it.
    """

    _NUMPY = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) in self._NUMPY:
            mod = np.core.multiarray if name in ("_reconstruct", "scalar") else np
            return getattr(mod, name)
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            return _safe_reconstructor
        if module in ("__builtin__", "builtins") and name in ("object", "set", "frozenset"):
            return {"object": object, "set": set, "frozenset": frozenset}[name]
        if module == "_codecs" and name == "encode":  # how Python 3 writes bytes in protocol-2 pickles
            return codecs.encode
        if module == "chumpy" or module.startswith("chumpy."):
            return _ChumpyStandIn
        if module.startswith("scipy.sparse") and name in ("csc_matrix", "csr_matrix"):
            return _SparseStandIn if name == "csc_matrix" else _CsrStandIn
        raise RefusedGlobal(
            f"refusing to load '{module}.{name}': a MANO file holds only numpy, chumpy and scipy.sparse data")


def _plain(value):
    if isinstance(value, (_ChumpyStandIn, _SparseStandIn)):
        return value.to_numpy()
    return value


def read_mano_pickle(path: str | os.PathLike) -> dict:
    """Read a MANO-format pickle safely. Returns a dict of numpy arrays / plain values."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {path}: {exc.strerror or exc}") from exc
    try:
        data = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except RefusedGlobal as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    except Exception as exc:  # truncated or not a pickle at all
        raise ModelFileError(f"{path} is not a readable MANO pickle ({type(exc).__name__}: {exc})") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path}: expected a dict of arrays, found {type(data).__name__}")
    try:
        return {k: _plain(v) for k, v in data.items()}
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


def _from_mapping(d: dict, source: str, side: str | None) -> HandModelData:
    alias = {"f": "faces"}
    d = {alias.get(k, k): v for k, v in d.items()}
    missing = [k for k in HandModelData.REQUIRED if d.get(k) is None]
    if missing:
        raise ModelFileError(f"{source} is not a MANO-format model: missing or unreadable {', '.join(missing)}")
    kwargs = {}
    for f in fields(HandModelData):
        if f.name not in d or d[f.name] is None:
            continue
        v = d[f.name]
        try:
            if f.name in ("side", "name", "source"):
                kwargs[f.name] = str(np.asarray(v).item() if isinstance(v, np.ndarray) else v)
            elif f.name in ("faces", "faces_uv", "kintree_table", "tip_vertex_ids", "vertex_parts"):
                kwargs[f.name] = np.asarray(v).astype(np.int64)
            elif f.name in ("pose_names", "shape_names", "part_names"):
                kwargs[f.name] = np.asarray(v).astype(str)
            else:
                kwargs[f.name] = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ModelFileError(f"{source}: {f.name} is not a numeric array ({type(exc).__name__}: {exc})") \
                from None
    kwargs["source"] = source
    if "side" not in kwargs:
        base = os.path.basename(source).upper()
        kwargs["side"] = side or ("left" if "LEFT" in base else "right")
    if "name" not in kwargs:
        kwargs["name"] = os.path.splitext(os.path.basename(source))[0]
    if "hands_pca_std" not in kwargs and d.get("hands_coeffs") is not None:  # official MANO: its training poses
        kwargs["hands_pca_std"] = np.asarray(d["hands_coeffs"], dtype=np.float64).std(0)
    if "tip_vertex_ids" not in kwargs and np.asarray(d["v_template"]).shape[0] == 778:
        kwargs["tip_vertex_ids"] = np.array(MANO_TIP_VERTEX_IDS)
    return HandModelData(**kwargs).validate()


def load_model_file(path: str | os.PathLike, side: str | None = None) -> HandModelData:
    """Load one model file (``.npz`` of ours, or a MANO-format ``.pkl``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: z[k] for k in z.files}
        except Exception as exc:
            raise ModelFileError(f"{path} is not a readable model .npz ({type(exc).__name__}: {exc})") from exc
        return _from_mapping(d, str(path), side)
    if path.suffix == ".pkl":
        return _from_mapping(read_mano_pickle(path), str(path), side)
    raise ModelFileError(f"{path}: unknown model file type (expected .npz or .pkl)")


def mirror_model(model: HandModelData) -> HandModelData:
    """Mirror a hand model across model-space y (right <-> left).

    Vertex positions, shape and pose blend shapes, faces (winding flipped), PCA pose basis, pose library,
    joint frames and limits are all mirrored so that ``mirror(model)(mirror_pose(p))`` = mirror of ``model(p)``.
    """
    M = MODEL_MIRROR
    sign_aa = np.array([-1.0, 1.0, -1.0])  # axis-angle under y-reflection: r -> -M r
    # posedirs: pose feature = (R - I) per joint, R -> M R M flips entries (i,j) by M_ii * M_jj.
    k = np.outer(np.diag(M), np.diag(M)).reshape(9)
    posedirs = (model.posedirs * np.diag(M)[None, :, None]) * np.tile(k, NUM_JOINTS - 1)[None, None, :]
    comps = model.hands_components.reshape(-1, 15, 3) * sign_aa
    kwargs = {
        "v_template": model.v_template @ M,
        "faces": model.faces[:, ::-1].copy(),
        "shapedirs": model.shapedirs * np.diag(M)[None, :, None],
        "posedirs": posedirs,
        "hands_components": comps.reshape(model.hands_components.shape),
        "hands_mean": (model.hands_mean.reshape(15, 3) * sign_aa).reshape(45),
        "side": "left" if model.side == "right" else "right",
        "name": model.name.replace("right", "left") if model.side == "right" else model.name.replace("left", "right"),
        "source": f"mirror of {model.source}",
    }
    if model.faces_uv is not None:
        kwargs["faces_uv"] = model.faces_uv[:, ::-1].copy()
    if model.pose_library is not None:
        kwargs["pose_library"] = (model.pose_library.reshape(-1, 15, 3) * sign_aa).reshape(-1, 45)
    if model.joint_frames is not None:
        # M F is a reflection; flipping the flexion column makes it a proper rotation frame again. In it,
        # flexion keeps its sign and radial deviation and twist change sign (realhands.model.anatomy undoes
        # that, so the same anatomical angles give the mirrored pose on either hand).
        kwargs["joint_frames"] = M @ model.joint_frames @ np.diag([-1.0, 1.0, 1.0])
    return replace(model, **kwargs)


def _candidates(folder: Path, side: str) -> list[Path]:
    stem = f"MANO_{side.upper()}"
    return [folder / f"{stem}.npz", folder / f"{stem}.pkl"]


def default_model_dir() -> Path:
    home = os.environ.get("REALHANDS_HOME")
    return (Path(home) if home else Path.home() / ".realhands") / "models"


def resolve_model_path(side: str = "right", model_path: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Find the model file for ``side``. Returns (path, mirrored): mirrored means the file is the other side's.

    See the module docstring for the search order.
    """
    check_side(side)
    other = "left" if side == "right" else "right"
    folders = []
    if model_path is not None:
        p = Path(model_path).expanduser()
        if p.is_file():
            return p, False
        if not p.exists():
            raise ModelFileError(f"model path not found: {p} (give a MANO_RIGHT.pkl/.npz file or a folder "
                                 f"holding one)")
        folders.append(p)
    else:
        if os.environ.get(MODEL_DIR_ENV):
            env = Path(os.environ[MODEL_DIR_ENV]).expanduser()
            if not env.is_dir():
                raise ModelFileError(f"${MODEL_DIR_ENV} points to {env}, which is not a folder")
            folders.append(env)
        folders.append(default_model_dir())
    for folder in folders:
        for cand in _candidates(folder, side):
            if cand.is_file():
                return cand, False
        for cand in _candidates(folder, other):
            if cand.is_file():
                return cand, True
    if model_path is not None:
        raise ModelFileError(f"no MANO_RIGHT/MANO_LEFT .pkl or .npz in {model_path}")
    if not DEFAULT_MODEL_FILE.is_file():
        raise ModelFileError(f"the shipped hand model {DEFAULT_MODEL_FILE} is missing; rebuild it with "
                             f"`python -m tools.build.hand_model`")
    return DEFAULT_MODEL_FILE, side != "right"


def load_model_data(side: str = "right", model_path: str | os.PathLike | None = None) -> HandModelData:
    """Load the model for ``side`` (mirroring the other side's file when needed)."""
    path, mirrored = resolve_model_path(side, model_path)
    data = load_model_file(path)
    if mirrored or data.side != side:
        data = mirror_model(data)
    return data


def model_fingerprint(model) -> str:
    """Which hand model file something belongs to (a saved personal hand, measured landmark offsets): a short hash
    of a HandModel's (or HandModelData's) rest mesh (vertices and faces), shape basis and UVs, per side (a mirrored
    left model has its own)."""
    data = getattr(model, "data", model)
    h = hashlib.sha1()
    for a in (data.v_template, data.faces, data.shapedirs, data.uv if data.uv is not None else np.zeros(0),
              data.faces_uv if data.faces_uv is not None else np.zeros(0, np.int64)):
        a = np.asarray(a)
        h.update(np.ascontiguousarray(a, np.float32 if a.dtype.kind == "f" else np.int64).tobytes())
    return h.hexdigest()[:16]

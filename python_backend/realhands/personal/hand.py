"""A saved personal hand: what the guided capture measured of one user's hand, for every later session.

A folder holds one hand (one side):

    hand.json       what it is: format, side, the hand model it belongs to, shape (betas), how it was measured,
                    the capture's coverage per region
    hand.npz        the data a session loads: betas (10,) float64, the fused texture's state (colour (S,S,3)
                    float32 albedo sRGB 0-1, best (S,S) float32 view quality, seen (S,S) bool) and vertex_offsets
                    (V,3) float32 metres in rest space when the capture refined the silhouette
    albedo.png      the texture atlas, unseen skin filled from the skin model (texture.skin_fill)
    observed.png    how well each texel was seen (0: filled in)
    hand.glb        the user's hand in its rest pose with that texture, for any 3D tool

Written deterministically (a fixed zip timestamp, sorted keys), so a hand loaded and saved again is byte for byte
the same (with the same versions of zlib, OpenCV and trimesh).
"""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import MAX_TEXTURE_SIZE
from ..conventions import SIDES
from ..errors import OutputError, PersonalHandError
from ..model.io import model_fingerprint

FORMAT = "realhands-personal-hand"
FORMAT_VERSION = 1
NUM_BETAS = 10
FILES = ("hand.json", "hand.npz", "albedo.png", "observed.png", "hand.glb")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: The largest |beta| a personal hand may have. Betas are in standard deviations of the MANO shape space: synthetic
#: training hands are drawn within 2.5 (synth.sampling.sample_betas) and the fit's shape prior holds them near 0;
#: 10 is already far past any human hand (1e4 puts the joints hundreds of metres away).
MAX_ABS_BETA = 10.0
#: The smallest texture side a personal hand may have: a smaller atlas gives each finger a few texels at most, and no
#: capture makes one (the largest is config.MAX_TEXTURE_SIZE, what any atlas may have).
MIN_TEXTURE_SIZE = 16
#: The most vertices a personal hand's vertex offsets may have before the hand model is known (MANO has 778;
#: check_model then asks for the model's exact count): a bound on what hand.npz may make this program allocate.
MAX_VERTICES = 100_000
#: The arrays hand.npz holds (others in it are not read).
_ARRAYS = ("betas", "colour", "best", "seen", "vertex_offsets")


@dataclass
class PersonalHand:
    """One user's hand. ``texture``: the fused texture's state {"colour", "best", "seen"} (see the module)."""

    side: str
    model: str  # model_fingerprint of the hand model it was captured with
    betas: np.ndarray
    texture: dict
    vertex_offsets: np.ndarray | None = None
    info: dict = field(default_factory=dict)  # shape_source ("stereo" | "mono"), frames, coverage, progress

    def __post_init__(self):
        if self.side not in SIDES:
            raise PersonalHandError(f"a personal hand's side is left or right, not {self.side!r}")
        self.betas = np.asarray(self.betas, np.float64).reshape(-1)
        if self.betas.shape != (NUM_BETAS,):
            raise PersonalHandError(f"a personal hand's shape is {NUM_BETAS} betas, got {self.betas.shape[0]}")
        colour = np.asarray(self.texture["colour"], np.float32)
        S = colour.shape[0] if colour.ndim == 3 else -1
        if colour.shape != (S, S, 3) or np.asarray(self.texture["best"]).shape != (S, S) or \
                np.asarray(self.texture["seen"]).shape != (S, S):
            raise PersonalHandError("a personal hand's texture is (S,S,3) colour with (S,S) best and seen, got "
                                    f"{colour.shape}, {np.shape(self.texture['best'])}, "
                                    f"{np.shape(self.texture['seen'])}")
        _check_texture_size(S)
        self.texture = {"colour": colour, "best": np.asarray(self.texture["best"], np.float32),
                        "seen": np.asarray(self.texture["seen"], bool)}
        if self.vertex_offsets is not None:
            self.vertex_offsets = np.asarray(self.vertex_offsets, np.float32)
        for name, a in (("betas", self.betas), ("texture colour", colour), ("texture quality", self.texture["best"]),
                        ("vertex offsets", self.vertex_offsets)):
            if a is not None and not np.isfinite(a).all():
                raise PersonalHandError(f"a personal hand's {name} hold NaN or infinite values")
        if np.abs(self.betas).max() > MAX_ABS_BETA:
            raise PersonalHandError(f"a personal hand's shape (betas) must lie within +-{MAX_ABS_BETA:g} standard "
                                    f"deviations of the hand model's shapes, got {np.abs(self.betas).max():g}: that "
                                    "is no human hand (capture the hand again)")

    @property
    def texture_size(self) -> int:
        return int(self.texture["colour"].shape[0])

    # -- from and to a session -------------------------------------------------------------------------------
    @classmethod
    def from_fusion(cls, side: str, model, betas, fusion, vertex_offsets=None, info: dict | None = None):
        """The hand of ``side`` from a HandModel, its shape and its TextureFusion."""
        return cls(side, model_fingerprint(model.data), betas, fusion.state(), vertex_offsets, dict(info or {}))

    def check_model(self, model) -> None:
        """Refuse a hand captured with another hand model (its texture, offsets and shape would not fit)."""
        if model.data.side != self.side:
            raise PersonalHandError(f"this personal hand is a {self.side} hand; the model given is {model.data.side}")
        if model_fingerprint(model.data) != self.model:
            raise PersonalHandError(f"this personal hand was captured with another hand model ({self.model}, this one "
                                    f"is {model_fingerprint(model.data)}): capture it again with this model "
                                    "(realhands capture-hand), or run with the model it was captured with (--model)")
        if self.vertex_offsets is not None and self.vertex_offsets.shape != (model.data.num_vertices, 3):
            raise PersonalHandError(f"the personal hand's vertex offsets are {self.vertex_offsets.shape}, the model "
                                    f"has {model.data.num_vertices} vertices")

    def fill_fusion(self, fusion) -> None:
        """Start ``fusion`` (a TextureFusion, any atlas size) from this hand's texture: its colours and how well
        each texel was seen (a fusion continued from it keeps what was seen well)."""
        import cv2

        S = fusion.atlas.size
        colour, best, seen = self.texture["colour"], self.texture["best"], self.texture["seen"]
        if self.texture_size != S:
            interp = cv2.INTER_AREA if self.texture_size > S else cv2.INTER_LINEAR
            w = (best * seen).astype(np.float32)
            num = cv2.resize(colour * w[..., None], (S, S), interpolation=interp)
            den = cv2.resize(w, (S, S), interpolation=interp)
            colour = num / np.maximum(den, 1e-9)[..., None]
            # a view's quality is inversely proportional to the texel's size (texture.atlas.normalised_quality)
            best = np.clip(cv2.resize(best * seen, (S, S), interpolation=interp) * self.texture_size / S, 0.0, 1.0)
            seen = den > 1e-6
        fusion.restore(colour, best, seen)

    # -- files ----------------------------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike, model=None, force: bool = False) -> Path:
        """Write the hand to ``folder`` (made if missing). A folder that already holds a hand is replaced only with
        ``force``. ``model`` (the HandModel it was captured with): also write albedo.png, observed.png and
        hand.glb."""
        folder = check_folder(folder, force)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "hand.json").unlink(missing_ok=True)  # replacing: the folder is incomplete until rewritten
            for name in ("albedo.png", "observed.png", "hand.glb"):  # no pictures of the hand that was there before
                if model is None:
                    (folder / name).unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(f"could not write the personal hand to {folder}: {exc}") from None
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "side": self.side, "model": self.model,
                    "betas": [float(b) for b in self.betas], "texture_size": self.texture_size,
                    "vertex_offsets": self.vertex_offsets is not None, "info": self.info}
        arrays = {"betas": self.betas, "colour": self.texture["colour"], "best": self.texture["best"],
                  "seen": self.texture["seen"]}
        if self.vertex_offsets is not None:
            arrays["vertex_offsets"] = self.vertex_offsets
        _write(folder / "hand.npz", _npz_bytes(arrays))
        if model is not None:
            self._write_pictures(folder, model)
        _write(folder / "hand.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())  # last: a
        # folder with hand.json is complete
        return folder

    def _write_pictures(self, folder: Path, model) -> None:
        import cv2
        import torch

        from ..texture import TextureFusion, UVAtlas

        fusion = TextureFusion(UVAtlas.for_model(model.data, self.texture_size))
        self.fill_fusion(fusion)
        for name, img in (("albedo.png", cv2.cvtColor(fusion.image(), cv2.COLOR_RGB2BGR)),
                          ("observed.png", fusion.observed())):
            ok, buf = cv2.imencode(".png", img)
            if not ok:
                raise OutputError(f"could not encode {name}")
            _write(folder / name, buf.tobytes())
        dt = model.v_template.dtype
        offsets = None if self.vertex_offsets is None else torch.as_tensor(self.vertex_offsets, dtype=dt)[None]
        with torch.no_grad():
            out = model(betas=torch.as_tensor(self.betas[: model.num_betas], dtype=dt)[None], vertex_offsets=offsets)
        tmp = folder / ".hand.tmp.glb"
        try:
            fusion.export_glb(tmp, out.vertices[0].numpy(), model.data.faces)
            os.replace(tmp, folder / "hand.glb")
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"could not write {folder / 'hand.glb'}: {exc}") from None

    @classmethod
    def load(cls, folder: str | os.PathLike) -> PersonalHand:
        """Read a hand written by ``save``; a clear PersonalHandError for anything missing or damaged."""
        folder = Path(folder)
        if not folder.is_dir():
            raise PersonalHandError(f"no personal hand at {folder}: not a folder (make one with realhands "
                                    "capture-hand)")
        mpath, npath = folder / "hand.json", folder / "hand.npz"
        if not mpath.is_file():
            raise PersonalHandError(f"{folder} holds no personal hand ({mpath.name} is missing): make one with "
                                    "realhands capture-hand")
        try:
            manifest = json.loads(mpath.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PersonalHandError(f"{mpath} is damaged: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PersonalHandError(f"{mpath} is not a RealHands personal hand")
        if manifest.get("version") != FORMAT_VERSION:
            raise PersonalHandError(f"{mpath} is version {manifest.get('version')!r} of the format; this RealHands "
                                    f"reads version {FORMAT_VERSION}: capture the hand again")
        arrays = _read_npz(npath)
        missing = {"betas", "colour", "best", "seen"} - set(arrays)
        if missing:
            raise PersonalHandError(f"{npath} lacks {sorted(missing)}: capture the hand again")
        try:
            return cls(str(manifest.get("side")), str(manifest.get("model")), arrays["betas"],
                       {k: arrays[k] for k in ("colour", "best", "seen")}, arrays.get("vertex_offsets"),
                       dict(manifest.get("info") or {}))
        except (KeyError, TypeError, ValueError, PersonalHandError) as exc:
            raise PersonalHandError(f"{folder}: {exc}") from None


#: the files a personal hand is written as (hand.json last: a folder with it is complete)
HAND_FILES = ("hand.json", "hand.npz", "albedo.png", "observed.png", "hand.glb")


def check_folder(folder: str | os.PathLike, force: bool = False) -> Path:
    """``folder`` as a Path, if a personal hand may be written there: not a file, not under one, in a folder that
    can be written, and not holding a hand already unless ``force``."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder for the personal hand")
        there = next((p for p in (folder, *folder.parents) if p.exists()), None)  # it, or the nearest one above
        if there is None:
            raise OutputError(f"cannot make the folder {folder} for the personal hand: none of the folders above it "
                              "exists")
        if not there.is_dir():
            raise OutputError(f"cannot make the folder {folder} for the personal hand: {there} is a file")
        if not os.access(there, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write the personal hand to {folder}: {there} is not writable (choose another "
                              "folder)")
        held = (folder / "hand.json").exists()
        mine = [name for name in HAND_FILES if (folder / name).exists()]
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write the personal hand to {folder}: {exc}") from None
    if held and not force:
        raise OutputError(f"{folder} already holds a personal hand: choose another folder, or --force to replace it")
    if mine and not force:  # no hand.json: these are not a hand this program wrote (or one cut off mid-write)
        raise OutputError(f"{folder} already has {', '.join(mine)}, which a personal hand would replace: choose "
                          "another folder, or --force to replace them")
    return folder


def _check_texture_size(size: int) -> None:
    if not MIN_TEXTURE_SIZE <= size <= MAX_TEXTURE_SIZE:
        raise PersonalHandError(f"a personal hand's texture is {MIN_TEXTURE_SIZE} to {MAX_TEXTURE_SIZE} texels a "
                                f"side, got {size}: capture the hand again")


def _check_header(name: str, shape: tuple, dtype: np.dtype) -> None:
    """Refuse an array of hand.npz from its .npy header, before its data is read: a saved hand's arrays are real
    numbers of the shapes ``save`` writes, the texture at most MAX_TEXTURE_SIZE a side."""
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise PersonalHandError(f"its {name} array is of type {dtype}, not numbers")
    if name == "betas":
        ok = len(shape) <= 2 and int(np.prod(shape)) == NUM_BETAS
    elif name == "vertex_offsets":
        ok = len(shape) == 2 and shape[1] == 3 and shape[0] <= MAX_VERTICES
    else:
        ok = len(shape) == (3 if name == "colour" else 2) and shape[0] == shape[1] and shape[2:] in ((), (3,))
        if ok:
            _check_texture_size(shape[0])
    if not ok:
        raise PersonalHandError(f"its {name} array is {shape}, not what a personal hand holds")


def _read_npz(npath: Path) -> dict:
    """hand.npz's arrays, each refused from its header (shape, type) before any of its data is read: a small file
    may claim gigabytes."""
    try:
        zf = zipfile.ZipFile(npath)
    except FileNotFoundError:
        raise PersonalHandError(f"{npath} is missing: capture the hand again") from None
    except zipfile.BadZipFile:
        raise PersonalHandError(f"{npath} is damaged: not an .npz archive (NumPy's zip of arrays): capture the hand "
                                "again") from None
    except OSError as exc:
        raise PersonalHandError(f"{npath} cannot be read: {exc}") from None
    arrays = {}
    with zf:
        try:
            for name in _ARRAYS:
                try:
                    info = zf.getinfo(name + ".npy")
                except KeyError:
                    continue
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"{name}.npy is version {version} of the .npy format, not 1.0 or 2.0")
                    _check_header(name, shape, dtype)
                    if info.file_size < f.tell() + int(np.prod(shape)) * dtype.itemsize:
                        raise ValueError(f"{name}.npy is cut short")
                with zf.open(info) as f:  # (its size now known to be one a hand may have)
                    arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
        except PersonalHandError as exc:
            raise PersonalHandError(f"{npath} is damaged: {exc}") from None
        except (OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zipfile.BadZipFile,
                zlib.error) as exc:
            raise PersonalHandError(f"{npath} is damaged: {exc}") from None
    return arrays


def _npz_bytes(arrays: dict) -> bytes:
    """An .npz (NumPy's format) with a fixed timestamp: the same arrays always give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"could not write {path}: {exc}") from None

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..conventions import SIDES
from ..errors import OutputError, PersonalHandError
from ..model.io import model_fingerprint

FORMAT = "realhands-personal-hand"
FORMAT_VERSION = 1
NUM_BETAS = 10
FILES = ("hand.json", "hand.npz", "albedo.png", "observed.png", "hand.glb")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
        self.texture = {"colour": colour, "best": np.asarray(self.texture["best"], np.float32),
                        "seen": np.asarray(self.texture["seen"], bool)}
        if self.vertex_offsets is not None:
            self.vertex_offsets = np.asarray(self.vertex_offsets, np.float32)
        for name, a in (("betas", self.betas), ("texture colour", colour), ("texture quality", self.texture["best"]),
                        ("vertex offsets", self.vertex_offsets)):
            if a is not None and not np.isfinite(a).all():
                raise PersonalHandError(f"a personal hand's {name} hold NaN or infinite values")

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
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hand.json").unlink(missing_ok=True)  # replacing: the folder is incomplete until it is rewritten
        for name in ("albedo.png", "observed.png", "hand.glb"):  # no pictures of the hand that was there before
            if model is None:
                (folder / name).unlink(missing_ok=True)
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
        try:
            with np.load(npath, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise PersonalHandError(f"{npath} is missing: capture the hand again") from None
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise PersonalHandError(f"{npath} is damaged: {exc}") from None
        missing = {"betas", "colour", "best", "seen"} - set(arrays)
        if missing:
            raise PersonalHandError(f"{npath} lacks {sorted(missing)}: capture the hand again")
        try:
            return cls(str(manifest.get("side")), str(manifest.get("model")), arrays["betas"],
                       {k: arrays[k] for k in ("colour", "best", "seen")}, arrays.get("vertex_offsets"),
                       dict(manifest.get("info") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise PersonalHandError(f"{folder}: {exc}") from None


#: the files a personal hand is written as (hand.json last: a folder with it is complete)
HAND_FILES = ("hand.json", "hand.npz", "albedo.png", "observed.png", "hand.glb")


def check_folder(folder: str | os.PathLike, force: bool = False) -> Path:
    """``folder`` as a Path, if a personal hand may be written there: not a file, and not holding a hand already
    unless ``force``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder for the personal hand")
    if (folder / "hand.json").exists() and not force:
        raise OutputError(f"{folder} already holds a personal hand: choose another folder, or --force to replace it")
    mine = [name for name in HAND_FILES if (folder / name).exists()]
    if mine and not force:  # no hand.json: these are not a hand this program wrote (or one cut off mid-write)
        raise OutputError(f"{folder} already has {', '.join(mine)}, which a personal hand would replace: choose "
                          "another folder, or --force to replace them")
    return folder


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

"""The UV atlas of a hand model and, per texel, the face and barycentric weights it shows.

Our model ships UVs. An official MANO file has none: ``compute_uvs`` makes them once with xatlas and caches
them by the mesh's hash under ``$REALHANDS_CACHE_DIR`` (default ``~/.realhands/cache``). UVs have v up;
atlas images have rows from the top (row = (1 - v) * size), as glTF and the renderer expect.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from ..render.rasterize import rasterize


def rasterize_uv(uv, faces_uv, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which face covers each texel of an S x S atlas (v up, so image rows run from the top), and where:
    face (S,S) long (-1 for none) and barycentric weights (S,S,3)."""
    uv = torch.as_tensor(np.asarray(uv), dtype=torch.float32)
    pts = torch.stack([uv[:, 0] * size, (1.0 - uv[:, 1]) * size, torch.ones(len(uv))], -1)[None]
    K = torch.eye(3)[None]
    frags = rasterize(pts, torch.as_tensor(np.asarray(faces_uv)), K, size, size, near=0.0, cull_backfaces=False)
    return frags.face[0], frags.bary[0]


def cache_dir() -> Path:
    return Path(os.environ.get("REALHANDS_CACHE_DIR", Path.home() / ".realhands" / "cache"))


def compute_uvs(vertices: np.ndarray, faces: np.ndarray, cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """UVs (T,2) (v up) and faces_uv (F,3) for a mesh without them, from xatlas; cached by the mesh's hash."""
    vertices = np.ascontiguousarray(vertices, dtype=np.float32)
    faces = np.ascontiguousarray(faces, dtype=np.uint32)
    key = hashlib.sha1(vertices.tobytes() + faces.tobytes()).hexdigest()[:16]
    path = cache_dir() / f"uv-{key}.npz"
    if cache and path.exists():
        try:
            with np.load(path) as z:
                if z["faces_uv"].shape == faces.shape:
                    return z["uv"], z["faces_uv"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is simply made again
    try:
        import xatlas
    except ImportError as e:
        raise RuntimeError("this hand model has no UVs and the xatlas package, which makes them, is missing: "
                           "pip install xatlas") from e
    _, faces_uv, uv = xatlas.parametrize(vertices, faces)
    uv, faces_uv = uv.astype(np.float32), faces_uv.astype(np.int64)
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, uv=uv, faces_uv=faces_uv)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home only costs the half second of making them again
    return uv, faces_uv


def normals_and_areas(v: torch.Tensor, faces: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """Unit vertex normals (V,3) (area-weighted face normals) and face areas (F,) m^2, from one cross product."""
    tri = v[faces]
    fn = torch.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], dim=-1)
    vn = torch.zeros_like(v).index_add_(0, faces.reshape(-1), fn.repeat_interleave(3, 0))
    return torch.nn.functional.normalize(vn, dim=-1), 0.5 * fn.norm(dim=-1).numpy()


@dataclass
class SkinRegions:
    """Where each atlas texel lies on the hand, from the model's rest pose.

    palmar (S,S) in [0,1]: the palm side (rest normals point to -z there); nail (S,S) in [0,1]: the nail plates
    (the model's "nail" part) — both carried past the charts' borders from the nearest chart texels; normal_z
    (S,S): the rest normal's z (0 outside the charts). The skin model (``skin_fill``) and the guided
    capture's regions (``realhands.personal``) are defined on these."""

    palmar: np.ndarray
    nail: np.ndarray
    normal_z: np.ndarray
    valid: np.ndarray


#: the palm side's weight is sigmoid(-normal_z x this): a soft border along the sides of the hand and fingers
PALMAR_SHARPNESS = 6.0
#: a view's quality for a texel falls with the texel's size (projection.observe's footprint term: image pixels
#: across one texel), so a finer atlas's texels get proportionally lower qualities from the same view; thresholds
#: on quality are stated for an atlas of this size (``normalised_quality``)
REFERENCE_ATLAS = 256


def normalised_quality(quality: np.ndarray, size: int) -> np.ndarray:
    """View qualities of an atlas of ``size`` texels as an atlas of REFERENCE_ATLAS would have them (capped at 1)."""
    return np.clip(np.asarray(quality, np.float32) * max(1.0, size / REFERENCE_ATLAS), 0.0, 1.0)


@dataclass
class UVAtlas:
    """An S x S texture atlas of a mesh with F faces.

    uv (T,2) v up; faces_uv (F,3); texel (N,) flat row-major indices of the texels a face covers; face (N,)
    and bary (N,3): the face each of them shows and where; regions: the texels' places on the hand (SkinRegions,
    for an atlas made from a hand model; None for bare UVs)."""

    size: int
    uv: np.ndarray
    faces_uv: np.ndarray
    texel: torch.Tensor
    face: torch.Tensor
    bary: torch.Tensor
    regions: SkinRegions | None = None

    @classmethod
    def for_model(cls, data, size: int = 512) -> UVAtlas:
        """The atlas of a HandModelData: its own UVs when it has them, else xatlas ones; with its skin regions."""
        if data.uv is not None and data.faces_uv is not None:
            uv, faces_uv = np.asarray(data.uv, np.float32), np.asarray(data.faces_uv)
        else:
            uv, faces_uv = compute_uvs(data.v_template, data.faces)
        atlas = cls.from_uvs(uv, faces_uv, size)
        atlas.regions = atlas._regions(data)
        return atlas

    def _regions(self, data) -> SkinRegions:
        faces = np.asarray(data.faces)
        f = faces[self.face.numpy()]  # (N,3) the texels' 3D vertices
        bary = self.bary.numpy().astype(np.float64)
        vn = normals_and_areas(torch.as_tensor(np.asarray(data.v_template, np.float64)), torch.as_tensor(faces))[0]
        n = (vn.numpy()[f] * bary[..., None]).sum(1)
        nz = n[:, 2] / np.maximum(np.linalg.norm(n, axis=1), 1e-12)
        nail = data.part_mask("nail").astype(np.float64)
        from .fill import push_pull_fill

        maps, valid = [], self.valid
        for values in (1.0 / (1.0 + np.exp(PALMAR_SHARPNESS * nz)), (nail[f] * bary).sum(1), nz):
            m = np.zeros(self.size * self.size, np.float32)
            m[self.texel.numpy()] = values
            maps.append(m.reshape(self.size, self.size))
        # palm side and nails carried past the charts' borders, so the skin model's colours pad the seams
        maps[0], maps[1] = (push_pull_fill(m[..., None], valid)[..., 0] for m in maps[:2])
        return SkinRegions(*maps, valid)

    @classmethod
    def from_uvs(cls, uv: np.ndarray, faces_uv: np.ndarray, size: int = 512) -> UVAtlas:
        face, bary = rasterize_uv(uv, faces_uv, size)
        texel = torch.nonzero(face.reshape(-1) >= 0).squeeze(1)
        return cls(size, uv, faces_uv, texel, face.reshape(-1)[texel], bary.reshape(-1, 3)[texel])

    @property
    def valid(self) -> np.ndarray:
        """(S,S) bool: texels inside some chart."""
        m = np.zeros(self.size * self.size, bool)
        m[self.texel.numpy()] = True
        return m.reshape(self.size, self.size)

    @cached_property
    def face_uv_area(self) -> np.ndarray:
        """(F,) each face's area in the atlas, in texels (fixed: computed once per atlas)."""
        t = np.asarray(self.uv, np.float64)[np.asarray(self.faces_uv)] * self.size
        return 0.5 * np.abs((t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1])
                            - (t[:, 2, 0] - t[:, 0, 0]) * (t[:, 1, 1] - t[:, 0, 1]))

    def texel_points(self, vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
        """(N,3) surface points of the atlas's texels on a mesh (V,3) with faces (F,3)."""
        return (vertices[faces[self.face]] * self.bary[..., None]).sum(1)

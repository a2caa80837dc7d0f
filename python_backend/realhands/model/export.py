"""Mesh export to OBJ and glTF/GLB (through trimesh), with UVs and an optional texture image; written by the
rules of ``realhands.outputs`` (all files checked first, nothing replaced unless asked, each whole or not at
all)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import MediaError, OutputError
from ..outputs import write_files

EXPORT_FORMATS = (".obj", ".glb", ".gltf", ".ply")


def split_uv_seams(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray, faces_uv: np.ndarray):
    """Per-corner UVs -> one UV per vertex, duplicating vertices along seams (what OBJ/glTF viewers need).

    Returns (vertices (N,3), faces (F,3), uv (N,2), source vertex index (N,)).
    """
    corners = np.stack([faces.reshape(-1), faces_uv.reshape(-1)], axis=1)
    pairs, inverse = np.unique(corners, axis=0, return_inverse=True)
    return vertices[pairs[:, 0]], inverse.reshape(-1, 3), uv[pairs[:, 1]], pairs[:, 0]


def to_trimesh(vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray | None = None,
               faces_uv: np.ndarray | None = None, texture=None):
    """Build a trimesh.Trimesh; with UVs it carries a TextureVisuals (and the texture image, if given)."""
    import trimesh
    from PIL import Image

    from ..capture.files import read_image

    vertices = np.asarray(vertices, dtype=np.float64)
    image = None
    if texture is not None:  # read first: a texture that is not an image is an error (MediaError), mesh or not
        if not isinstance(texture, Image.Image) and Path(texture).is_dir():
            raise MediaError(f"the texture {texture} is a folder; give an image file (.png, .jpg)")
        image = texture.convert("RGB") if isinstance(texture, Image.Image) else Image.fromarray(read_image(texture))
    if uv is None or faces_uv is None:
        return trimesh.Trimesh(vertices, faces, process=False)
    v, f, t, _ = split_uv_seams(vertices, np.asarray(faces), np.asarray(uv), np.asarray(faces_uv))
    material = trimesh.visual.material.SimpleMaterial(image=image, diffuse=(220, 170, 145, 255))
    visual = trimesh.visual.TextureVisuals(uv=t, image=image, material=material)
    return trimesh.Trimesh(v, f, visual=visual, process=False)


def export_files(path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray | None = None,
                 faces_uv: np.ndarray | None = None, texture=None) -> dict[Path, bytes]:
    """The files (path -> bytes) ``export_mesh`` writes for ``path``: ``hand.obj`` with ``hand.mtl`` and its
    texture ``hand_texture.png``; a .gltf with its buffers inside; a .glb or .ply alone."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ValueError(f"cannot export {path.name}: use one of {', '.join(EXPORT_FORMATS)}")
    mesh = to_trimesh(vertices, faces, uv, faces_uv, texture)
    if suffix == ".obj":
        from trimesh.exchange.obj import export_obj

        # the material and its texture are named after the mesh (hand_texture.png), not trimesh's material_0.png,
        # which every export into one folder would share
        material = getattr(mesh.visual, "material", None)
        if material is not None:
            material.name = re.sub(r"\s", "_", path.stem) + "_texture"
        text, extra = export_obj(mesh, include_texture=True, return_texture=True, mtl_name=path.stem + ".mtl")
        return {path: text.encode("utf-8"), **{path.with_name(name): data for name, data in extra.items()}}
    if suffix == ".gltf":
        from trimesh.exchange.gltf import export_gltf

        return {path: export_gltf(mesh.scene(), embed_buffers=True)["model.gltf"]}
    return {path: mesh.export(file_type=suffix[1:])}


def export_mesh(path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray | None = None,
                faces_uv: np.ndarray | None = None, texture=None, overwrite: bool = True) -> Path:
    """Write a mesh (metres) to .obj (with .mtl and texture), .glb/.gltf or .ply, chosen by the suffix. Every file
    is made before any is written; with ``overwrite`` False an existing one is refused (OutputError), and the
    texture image given is never replaced by one of them."""
    files = export_files(path, vertices, faces, uv, faces_uv, texture)
    if isinstance(texture, (str, os.PathLike)):
        for p in files:
            if os.path.lexists(p) and os.path.samefile(p, texture):
                raise OutputError(f"{p} would replace the texture image {texture}; choose another name")
    write_files(files, overwrite)
    return Path(path)


def export_posed(path: str | os.PathLike, side: str = "right", model_path=None, pose: str | None = None,
                 betas=None, texture=None, overwrite: bool = True) -> Path:
    """Write our hand model (or a MANO file) posed by a pose of its library (``pose``; default flat) and shaped by
    ``betas`` (at most the model's count, finite) to .obj/.glb/.gltf/.ply, with its UVs and an optional texture
    image (``export_mesh``: nothing replaced unless ``overwrite``)."""
    import torch

    from .hand_model import HandModel

    model = HandModel(side=side, model_path=model_path, flat_hand_mean=True, dtype=torch.float64)
    data = model.data
    hand_pose = np.zeros(45)
    if pose:
        names = [] if data.pose_names is None else list(data.pose_names)
        if pose not in names:
            raise ValueError(f"unknown pose {pose!r}; this model has: {', '.join(names) or 'none'}")
        hand_pose = data.pose_library[names.index(pose)]
    b = torch.zeros(1, model.num_betas, dtype=torch.float64)
    if betas:
        if len(betas) > model.num_betas:
            raise ValueError(f"at most {model.num_betas} betas")
        if not np.isfinite(np.asarray(betas, dtype=np.float64)).all():
            raise ValueError(f"betas must be finite numbers, got {' '.join(map(str, betas))}")
        b[0, :len(betas)] = torch.tensor(list(betas), dtype=torch.float64)
    if texture is not None and (data.uv is None or data.faces_uv is None):
        raise ValueError(f"the hand model {data.source} has no UV map, so a texture cannot be put on it; use the "
                         "shipped hand model (no --model) for a textured mesh")
    with torch.no_grad():
        v = model(hand_pose=torch.as_tensor(hand_pose[None]), betas=b).vertices[0].numpy()
    with np.errstate(over="ignore"):
        if not np.isfinite(v.astype(np.float32)).all():  # (mesh files hold 32-bit floats)
            raise ValueError(f"betas {' '.join(map(str, betas))} are too large: the mesh's coordinates do not fit "
                             "in a mesh file")
    return export_mesh(path, v, data.faces, data.uv, data.faces_uv, texture=texture, overwrite=overwrite)

"""Mesh export to OBJ and glTF/GLB (through trimesh), with UVs and an optional texture image."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

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

    vertices = np.asarray(vertices, dtype=np.float64)
    if uv is None or faces_uv is None:
        return trimesh.Trimesh(vertices, faces, process=False)
    v, f, t, _ = split_uv_seams(vertices, np.asarray(faces), np.asarray(uv), np.asarray(faces_uv))
    image = None
    if texture is not None:
        image = texture if isinstance(texture, Image.Image) else Image.open(texture)
        image = image.convert("RGB")
    material = trimesh.visual.material.SimpleMaterial(image=image, diffuse=(220, 170, 145, 255))
    visual = trimesh.visual.TextureVisuals(uv=t, image=image, material=material)
    return trimesh.Trimesh(v, f, visual=visual, process=False)


def export_mesh(path: str | os.PathLike, vertices: np.ndarray, faces: np.ndarray, uv: np.ndarray | None = None,
                faces_uv: np.ndarray | None = None, texture=None) -> Path:
    """Write a mesh (metres) to .obj (with .mtl and texture), .glb/.gltf or .ply, chosen by the suffix."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_FORMATS:
        raise ValueError(f"cannot export {path.name}: use one of {', '.join(EXPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh = to_trimesh(vertices, faces, uv, faces_uv, texture)
    if path.suffix.lower() == ".obj":
        mesh.export(path, file_type="obj", include_texture=True, mtl_name=path.stem + ".mtl")
    else:
        mesh.export(path)
    return path

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


def export_posed(path: str | os.PathLike, side: str = "right", model_path=None, pose: str | None = None,
                 betas=None, texture=None) -> Path:
    """Write our hand model (or a MANO file) posed by a pose of its library (``pose``; default flat) and shaped by
    ``betas`` (at most the model's count) to .obj/.glb/.gltf/.ply, with its UVs and an optional texture image."""
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
        b[0, :len(betas)] = torch.tensor(list(betas), dtype=torch.float64)
    with torch.no_grad():
        v = model(hand_pose=torch.as_tensor(hand_pose[None]), betas=b).vertices[0].numpy()
    return export_mesh(path, v, data.faces, data.uv, data.faces_uv, texture=texture)

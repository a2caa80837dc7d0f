"""Small CPU software rasteriser for previews: z-buffered, Phong-shaded, optional per-vertex colours.

Meant for docs images, the demo and debugging, not for training (the differentiable renderer lives in
``realhands.render``). Cameras follow OpenCV axes: x right, y down, z forward, metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..camera import Camera

SKIN_RGB = (0.86, 0.66, 0.55)
NAIL_RGB = (0.94, 0.80, 0.77)


def part_colors(data) -> np.ndarray:
    """(V,3) preview colours of a HandModelData's vertices: skin, with nails lighter when the model labels them."""
    colors = np.tile(np.asarray(SKIN_RGB), (data.num_vertices, 1))
    colors[data.part_mask("nail")] = NAIL_RGB
    return colors


@dataclass
class PosedCamera:
    """A realhands.Camera placed in a scene: ``R`` (3,3) and ``t`` (3,) map model coordinates to camera
    coordinates (OpenCV axes)."""

    camera: Camera
    R: np.ndarray
    t: np.ndarray

    @property
    def width(self) -> int:
        return self.camera.width

    @property
    def height(self) -> int:
        return self.camera.height

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N,3) model points -> (N,2) pixels and (N,) depth in metres."""
        pc = points @ self.R.T + self.t
        return self.camera.project(pc, eps=-np.inf), pc[:, 2]


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation (OpenCV axes) of a camera at ``eye`` looking at ``target``."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-8:  # looking along up: pick any perpendicular
        x = np.cross(z, [1.0, 0.0, 0.0] if abs(z[0]) < 0.9 else [0.0, 1.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])  # rows: camera axes in model coordinates
    return R, -R @ eye


def orbit_camera(center, distance, azimuth_deg, elevation_deg, size=(512, 512), fov_deg=30.0,
                 up=(0.0, 0.0, 1.0)) -> PosedCamera:
    """Camera on a sphere around ``center`` (model z is up)."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    direction = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    eye = np.asarray(center, dtype=np.float64) + distance * direction
    R, t = look_at(eye, center, up)
    return PosedCamera(Camera.from_fov(*size, hfov_deg=fov_deg), R, t)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (V,3), unit length."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    return vn / np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)


def render_mesh(vertices: np.ndarray, faces: np.ndarray, camera: PosedCamera,
                colors: np.ndarray | None = None, background=(1.0, 1.0, 1.0),
                light_dir=(-0.3, 0.6, 1.0)) -> np.ndarray:
    """Render a triangle mesh to an (H,W,3) uint8 image.

    vertices: (V,3) metres, model coordinates; faces: (F,3) counter-clockwise seen from outside;
    colors: (V,3) in [0,1] or None for skin colour. ``light_dir`` is in camera coordinates, pointing
    from the light to the scene.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    H, W = camera.height, camera.width
    uv, z = camera.project(vertices)
    normals_cam = vertex_normals(vertices, faces) @ camera.R.T
    if colors is None:
        colors = np.tile(np.asarray(SKIN_RGB), (len(vertices), 1))
    light = -np.asarray(light_dir, dtype=np.float64)
    light /= np.linalg.norm(light)

    depth = np.full((H, W), np.inf)
    image = np.tile(np.asarray(background, dtype=np.float64), (H, W, 1))
    tri_uv, tri_z = uv[faces], z[faces]
    # Back-face culling in screen space: with OpenCV's y-down pixels a front face (counter-clockwise
    # seen from outside) has a negative signed area.
    e1, e2 = tri_uv[:, 1] - tri_uv[:, 0], tri_uv[:, 2] - tri_uv[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = (area < -1e-9) & np.all(tri_z > 1e-4, axis=1)
    for f in np.nonzero(keep)[0]:
        p = tri_uv[f]
        x0, y0 = np.floor(p.min(0)).astype(int)
        x1, y1 = np.ceil(p.max(0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W - 1), min(y1, H - 1)
        if x0 > x1 or y0 > y1:
            continue
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1) + 0.5, np.arange(y0, y1 + 1) + 0.5)
        # Barycentric coordinates of pixel centres.
        d = area[f]
        w1 = ((xs - p[0, 0]) * e2[f, 1] - (ys - p[0, 1]) * e2[f, 0]) / d
        w2 = ((ys - p[0, 1]) * e1[f, 0] - (xs - p[0, 0]) * e1[f, 1]) / d
        w0 = 1.0 - w1 - w2
        inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
        if not inside.any():
            continue
        zz = w0 * tri_z[f, 0] + w1 * tri_z[f, 1] + w2 * tri_z[f, 2]
        sub = depth[y0:y1 + 1, x0:x1 + 1]
        closer = inside & (zz < sub)
        if not closer.any():
            continue
        sub[closer] = zz[closer]
        ids = faces[f]
        bw = np.stack([w0[closer], w1[closer], w2[closer]], axis=1)
        n = bw @ normals_cam[ids]
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        view = -(bw @ (vertices[ids] @ camera.R.T + camera.t))
        view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-12)
        diffuse = np.clip(n @ light, 0.0, 1.0)
        half = light + view
        half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-12)
        spec = np.clip(np.sum(n * half, axis=1), 0.0, 1.0) ** 24
        rim = 0.25 * np.clip(np.sum(n * view, axis=1), 0.0, 1.0)
        col = bw @ colors[ids]
        shade = (0.30 + 0.62 * diffuse + rim)[:, None] * col + 0.12 * spec[:, None]
        image[y0:y1 + 1, x0:x1 + 1][closer] = shade
    return (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def tile_images(images: list[np.ndarray], cols: int) -> np.ndarray:
    """Lay (H,W,3) images of one size out on a grid, row by row."""
    h, w = images[0].shape[:2]
    rows = (len(images) + cols - 1) // cols
    out = np.full((rows * h, cols * w, 3), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    return out

"""One view's contribution to the texture: image colours fetched for the texels that view sees.

A texel counts when its surface point projects inside the image (and inside the hand mask, if given, and the
mesh's own outline), passes a depth test (nothing of the hand in front of it: a z-buffer of the texels' own
points in small cells), and faces the camera at less than a grazing angle. Its weight is the view's quality for
that texel (``fusion`` keeps the best views by it), the product of: the angle (1 facing the camera, 0 at
``min_cos``), the resolution (image pixels across one texel, capped at 1: a far or foreshortened texel is seen
through fewer pixels, so its colour is blurred with its neighbours') and the distance inside the outline's edge.
Vertices are in that camera's coordinates (metres, OpenCV axes); ``camera`` is a realhands.Camera.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..camera import Camera, project_points
from .atlas import UVAtlas, normals_and_areas


@dataclass
class TextureObservation:
    """colour (S,S,3) float32 in [0,1] (the image's sRGB); weight (S,S) float32 in [0,1], 0 where unseen."""

    colour: np.ndarray
    weight: np.ndarray


REMAP_COLUMNS = 1024
#: the depth test's z-buffer cell (image pixels)
DEPTH_CELL_PX = 2


#: a view with a mask weighs its registration to this power: how well the fitted mesh's outline and the mask cover
#: each other (``_registration``, 1 where they agree to a cell), so a frame the fit misplaces cannot outweigh a
#: well-placed one. `tools.bench.texture --kind turn --frames 90 --delight --refine 10`, seen texels after 90 frames:
#: pipeline mono 24.0 -> 25.2 dB, stereo 25.1 -> 25.5, the share seen unchanged (0: off; with the plain IoU as the
#: measure, which a perfect fit does not reach at the outline's cell size: 4 gave 25.4 / 25.4, 8 gave 26.0 / 25.0
#: but 85 % seen instead of 95).
REGISTRATION_POWER = 4.0


def _registration(mesh: np.ndarray, mask: np.ndarray, tolerance_px: int) -> float:
    """How well a mesh's outline (H,W) bool sits on a mask (H,W) bool: the share of each that lies within
    ``tolerance_px`` of the other (the outline is drawn in cells of that size), multiplied; 1 when they agree."""
    k = np.ones((2 * tolerance_px + 1,) * 2, np.uint8)
    near_mask = cv2.dilate(mask.astype(np.uint8), k).astype(bool)
    near_mesh = cv2.dilate(mesh.astype(np.uint8), k).astype(bool)
    return (float((mesh & near_mask).sum()) / max(float(mesh.sum()), 1.0)) * \
        (float((mask & near_mesh).sum()) / max(float(mask.sum()), 1.0))


def observe(atlas: UVAtlas, vertices, faces, camera: Camera, image: np.ndarray, mask: np.ndarray | None = None,
            min_cos: float = 0.3, depth_tolerance: float = 0.003, mask_erode: float = 1.0,
            edge_falloff: float = 4.0, delight: bool = False) -> TextureObservation:
    """What one RGB image (H,W,3) uint8 says about the texture of the mesh vertices (V,3) (metres, this
    camera's coordinates) with faces (F,3). Texels are kept on pixels more than ``mask_erode`` px inside the
    mesh's own outline and inside ``mask`` (H,W) bool when given, with weights ramping up over the next
    ``edge_falloff`` px (colours at the outline mix in background through blur and misalignment). ``delight``:
    the view's shading, fitted as low-order spherical harmonics over the texels' normals, is divided out
    (``lighting.remove_shading``), so the observation carries albedo rather than lit colour."""
    v = torch.as_tensor(np.asarray(vertices), dtype=torch.float32)
    faces = torch.as_tensor(np.asarray(faces), dtype=torch.long)
    K = camera.K_tensor(torch.float32)[None]
    H, W = image.shape[:2]
    S = atlas.size
    colour = np.zeros((S * S, 3), np.float32)
    weight = np.zeros(S * S, np.float32)
    p = atlas.texel_points(v, faces)  # (N,3)
    vn, face_area = normals_and_areas(v, faces)
    n = F.normalize((vn[faces[atlas.face]] * atlas.bary[..., None]).sum(1), dim=-1)
    z = p[:, 2]
    ok = z > 1e-3
    x, y = project_points(p[None], K, eps=1e-3)[0].numpy().T
    ok = ok.numpy() & (x >= 0) & (x <= W - 1) & (y >= 0) & (y <= H - 1)
    surface = np.nonzero(ok)[0]  # every texel in view, whichever way it faces: the depth test's z-buffer
    cos = (-(n * p).sum(1) / p.norm(dim=1).clamp_min(1e-9)).numpy()
    w = np.clip((cos - min_cos) / (1.0 - min_cos), 0.0, 1.0)
    # resolution: image pixels across one texel = focal length x texel size (m) x sqrt(foreshortening) / depth
    texel_m = np.sqrt(face_area / np.maximum(atlas.face_uv_area, 1e-9))[atlas.face.numpy()]
    focal = float(np.sqrt(camera.K[0, 0] * camera.K[1, 1]))
    w = w * np.clip(focal * texel_m * np.sqrt(np.clip(cos, 0.0, 1.0)) / np.maximum(z.numpy(), 1e-3), 0.0, 1.0)
    ok &= w > 0
    if not ok.any():
        return TextureObservation(colour.reshape(S, S, 3), weight.reshape(S, S))
    # depth test in a window around the hand (the whole image is not needed): the nearest surface per cell of
    # DEPTH_CELL_PX pixels, from the candidate texels themselves (a z-buffer of splatted points: a texel is much
    # smaller than a cell, so every cell the surface covers gets points; no triangle rasterisation), each texel
    # allowed the depth its surface spans across a cell at its slant
    zs = z.numpy()
    cand = np.nonzero(ok)[0]
    # the cell: DEPTH_CELL_PX, or larger where the atlas's texels land further apart than that (a close hand, a
    # coarse atlas), so that every cell the surface covers holds a texel
    cell = int(max(DEPTH_CELL_PX, np.ceil(np.percentile(focal * texel_m[cand] / zs[cand], 90))))
    # the window: the hand's texels and a margin of empty cells, so that the outline's distance below is measured
    # to empty cells on every side
    pad = cell * 2 + int(np.ceil(mask_erode + edge_falloff))
    x0, y0 = int(np.floor(x[surface].min())) - pad, int(np.floor(y[surface].min())) - pad
    x1, y1 = int(np.ceil(x[surface].max())) + pad + 1, int(np.ceil(y[surface].max())) + pad + 1
    cw, ch = (x1 - x0) // cell + 1, (y1 - y0) // cell + 1
    key = np.zeros(len(x), np.int64)  # each texel's cell (for the texels in view)
    key[surface] = ((y[surface] - y0) // cell).astype(np.int64) * cw + ((x[surface] - x0) // cell).astype(np.int64)
    zbuf = np.full(ch * cw, np.inf)
    np.minimum.at(zbuf, key[surface], zs[surface])
    c = np.clip(cos[cand], min_cos, 1.0)
    slant = cell * zs[cand] / focal * np.sqrt(1.0 - c * c) / c  # the depth a slanted surface spans in a cell
    ok[cand] &= zs[cand] <= zbuf[key[cand]] + depth_tolerance + slant
    xi = np.round(x - 0.5).astype(np.int64) - x0
    yi = np.round(y - 0.5).astype(np.int64) - y0
    covered = cv2.morphologyEx(np.isfinite(zbuf).reshape(ch, cw).astype(np.uint8), cv2.MORPH_CLOSE,
                               np.ones((3, 3), np.uint8))  # the mesh's outline, pinholes closed
    inside = np.repeat(np.repeat(covered, cell, 0), cell, 1)[: y1 - y0, : x1 - x0].astype(bool)
    # on hand pixels — inside the mesh's own outline and the mask, when there is one — and trusted less near the
    # edge: colours there mix in background through blur, and through the fit's misalignment (without a mask, e.g.
    # the other view of a stereo pair, the mesh's outline is all there is)
    registration = 1.0
    if mask is not None:  # the window may reach past the image: outside it, no hand
        m = np.zeros_like(inside)
        iy0, ix0 = max(0, y0), max(0, x0)
        iy1, ix1 = min(H, y1), min(W, x1)
        m[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = np.asarray(mask, bool)[iy0:iy1, ix0:ix1]
        registration = _registration(inside, m, cell)
        inside &= m
    d = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)[np.clip(yi, 0, y1 - y0 - 1),
                                                                       np.clip(xi, 0, x1 - x0 - 1)]
    ok &= d > mask_erode
    if edge_falloff > 0:
        w = w * np.clip((d - mask_erode) / edge_falloff, 0.0, 1.0)
    w = w * registration ** REGISTRATION_POWER
    idx = np.nonzero(ok)[0]
    # bilinear fetch (pixel centres at +0.5, so the sample point is x - 0.5 in OpenCV's remap convention)
    # as rows of REMAP_COLUMNS points: OpenCV's remap takes maps of fewer than 32767 rows and columns, and a 512^2
    # atlas can see more texels than that
    count = len(idx)
    rows = max(1, -(-count // REMAP_COLUMNS))
    maps = np.zeros((2, rows * REMAP_COLUMNS), np.float32)
    maps[0, :count], maps[1, :count] = x[idx] - 0.5, y[idx] - 0.5
    rgb = cv2.remap(image, maps[0].reshape(rows, -1), maps[1].reshape(rows, -1), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE).reshape(-1, 3)[:count]
    t = atlas.texel.numpy()[idx]
    colour[t] = rgb.astype(np.float32) / 255.0
    if delight:
        from .lighting import remove_shading

        colour[t] = remove_shading(colour[t], n.numpy()[idx], w[idx])
    weight[t] = w[idx]
    return TextureObservation(colour.reshape(S, S, 3), weight.reshape(S, S))


def combine(observations: list[TextureObservation]) -> TextureObservation:
    """Several views of one moment (stereo): weight-averaged colours; weights add up, capped at 1."""
    if len(observations) == 1:
        return observations[0]
    wsum = sum(o.weight for o in observations)
    colour = sum(o.colour * o.weight[..., None] for o in observations) / np.maximum(wsum, 1e-9)[..., None]
    return TextureObservation(colour.astype(np.float32), np.minimum(wsum, 1.0).astype(np.float32))

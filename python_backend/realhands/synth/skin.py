"""Procedural skin textures in the hand model's UV atlas (the synthetic hands' appearance).

The model's rest-pose geometry is baked once into UV space (position, normal, nail label per texel); a skin
texture is then a cheap function of those maps and an appearance sample: skin tone, lighter palms, creases at
finger joints and across the palm, knuckle wrinkles, nails with lunulae, redness and mottling.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..conventions import FINGER_JOINTS
from ..texture.atlas import PALMAR_SHARPNESS, normals_and_areas, rasterize_uv

#: Skin albedos as photographed (sRGB 0-1), lightest to darkest, spanning the ten tones of the Monk Skin Tone
#: scale (Google, 2022). The Monk swatches themselves are annotation references and look grey or yellow when
#: lit; these values are the same range with the saturation of skin in photos.
SKIN_TONES = np.array([
    [245, 205, 185], [236, 188, 160], [224, 172, 140], [210, 152, 120], [190, 132, 100],
    [165, 110, 80], [140, 90, 62], [110, 70, 48], [80, 52, 38], [58, 40, 30],
], dtype=np.float64) / 255.0


@dataclass
class TexelMaps:
    """Rest-pose geometry per texel of the UV atlas (S x S), torch tensors.

    valid (S,S) bool; position (S,S,3) m in model space; normal (S,S,3); nail (S,S) in [0,1]."""

    valid: torch.Tensor
    position: torch.Tensor
    normal: torch.Tensor
    nail: torch.Tensor


def bake_texel_maps(data, size: int = 512) -> TexelMaps:
    """Rasterise the rest mesh in UV space (v up -> image rows from the top)."""
    face, bary = rasterize_uv(data.uv, data.faces_uv, size)
    valid = face >= 0
    f = torch.as_tensor(data.faces)[face.clamp_min(0)]  # (S,S,3) 3D vertex ids of the texel's face
    v = torch.as_tensor(data.v_template, dtype=torch.float32)
    vn = normals_and_areas(v, torch.as_tensor(data.faces))[0]
    position = (v[f] * bary[..., None]).sum(-2)
    normal = F.normalize((vn[f] * bary[..., None]).sum(-2), dim=-1)
    nail = torch.as_tensor(data.part_mask("nail"), dtype=torch.float32)
    nail_map = (nail[f] * bary).sum(-1)
    zero = ~valid
    position[zero], normal[zero], nail_map[zero] = 0, 0, 0
    return TexelMaps(valid, position, normal, nail_map)


@dataclass
class SkinAppearance:
    """What one rendered person looks like (colours sRGB 0-1)."""

    tone: np.ndarray  # (3,) base skin colour
    palm_lift: float  # how much lighter and pinker the palm is (larger for darker skin)
    redness: float  # knuckle and fingertip redness
    crease_depth: float  # darkening of creases
    mottling: float  # low-frequency colour variation
    nail_tint: np.ndarray  # (3,) nail plate colour


def sample_appearance(rng: np.random.Generator) -> SkinAppearance:
    """A skin appearance drawn across the whole tone range (uniform over the ten tones, jittered)."""
    i = rng.uniform(0, len(SKIN_TONES) - 1)
    lo = int(np.floor(i))
    tone = (1 - (i - lo)) * SKIN_TONES[lo] + (i - lo) * SKIN_TONES[min(lo + 1, 9)]
    tone = np.clip(tone * rng.uniform(0.92, 1.05) + rng.normal(0, 0.01, 3), 0.03, 1)
    darkness = 1.0 - tone.mean()
    return SkinAppearance(
        tone=tone, palm_lift=float(np.clip(0.12 + 0.55 * darkness + rng.normal(0, 0.05), 0.05, 0.75)),
        redness=float(rng.uniform(0.02, 0.10)), crease_depth=float(rng.uniform(0.05, 0.15)),
        mottling=float(rng.uniform(0.015, 0.04)),
        nail_tint=np.clip(0.55 * tone + 0.45 * np.array([0.93, 0.78, 0.76]) + rng.normal(0, 0.02, 3), 0, 1))


def _noise(size: int, cells: int, gen: torch.Generator) -> torch.Tensor:
    coarse = torch.rand(1, 1, cells, cells, generator=gen) * 2 - 1
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0, 0]


def _line_darkening(d: torch.Tensor, width: float) -> torch.Tensor:
    return torch.exp(-0.5 * (d / width) ** 2)


def skin_texture(maps: TexelMaps, data, appearance: SkinAppearance, gen: torch.Generator) -> torch.Tensor:
    """(3,S,S) texture in [0,1] for one appearance. ``data`` gives joints and frames for creases."""
    S = maps.valid.shape[0]
    pos, nrm = maps.position, maps.normal
    J = torch.as_tensor(data.J_regressor @ data.v_template, dtype=torch.float32)
    frames = torch.as_tensor(data.joint_frames, dtype=torch.float32) if data.joint_frames is not None else None
    tone = torch.as_tensor(appearance.tone, dtype=torch.float32)
    palm_colour = tone + appearance.palm_lift * (torch.tensor([0.92, 0.74, 0.68]) - tone)
    palmar = torch.sigmoid(-nrm[..., 2] * PALMAR_SHARPNESS)  # rest normal pointing to -z: palm side
    col = tone[None, None] * (1 - palmar[..., None]) + palm_colour[None, None] * palmar[..., None]

    shade = torch.zeros(S, S)
    red = torch.zeros(S, S)
    if frames is not None:
        for joints in FINGER_JOINTS.values():
            for k, j in enumerate(joints):
                distal = frames[j][:, 2]
                s = (pos - J[j]) @ distal
                near = ((pos - J[j]).norm(dim=-1) < 0.02).float()
                # flexion creases on the palm side at each joint, knuckle wrinkles on the back
                for off in ((0.0, 0.0025) if k else (0.004, -0.002)):
                    shade += palmar * near * _line_darkening(s - off, 0.0004)
                for off in (-0.002, 0.0, 0.002):
                    shade += 0.5 * (1 - palmar) * near * _line_darkening(s - off, 0.00035) * (k == 1)
                red += (1 - palmar) * torch.exp(-((pos - J[j]).norm(dim=-1) / 0.008) ** 2) * (k < 2)
        # palm creases: distal and proximal transverse, thenar (curved around the thumb base)
        x, y = pos[..., 0], pos[..., 1]
        palm = palmar * (pos[..., 0] > 0.0) * (pos[..., 0] < J[[1, 4, 7, 10], 0].mean() - 0.004)
        mcp_x = J[[1, 4, 7, 10], 0].mean()
        for d in (x - (mcp_x - 0.012 - 0.12 * (y - J[7, 1])),
                  x - (mcp_x - 0.028 - 0.25 * (y - J[7, 1])),
                  torch.sqrt((x - J[13, 0] + 0.01) ** 2 + (y - J[13, 1] + 0.03) ** 2) - 0.045):
            shade += palm * _line_darkening(d, 0.0005)
    fingertip = torch.zeros(S, S)
    for joints in FINGER_JOINTS.values():
        fingertip += torch.exp(-((pos - J[joints[2]]).norm(dim=-1) / 0.012) ** 2)
    red = red + 0.6 * fingertip
    col = col * (1 - appearance.crease_depth * shade.clamp(0, 1)[..., None])
    col = col + appearance.redness * red.clamp(0, 1)[..., None] * torch.tensor([0.5, -0.25, -0.25])
    mott = appearance.mottling * _noise(S, 24, gen) + 0.5 * appearance.mottling * _noise(S, 96, gen)
    col = col * (1 + mott[..., None] * torch.tensor([1.0, 0.8, 0.7]))
    # nails: tinted plate, whiter lunula near the fold and free edge at the tip
    nail = maps.nail
    nail_col = torch.as_tensor(appearance.nail_tint, dtype=torch.float32)[None, None].expand(S, S, 3).clone()
    if frames is not None:
        for joints in FINGER_JOINTS.values():
            j = joints[2]
            s = (pos - J[j]) @ frames[j][:, 2]
            length = s[(nail > 0.5) & ((pos - J[j]).norm(dim=-1) < 0.03)]
            if len(length) == 0:
                continue
            lo, hi = length.min(), length.max()
            t = ((s - lo) / (hi - lo + 1e-6)).clamp(0, 1)
            near = ((pos - J[j]).norm(dim=-1) < 0.03).float()
            white = near * (torch.exp(-((t - 0.05) / 0.12) ** 2) * 0.25 + torch.sigmoid((t - 0.9) * 40) * 0.35)
            nail_col = nail_col + white[..., None] * (1 - nail_col)
    col = col * (1 - nail[..., None]) + nail_col * nail[..., None]
    col = col.clamp(0, 1).permute(2, 0, 1)
    return dilate(col, maps.valid)


def dilate(texture: torch.Tensor, valid: torch.Tensor, steps: int = 8) -> torch.Tensor:
    """Grow texture colours into empty texels (so bilinear lookups at chart borders stay on skin)."""
    tex, mask = texture.clone(), valid.float()[None]
    for _ in range(steps):
        summed = F.avg_pool2d(tex * mask, 3, 1, 1) * 9
        count = F.avg_pool2d(mask, 3, 1, 1) * 9
        grow = (count > 0) & (mask == 0)
        tex = torch.where(grow, summed / count.clamp_min(1e-6), tex)
        mask = torch.maximum(mask, grow.float())
    return tex

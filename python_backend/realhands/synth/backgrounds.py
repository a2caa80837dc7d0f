"""Backgrounds, skin-coloured distractors and camera effects (motion blur, sensor noise, JPEG).

Images are float tensors (3,H,W) in [0,1]; randomness comes from a numpy Generator.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..config import IMAGE_SUFFIXES
from . import BACKGROUND_STYLES
from .skin import SKIN_TONES


def _colour(rng):
    """A random colour, mostly muted as in real rooms (saturation 0.1-0.8 of a random hue)."""
    c = rng.uniform(0.05, 0.95, 3)
    grey = c.mean()
    return torch.as_tensor(grey + (c - grey) * rng.uniform(0.1, 0.8), dtype=torch.float32)


def value_noise(h: int, w: int, cells: int, rng: np.random.Generator) -> torch.Tensor:
    """(h,w) smooth noise in [-1,1] from a cells x cells grid."""
    g = torch.as_tensor(rng.uniform(-1, 1, (1, 1, cells, max(2, int(cells * w / h)))), dtype=torch.float32)
    return F.interpolate(g, size=(h, w), mode="bicubic", align_corners=False)[0, 0].clamp(-1, 1)


def gradient(h, w, rng):
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    t = ((np.cos(ang) * xx + np.sin(ang) * yy) * 0.5 + 0.5).clamp(0, 1)
    return _colour(rng)[:, None, None] * (1 - t) + _colour(rng)[:, None, None] * t


def noise_texture(h, w, rng):
    base = _colour(rng)[:, None, None]
    n = sum(value_noise(h, w, c, rng) * a for c, a in ((4, 0.25), (16, 0.12), (64, 0.06)))
    tint = torch.as_tensor(rng.uniform(0.6, 1.4, 3), dtype=torch.float32)[:, None, None]
    return (base + n[None] * tint).clamp(0, 1)


def stripes(h, w, rng):
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    ang, period = rng.uniform(0, np.pi), rng.uniform(8, 80)
    t = torch.sin((np.cos(ang) * xx + np.sin(ang) * yy) * 2 * np.pi / period)
    if rng.uniform() < 0.5:  # checkerboard
        t = t * torch.sin((-np.sin(ang) * xx + np.cos(ang) * yy) * 2 * np.pi / period)
    t = (t > 0).float() if rng.uniform() < 0.5 else t * 0.5 + 0.5
    return _colour(rng)[:, None, None] * (1 - t) + _colour(rng)[:, None, None] * t


def shapes(img: torch.Tensor, rng, count: int, colours=None) -> torch.Tensor:
    """Paint ellipses, rectangles and thick lines with soft edges onto img (3,H,W)."""
    _, h, w = img.shape
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        a, b = rng.uniform(0.03, 0.35) * w, rng.uniform(0.03, 0.35) * h
        ang = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
        v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
        kind = rng.choice(3, p=[0.45, 0.45, 0.10])  # ellipse, rectangle, line
        if kind == 0:
            d = torch.sqrt((u / a) ** 2 + (v / b) ** 2) - 1
        elif kind == 1:
            d = torch.maximum(u.abs() / a, v.abs() / b) - 1
        else:
            d = v.abs() / rng.uniform(2, 12) - 1 + 0 * u
        edge = rng.uniform(1, 4) / max(min(a, b), 1.0) if kind < 2 else 0.3
        alpha = torch.sigmoid(-d / edge)[None]
        col = colours(rng) if colours else _colour(rng)
        img = img * (1 - alpha) + col[:, None, None] * alpha
    return img


def skin_colour(rng) -> torch.Tensor:
    i = rng.integers(0, len(SKIN_TONES))
    return torch.as_tensor(np.clip(SKIN_TONES[i] * rng.uniform(0.6, 1.0), 0, 1), dtype=torch.float32)


class BackgroundSource:
    """Random backgrounds, in two styles.

    ``everyday``: smooth gradients with a few soft shapes, defocused (or random crops of the user's photos):
    what a camera focused on a hand sees of a room. ``mixed`` (training): everyday scenes 40% of the time, the
    rest hard cases: colour noise, stripes and checkerboards, dense shapes, and skin-coloured distractor blobs.
    """

    STYLES = BACKGROUND_STYLES

    def __init__(self, folder: str | Path | None = None, style: str = "mixed"):
        if style not in self.STYLES:
            raise ValueError(f"background style {style!r}: use one of {', '.join(self.STYLES)}")
        self.style = style
        self.files = []
        if folder is not None:
            folder = Path(folder)
            if not folder.is_dir():
                raise FileNotFoundError(f"background folder not found: {folder}")
            self.files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")

    def _photo(self, h, w, rng):
        for _ in range(5):  # skip unreadable files (a bad file must not stop a long run)
            path = self.files[rng.integers(len(self.files))]
            try:
                img = Image.open(path).convert("RGB")
            except Exception:
                continue
            scale = max(w / img.width, h / img.height) * rng.uniform(1.0, 1.6)
            img = img.resize((max(w, int(img.width * scale)), max(h, int(img.height * scale))))
            x, y = rng.integers(0, img.width - w + 1), rng.integers(0, img.height - h + 1)
            crop = np.array(img.crop((x, y, x + w, y + h)))
            return torch.as_tensor(crop, dtype=torch.float32).permute(2, 0, 1) / 255
        return None

    def sample(self, h: int, w: int, rng: np.random.Generator) -> torch.Tensor:
        """(3,h,w) in [0,1]."""
        img = None
        if self.files and rng.uniform() < 0.6:
            img = self._photo(h, w, rng)
        if img is None:
            if self.style == "everyday" or rng.uniform() < 0.4:
                img = shapes(gradient(h, w, rng), rng, int(rng.integers(0, 4)))
            else:
                img = (gradient, noise_texture, stripes)[rng.integers(3)](h, w, rng)
                img = shapes(img, rng, int(rng.integers(0, 12)))
                if rng.uniform() < 0.4:  # skin-coloured distractors: faces, other body parts, wood, cardboard
                    img = shapes(img, rng, int(rng.integers(1, 4)), colours=skin_colour)
        # depth of field: the camera focuses on the hand (20-70 cm), the background is further away
        sigma = rng.uniform(1.0, 3.0) if self.style == "everyday" else rng.uniform(0.0, 3.0)
        return gaussian_blur(img, sigma).clamp(0, 1)


def gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (C,H,W) with ``sigma`` pixels (no-op below 0.3)."""
    if sigma < 0.3:
        return img
    r = int(np.ceil(3 * sigma))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k /= k.sum()
    C = img.shape[0]
    out = F.conv2d(F.pad(img[None], (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).expand(C, 1, 1, -1), groups=C)
    return F.conv2d(F.pad(out, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).expand(C, 1, -1, 1), groups=C)[0]


def motion_blur(img: torch.Tensor, length: float, angle: float) -> torch.Tensor:
    """Blur (C,H,W) along a direction with a line kernel of ``length`` pixels."""
    if length < 1.0:
        return img
    k = int(np.ceil(length)) | 1
    yy, xx = torch.meshgrid(torch.arange(k) - k // 2, torch.arange(k) - k // 2, indexing="ij")
    d = (-np.sin(angle) * xx + np.cos(angle) * yy).abs()
    along = (np.cos(angle) * xx + np.sin(angle) * yy).abs()
    kernel = ((d < 0.6) & (along <= length / 2)).float()
    kernel /= kernel.sum()
    C = img.shape[0]
    return F.conv2d(F.pad(img[None], (k // 2,) * 4, mode="replicate"), kernel.expand(C, 1, k, k), groups=C)[0]


def sensor_noise(img: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Shot noise (signal-dependent) plus read noise."""
    read = rng.uniform(0.002, 0.02)
    shot = rng.uniform(0.0, 0.03)
    n = torch.as_tensor(rng.normal(0, 1, img.shape), dtype=torch.float32)
    return (img + n * torch.sqrt(read ** 2 + shot ** 2 * img)).clamp(0, 1)


def jpeg(img: torch.Tensor, quality: int) -> torch.Tensor:
    """Round trip through JPEG at ``quality`` (artefacts as from a real camera pipeline)."""
    arr = (img.permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
    return torch.as_tensor(np.array(Image.open(buf)), dtype=torch.float32).permute(2, 0, 1) / 255

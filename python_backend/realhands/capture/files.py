"""Image and video files: which files are which (the suffixes in realhands.config), and reading them with one clear
error (realhands.errors.MediaError) when they are missing, damaged or not pictures at all.

    for kind, path in expand_media(["photos/", "clip.m4v"]):   # ("image" | "video", Path), folders walked
        ...
    rgb = read_image(path)                                     # (H,W,3) uint8, EXIF orientation applied
    for index, t_s, rgb in iter_video(path): ...               # frames with their time in seconds
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..config import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from ..errors import MediaError

#: Images larger than this many pixels are refused (a decompression bomb, or a mistake).
MAX_IMAGE_PIXELS = 100_000_000


def media_kind(path: str | Path) -> str | None:
    """"image", "video" or None (neither) by the file's suffix."""
    suffix = Path(path).suffix.lower()
    return "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else None


def expand_media(paths) -> list[tuple[str, Path]]:
    """Files and folders -> (kind, path) items in a stable order: folders are walked (images and videos in them,
    sorted); a file is a video by its suffix and otherwise an image. Missing paths are kept, to be reported as
    errors when their turn comes."""
    items = []
    for p in map(Path, paths):
        if p.is_dir():
            items += [(media_kind(f), f) for f in sorted(p.rglob("*")) if media_kind(f) and f.is_file()]
        else:
            items.append(("video" if media_kind(p) == "video" else "image", p))
    return items


def read_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 (H,W,3), turned upright by its EXIF orientation."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"no such image: {path}")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise MediaError(f"{path} is {im.width}x{im.height} pixels, more than the {MAX_IMAGE_PIXELS:,} "
                                 "accepted: scale it down first")
            return _to_rgb8(ImageOps.exif_transpose(im))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        if isinstance(exc, MediaError):
            raise
        raise MediaError(f"cannot read {path} as an image ({exc})") from None


def _to_rgb8(im) -> np.ndarray:
    """RGB uint8 from any PIL image: 16-bit and 32-bit greyscale scaled down (not clipped to white), float images
    taken as 0..1 (or 0..255, or their own maximum), palettes and alpha resolved."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if not np.isfinite(a).all():
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        top = float(a.max()) if a.size else 0.0
        if im.mode == "F":
            full = 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else top
        else:
            full = 65535.0 if im.mode.startswith("I;16") or top <= 65535 else top
        grey = np.clip(a / max(full, 1e-12) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.array(im.convert("RGB"))


#: the frame rates a video file or a recording may state. Outside them (0, NaN, a damaged header's 1e-5) the
#: stated rate is not believed and DEFAULT_FPS stands in: it only paces a replay and times the frames, and a
#: replay paced at 1e-5 fps would wait a day for its next frame.
FPS_RANGE = (0.01, 1000.0)  # (a time-lapse of one frame a minute is real; one a day is not)
DEFAULT_FPS = 30.0


def stated_fps(value) -> float | None:
    """A stated frame rate (number or text) if it is within FPS_RANGE, else None (then DEFAULT_FPS stands in)."""
    try:
        fps = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return fps if FPS_RANGE[0] <= fps <= FPS_RANGE[1] else None


def open_video(path: str | Path):
    """(cv2.VideoCapture, frames per second) of a video file, or MediaError."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"video not found: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise MediaError(f"{path} is not a readable video (OpenCV could not open it)")
    return cap, stated_fps(cap.get(cv2.CAP_PROP_FPS)) or DEFAULT_FPS


def iter_video(path: str | Path) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, time in seconds, RGB uint8 frame) for each frame of a video; MediaError when it holds none."""
    import cv2

    cap, fps = open_video(path)
    i = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            yield i, i / fps, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            i += 1
    finally:
        cap.release()
    if i == 0:
        raise MediaError(f"{path}: no frames could be read (truncated or unsupported video)")

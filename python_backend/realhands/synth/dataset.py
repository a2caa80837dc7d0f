"""Synthetic stereo datasets on disk (sharded), and torch Datasets over them or rendering on the fly.

Format (version 1), one folder::

    meta.json            {"format": "realhands-synth", "version": 1, "count", "shard_size", "seed", "config",
                          "rig": {...}, "model": ...}
    shard_00000.npz      samples [0, shard_size), written atomically (a partial shard never has this name)
    shard_00001.npz      ...

Each shard is a plain ``.npz`` (no pickled objects), N samples:

| key | shape, type | meaning |
| --- | --- | --- |
| rgb_left, rgb_right | (total,) uint8 + ``*_offsets`` (N+1,) int64 | concatenated JPEG files (quality 95) |
| label_left, label_right | same, PNG files | 0 background, 1 hand, 2 forearm |
| vertices | (N,V,3) float16 | mesh, relative to ``root`` (0.1 mm steps within +-0.3 m) |
| root | (N,3) float32 | wrist joint, left-camera coordinates, m |
| joints3d | (N,21,3) float32 | keypoints (MediaPipe order), left camera, m |
| joints2d_left, joints2d_right | (N,21,2) float32 | pixels |
| pose | (N,48) float32 | global orientation (model -> left camera) + absolute hand pose, axis-angle |
| betas, transl | (N,10), (N,3) float32 | shape; translation (m) |
| K_left, K_right | (N,3,3) float32 | intrinsics |
| T_right_from_left | (N,4,4) float32 | extrinsics: left-camera -> right-camera coordinates |
| side | (N,) uint8 | 0 right hand, 1 left hand |
| egocentric | (N,) bool | egocentric or third-person view |

All coordinates use OpenCV camera axes (x right, y down, z forward), metres.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from .errors import DatasetError
from .generate import StereoSample, SynthConfig, SynthGenerator

FORMAT, VERSION = "realhands-synth", 1
#: Per-sample geometry arrays, in the order the format table lists them.
GEOMETRY_KEYS = ("vertices", "joints3d", "joints2d_left", "joints2d_right", "pose", "betas", "transl", "K_left",
                 "K_right", "T_right_from_left")


def _encode(images, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    blobs = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        blobs.append(np.frombuffer(buf.getvalue(), dtype=np.uint8))
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    return np.concatenate(blobs), offsets


def _decode(blob: np.ndarray, offsets: np.ndarray, i: int) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())))


def write_shard(path: Path, samples: list[StereoSample]) -> Path:
    """Write samples to ``path`` atomically (temporary file, then rename)."""
    arrays = {}
    for key, fmt in (("rgb_left", "JPEG"), ("rgb_right", "JPEG"), ("label_left", "PNG"), ("label_right", "PNG")):
        arrays[key], arrays[key + "_offsets"] = _encode([getattr(s, key) for s in samples], fmt)
    root = np.stack([s.joints3d[0] for s in samples]).astype(np.float32)
    arrays["root"] = root
    arrays["vertices"] = np.stack([s.vertices for s in samples]).astype(np.float32) - root[:, None]
    arrays["vertices"] = arrays["vertices"].astype(np.float16)
    for key in GEOMETRY_KEYS[1:]:  # vertices are stored relative to the root, above
        arrays[key] = np.stack([getattr(s, key) for s in samples]).astype(np.float32)
    arrays["side"] = np.array([s.side == "left" for s in samples], dtype=np.uint8)
    arrays["egocentric"] = np.array([s.view == "egocentric" for s in samples], dtype=bool)
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def shard_name(k: int) -> str:
    return f"shard_{k:05d}.npz"


def synthesize(out: str | Path, count: int, seed: int = 0, config: SynthConfig | None = None,
               shard_size: int = 256, model_path=None, device="cpu", progress: bool = True) -> dict:
    """Render ``count`` samples into ``out``; deterministic for a seed, resumable (finished shards are kept).

    Raises DatasetError when ``out`` holds a different dataset.
    """
    out = Path(out)
    config = config or SynthConfig()
    if count < 1 or shard_size < 1:
        raise ValueError("count and shard_size must be positive")
    gen = SynthGenerator(config, seed=seed, model_path=model_path, device=device)
    meta = {"format": FORMAT, "version": VERSION, "count": count, "shard_size": shard_size, "seed": seed,
            "config": asdict(config), "rig": asdict(gen.rig), "model": gen.models["right"].data.name}
    meta_path = out / "meta.json"
    if meta_path.exists():
        old = read_meta(out)
        same = {k: old.get(k) for k in ("seed", "shard_size", "config")} == \
               {k: meta[k] for k in ("seed", "shard_size", "config")}
        if not same:
            raise DatasetError(f"{meta_path} describes another dataset (seed {old.get('seed')}, "
                               f"shard size {old.get('shard_size')}); use an empty folder to make a new one")
    out.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    n_shards = (count + shard_size - 1) // shard_size
    todo = [k for k in range(n_shards) if not (out / shard_name(k)).exists()]
    done_before = n_shards - len(todo)
    bar = tqdm(total=count, desc="synth", unit="sample", disable=not progress,
               initial=min(done_before * shard_size, count))
    for k in todo:
        lo, hi = k * shard_size, min((k + 1) * shard_size, count)
        samples = []
        for i in range(lo, hi):
            samples.append(gen.sample(i))
            bar.update(1)
        write_shard(out / shard_name(k), samples)
    bar.close()
    return {"folder": str(out), "count": count, "shards": n_shards, "resumed_shards": done_before}


def read_meta(root: str | Path) -> dict:
    path = Path(root) / "meta.json"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path} not found: not a RealHands synthetic dataset folder") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise DatasetError(f"{path}: format {meta.get('format')} v{meta.get('version')} is not {FORMAT} v{VERSION}")
    return meta


def _to_tensors(images: dict, geometry: dict, side: str, egocentric: bool) -> dict:
    """The sample dict both datasets return. images: view -> (rgb (H,W,3) uint8, label (H,W) uint8);
    geometry: GEOMETRY_KEYS -> arrays. RGB becomes (3,H,W) float in [0,1], labels long, masks bool (hand)."""
    d = {}
    for view, (rgb, label) in images.items():
        d[f"rgb_{view}"] = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255.0
        d[f"label_{view}"] = torch.from_numpy(label.astype(np.int64))
        d[f"mask_{view}"] = d[f"label_{view}"] == 1
    for key in GEOMETRY_KEYS:
        d[key] = torch.from_numpy(np.asarray(geometry[key], dtype=np.float32))
    d["side"], d["egocentric"] = side, egocentric
    return d


def _sample_dict(z: dict, j: int) -> dict:
    """One sample from loaded shard arrays."""
    images = {view: (_decode(z[f"rgb_{view}"], z[f"rgb_{view}_offsets"], j),
                     _decode(z[f"label_{view}"], z[f"label_{view}_offsets"], j)) for view in ("left", "right")}
    geometry = {k: z[k][j] for k in GEOMETRY_KEYS if k != "vertices"}
    geometry["vertices"] = z["vertices"][j].astype(np.float32) + z["root"][j]
    return _to_tensors(images, geometry, "left" if z["side"][j] else "right", bool(z["egocentric"][j]))


class SynthShardDataset(torch.utils.data.Dataset):
    """Reads a dataset folder written by :func:`synthesize`; keeps the last shard it read in memory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.meta = read_meta(self.root)
        self.count, self.shard_size = int(self.meta["count"]), int(self.meta["shard_size"])
        self._cache = (None, None)

    def __len__(self):
        return self.count

    def _shard(self, k: int) -> dict:
        if self._cache[0] == k:
            return self._cache[1]
        path = self.root / shard_name(k)
        if not path.exists():
            raise DatasetError(f"missing shard {path} (the dataset is incomplete: run `realhands synth` again "
                               f"with the same arguments to finish it)")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k2: z[k2] for k2 in z.files}
        except Exception as exc:
            raise DatasetError(f"corrupt shard {path} ({type(exc).__name__}: {exc}); delete it and run "
                               f"`realhands synth` again with the same arguments to rebuild it") from None
        expected = min(self.shard_size, self.count - k * self.shard_size)
        if len(arrays.get("root", [])) != expected:
            raise DatasetError(f"corrupt shard {path}: {len(arrays.get('root', []))} samples, expected {expected}")
        self._cache = (k, arrays)
        return arrays

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.count:
            raise IndexError(i)
        k, j = divmod(i, self.shard_size)
        z = self._shard(k)
        try:
            return _sample_dict(z, j)
        except Exception as exc:
            raise DatasetError(f"corrupt sample {j} in {self.root / shard_name(k)} ({exc})") from None


class SynthOnTheFlyDataset(torch.utils.data.Dataset):
    """Renders sample i when asked (same generator as :func:`synthesize`), on CPU or on a CUDA device."""

    def __init__(self, length: int, seed: int = 0, config: SynthConfig | None = None, device="cpu",
                 model_path=None):
        self.length = int(length)
        self.gen = SynthGenerator(config, seed=seed, model_path=model_path, device=device)

    def __len__(self):
        return self.length

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        s = self.gen.sample(i)
        images = {view: (getattr(s, f"rgb_{view}"), getattr(s, f"label_{view}")) for view in ("left", "right")}
        return _to_tensors(images, {k: getattr(s, k) for k in GEOMETRY_KEYS}, s.side, s.view == "egocentric")

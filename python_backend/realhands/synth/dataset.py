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
| detected2d_left, detected2d_right | (N,21,2) float32 | optional (`synth --detect`): MediaPipe's keypoints, px |

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

from ..camera import Camera, StereoPair
from ..errors import DatasetError
from ..model import load_model_data
from .generate import StereoSample, SynthConfig, SynthGenerator
from .rig import make_rig

FORMAT, VERSION = "realhands-synth", 1
#: Per-sample geometry arrays, in the order the format table lists them.
GEOMETRY_KEYS = ("vertices", "joints3d", "joints2d_left", "joints2d_right", "pose", "betas", "transl", "K_left",
                 "K_right", "T_right_from_left")
#: Optional per-sample arrays: MediaPipe run on each view (what HandNet sees at run time: its errors and misses).
DETECTION_KEYS = ("detected2d_left", "detected2d_right")


class Detections:
    """MediaPipe on synthetic views, as HandNet's input will come at run time: the keypoints of the detection
    closest to the rendered hand (NaN (21,2) where MediaPipe missed it). One detector per process."""

    def __init__(self):
        from ..perception.mediapipe_hands import HandDetector

        self.detector = HandDetector(static_image_mode=True, max_num_hands=2)

    def __call__(self, rgb: np.ndarray, joints2d: np.ndarray) -> np.ndarray:
        from ..perception.tracking import match_detection

        found = match_detection(self.detector.detect(np.ascontiguousarray(rgb)), joints2d)
        return np.full((21, 2), np.nan, np.float32) if found is None else np.asarray(found.keypoints_2d, np.float32)

    def of(self, s) -> dict:
        """Both views of a StereoSample -> {detected2d_left, detected2d_right}."""
        return {f"detected2d_{v}": self(getattr(s, f"rgb_{v}"), getattr(s, f"joints2d_{v}")) for v in ("left", "right")}


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


def write_shard(path: Path, samples: list[StereoSample], detections: list[dict] | None = None) -> Path:
    """Write samples to ``path`` atomically (temporary file, then rename); ``detections``: per sample
    ``Detections.of`` (optional)."""
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
    if detections is not None:
        for key in DETECTION_KEYS:
            arrays[key] = np.stack([d[key] for d in detections]).astype(np.float32)
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def shard_name(k: int) -> str:
    return f"shard_{k:05d}.npz"


def _render_shards(out: Path, shards: list[int], count: int, shard_size: int, seed: int, config: SynthConfig,
                   model_path, device, progress_queue=None, bar=None, detect: bool = False) -> None:
    """Render and write the given shards (a worker's share of :func:`synthesize`)."""
    gen = SynthGenerator(config, seed=seed, model_path=model_path, device=device)
    detector = Detections() if detect else None
    for k in shards:
        lo, hi = k * shard_size, min((k + 1) * shard_size, count)
        samples, found = [], []
        for i in range(lo, hi):
            samples.append(gen.sample(i))
            if detector is not None:
                found.append(detector.of(samples[-1]))
            if progress_queue is not None:
                progress_queue.put(1)
            if bar is not None:
                bar.update(1)
        write_shard(out / shard_name(k), samples, found if detector is not None else None)


_progress = None  # a worker process's progress queue (set by _init_worker)


def _init_worker(progress) -> None:
    """A render worker: one thread per pool (one process per core), the progress queue by inheritance (no manager
    process), and a watchdog that ends the worker if the main process is killed, instead of rendering on unseen."""
    import threading

    import cv2

    global _progress
    _progress = progress
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    parent = os.getppid()

    def watch():
        while True:
            threading.Event().wait(2.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker(args) -> None:
    *shard_args, detect = args
    _render_shards(*shard_args, progress_queue=_progress, detect=detect)


def synthesize(out: str | Path, count: int, seed: int = 0, config: SynthConfig | None = None,
               shard_size: int = 256, model_path=None, device="cpu", progress: bool = True, jobs: int = 1,
               detect: bool = False) -> dict:
    """Render ``count`` samples into ``out``; deterministic for a seed, resumable (finished shards are kept).
    ``jobs`` > 1 renders shards in that many processes (sample i depends only on (seed, i), so the result is
    the same). ``detect``: also run MediaPipe on both views of every sample (``DETECTION_KEYS``), so that HandNet
    trains on the keypoints it will get at run time.

    Raises DatasetError when ``out`` holds a different dataset.
    """
    out = Path(out)
    config = config or SynthConfig()
    if count < 1 or shard_size < 1 or jobs < 1:
        raise ValueError("count, shard_size and jobs must be positive")
    rig = make_rig(config.rig, config.resolution)
    meta = {"format": FORMAT, "version": VERSION, "count": count, "shard_size": shard_size, "seed": seed,
            "config": asdict(config), "rig": asdict(rig), "model": load_model_data("right", model_path).name,
            "detect": bool(detect)}
    meta_path = out / "meta.json"
    if meta_path.exists():
        old = read_meta(out)
        same = {k: old.get(k, False if k == "detect" else None) for k in ("seed", "shard_size", "config", "detect")} \
            == {k: meta[k] for k in ("seed", "shard_size", "config", "detect")}
        if not same:
            raise DatasetError(f"{meta_path} describes another dataset (seed {old.get('seed')}, "
                               f"shard size {old.get('shard_size')}); use an empty folder to make a new one")
    out.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    n_shards = (count + shard_size - 1) // shard_size
    todo = [k for k in range(n_shards) if not (out / shard_name(k)).exists()]
    done_before = n_shards - len(todo)
    todo_samples = sum(min(shard_size, count - k * shard_size) for k in todo)
    bar = tqdm(total=todo_samples, desc="synth", unit="sample", disable=not progress)
    jobs = min(jobs, max(1, len(todo)))
    if jobs == 1:
        _render_shards(out, todo, count, shard_size, seed, config, model_path, device, bar=bar, detect=detect)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        shares = [todo[r::jobs] for r in range(jobs)]
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(queue,)) as pool:
            result = pool.map_async(_worker, [(out, sh, count, shard_size, seed, config, model_path, device, detect)
                                              for sh in shares])
            done = 0
            while done < todo_samples and not result.ready():
                try:
                    done += queue.get(timeout=0.5)
                    bar.update(1)
                except Exception:  # queue.Empty: poll the pool again
                    pass
            result.get()  # re-raises a worker's error
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


def sample_pair(sample: dict) -> StereoPair:
    """The two views' cameras of a sample dict (``K_left``, ``K_right``, ``T_right_from_left`` tensors)."""
    h, w = sample["rgb_left"].shape[-2:] if sample["rgb_left"].ndim == 3 and sample["rgb_left"].shape[0] == 3 \
        else sample["rgb_left"].shape[:2]
    arr = {k: np.asarray(sample[k], dtype=np.float64) for k in ("K_left", "K_right", "T_right_from_left")}
    return StereoPair(Camera.from_K(arr["K_left"], w, h), Camera.from_K(arr["K_right"], w, h), arr["T_right_from_left"])


def _sample_dict(z: dict, j: int) -> dict:
    """One sample from loaded shard arrays."""
    images = {view: (_decode(z[f"rgb_{view}"], z[f"rgb_{view}_offsets"], j),
                     _decode(z[f"label_{view}"], z[f"label_{view}_offsets"], j)) for view in ("left", "right")}
    geometry = {k: z[k][j] for k in GEOMETRY_KEYS if k != "vertices"}
    geometry["vertices"] = z["vertices"][j].astype(np.float32) + z["root"][j]
    d = _to_tensors(images, geometry, "left" if z["side"][j] else "right", bool(z["egocentric"][j]))
    d.update({k: torch.from_numpy(np.asarray(z[k][j], np.float32)) for k in DETECTION_KEYS if k in z})
    return d


def complete_shards(root: Path, meta: dict) -> list[int]:
    """Indices of the shards of a dataset folder that are written (a partial shard never has its final name)."""
    n = (int(meta["count"]) + int(meta["shard_size"]) - 1) // int(meta["shard_size"])
    return [k for k in range(n) if (root / shard_name(k)).exists()]


def _compact_dict(z: dict, j: int) -> dict:
    """One sample from loaded shard arrays, images as numpy uint8 (see :class:`SynthMemoryDataset`)."""
    d = {}
    for view in ("left", "right"):
        d[f"rgb_{view}"] = _decode(z[f"rgb_{view}"], z[f"rgb_{view}_offsets"], j)
        d[f"mask_{view}"] = _decode(z[f"label_{view}"], z[f"label_{view}_offsets"], j) == 1
    for key in GEOMETRY_KEYS:
        if key != "vertices":
            d[key] = torch.from_numpy(np.asarray(z[key][j], dtype=np.float32))
    d["vertices"] = torch.from_numpy(z["vertices"][j].astype(np.float32) + z["root"][j])
    d["side"], d["egocentric"] = ("left" if z["side"][j] else "right"), bool(z["egocentric"][j])
    d.update({k: torch.from_numpy(np.asarray(z[k][j], np.float32)) for k in DETECTION_KEYS if k in z})
    return d


class SynthShardDataset(torch.utils.data.Dataset):
    """Reads a dataset folder written by :func:`synthesize`; keeps the last shard it read in memory.

    ``partial=True`` uses the shards written so far (a dataset still being rendered, or one stopped early);
    otherwise a missing shard is an error when it is read."""

    def __init__(self, root: str | Path, partial: bool = False):
        self.root = Path(root)
        self.meta = read_meta(self.root)
        self.count, self.shard_size = int(self.meta["count"]), int(self.meta["shard_size"])
        n = (self.count + self.shard_size - 1) // self.shard_size
        self.shards = complete_shards(self.root, self.meta) if partial else list(range(n))
        if partial and not self.shards:
            raise DatasetError(f"{self.root} has no finished shard yet")
        self.sizes = [min(self.shard_size, self.count - k * self.shard_size) for k in self.shards]
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self._cache = (None, None)

    def __len__(self):
        return int(self.starts[-1])

    def locate(self, i: int) -> tuple[int, int]:
        """(shard index, row in the shard) of sample i."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        pos = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.shards[pos], i - int(self.starts[pos])

    def _shard(self, k: int) -> dict:
        if self._cache[0] == k:
            return self._cache[1]
        arrays = self._load_uncached(k)
        self._cache = (k, arrays)
        return arrays

    def _load_uncached(self, k: int) -> dict:
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
        return arrays

    def __getitem__(self, i: int) -> dict:
        k, j = self.locate(i)
        z = self._shard(k)
        try:
            return _sample_dict(z, j)
        except Exception as exc:
            raise DatasetError(f"corrupt sample {j} in {self.root / shard_name(k)} ({exc})") from None


UNPACKED = "realhands-synth-unpacked"


def unpack_dataset(folders, out: str | Path, partial: bool = False, threads: int = 8, progress: bool = True) -> Path:
    """Decode dataset folders into ``out`` as uncompressed arrays (``.npy``, memory-mapped by
    :class:`SynthUnpackedDataset`): fast random access for training, shared by concurrent runs through the page
    cache. About 2.5 MB per 640x480 sample. ``unpacked.json`` is written last; an existing complete copy of the
    same sources is reused."""
    from concurrent.futures import ThreadPoolExecutor

    out = Path(out)
    folders = [str(Path(f).resolve()) for f in ([folders] if isinstance(folders, (str, Path)) else folders)]
    datasets = [SynthShardDataset(f, partial=partial) for f in folders]
    sources = [{"folder": f, "shards": ds.shards} for f, ds in zip(folders, datasets, strict=True)]
    info_path = out / "unpacked.json"
    if info_path.is_file():
        try:
            if json.loads(info_path.read_text()).get("sources") == sources:
                return out
        except json.JSONDecodeError:
            pass
        info_path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    n = sum(len(ds) for ds in datasets)
    first = _compact_dict(datasets[0]._load_uncached(datasets[0].shards[0]), 0)
    h, w = first["rgb_left"].shape[:2]
    mm = {}
    for view in ("left", "right"):
        mm[f"rgb_{view}"] = np.lib.format.open_memmap(out / f"rgb_{view}.npy", "w+", np.uint8, (n, h, w, 3))
        mm[f"mask_{view}"] = np.lib.format.open_memmap(out / f"mask_{view}.npy", "w+", np.bool_, (n, h, w))
    keys = GEOMETRY_KEYS + tuple(k for k in DETECTION_KEYS if k in first)
    geometry = {k: np.zeros((n,) + tuple(first[k].shape), np.float32) for k in keys}
    side, ego = np.zeros(n, np.uint8), np.zeros(n, bool)
    jobs, start = [], 0
    for ds in datasets:
        for k, size in zip(ds.shards, ds.sizes, strict=True):
            jobs.append((ds, k, start))
            start += size
    bar = tqdm(total=n, desc="unpack", unit="sample", disable=not progress)

    def unpack_shard(job):
        ds, k, start = job
        z = ds._load_uncached(k)
        for j in range(len(z["root"])):
            d = _compact_dict(z, j)
            if d["rgb_left"].shape[:2] != (h, w):
                raise DatasetError(f"{ds.root / shard_name(k)}: image size {d['rgb_left'].shape[:2]} differs from "
                                   f"{(h, w)}; unpack datasets of one resolution together")
            for key in mm:
                mm[key][start + j] = d[key]
            for key in keys:
                if key not in d:
                    raise DatasetError(f"{ds.root / shard_name(k)} has no MediaPipe detections ({key}) but another "
                                       "source has: unpack datasets made alike (`realhands synth --detect`) together")
                geometry[key][start + j] = d[key].numpy()
            side[start + j], ego[start + j] = d["side"] == "left", d["egocentric"]
            bar.update(1)

    with ThreadPoolExecutor(max(1, threads)) as pool:  # PIL decodes without holding the GIL
        list(pool.map(unpack_shard, jobs))
    bar.close()
    for a in mm.values():
        a.flush()
    np.savez(out / "geometry.npz", side=side, egocentric=ego, **geometry)
    tmp = out / "unpacked.json.partial"
    tmp.write_text(json.dumps({"format": UNPACKED, "count": n, "height": h, "width": w, "sources": sources}, indent=1))
    os.replace(tmp, info_path)
    return out


class SynthUnpackedDataset(torch.utils.data.Dataset):
    """A folder written by :func:`unpack_dataset`, memory-mapped. Items are compact: ``rgb_left``/``rgb_right``
    (H,W,3) uint8 and ``mask_left``/``mask_right`` (H,W) bool numpy arrays (what
    :func:`realhands.net.data.make_sample` reads); geometry tensors as in :class:`SynthShardDataset`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        try:
            info = json.loads((self.root / "unpacked.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            raise DatasetError(f"{self.root} is not a finished unpacked dataset (no valid unpacked.json); "
                               f"unpack it again") from None
        self.count = int(info["count"])
        self.images = {f"{kind}_{view}": np.load(self.root / f"{kind}_{view}.npy", mmap_mode="r")
                       for kind in ("rgb", "mask") for view in ("left", "right")}
        with np.load(self.root / "geometry.npz") as z:
            self.geometry = {k: z[k] for k in z.files}

    def __len__(self):
        return self.count

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.count:
            raise IndexError(i)
        d = {k: v[i] for k, v in self.images.items()}
        d.update({k: torch.from_numpy(self.geometry[k][i].copy()) for k in GEOMETRY_KEYS + DETECTION_KEYS
                  if k in self.geometry})
        d["side"] = "left" if self.geometry["side"][i] else "right"
        d["egocentric"] = bool(self.geometry["egocentric"][i])
        return d


class SynthOnTheFlyDataset(torch.utils.data.Dataset):
    """Renders sample i when asked (same generator as :func:`synthesize`), on CPU or on a CUDA device."""

    def __init__(self, length: int, seed: int = 0, config: SynthConfig | None = None, device="cpu",
                 model_path=None, detect: bool = False):
        self.length = int(length)
        self.gen = SynthGenerator(config, seed=seed, model_path=model_path, device=device)
        self.detect, self._detector = detect, None  # the detector is made in the process that uses it

    def __len__(self):
        return self.length

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        s = self.gen.sample(i)
        images = {view: (getattr(s, f"rgb_{view}"), getattr(s, f"label_{view}")) for view in ("left", "right")}
        d = _to_tensors(images, {k: getattr(s, k) for k in GEOMETRY_KEYS}, s.side, s.view == "egocentric")
        if self.detect:
            if self._detector is None:
                self._detector = Detections()
            d.update({k: torch.from_numpy(v) for k, v in self._detector.of(s).items()})
        return d

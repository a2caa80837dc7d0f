"""How sure HandNet is, per joint: a small head on the network's pooled features.

HandNet's ONNX model already returns its 512-d pooled ``features`` (the regressor's input). The head maps them to
the expected error of each of HandNet's 21 keypoints, as a standard deviation in millimetres: the spread of the
keypoint's 3D error after HandNet's wrist-relative hand is turned onto the truth, exactly as the fit compares them
(:func:`aligned_errors`; the wrist's own error is 0 there, so its sigma is not used). Trained by
``python -m tools.build.uncertainty_head`` with the Gaussian negative log-likelihood of those errors (3-D
isotropic), on synthetic renders that HandNet was not trained on, with MediaPipe's own detections making the crops
and heatmaps, exactly as at run time.

The hybrid fit uses it (``FitWeights.handnet_3d``): HandNet's keypoints become a 3D term beside MediaPipe's world
landmarks, each keypoint weighted by (``HANDNET_REFERENCE_SIGMA_MM`` / its sigma)^2, so a joint HandNet is sure of pulls
as hard as a world landmark and one it is unsure of hardly at all.

The head belongs to one network: its file (``<model>_uncertainty.npz`` beside the ONNX) records the ONNX file's
SHA-256 and loads only with that file (another network's features mean something else).
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ModelFileError

#: the pooled feature size of HandNet's regressor input, the hidden width of the head
FEATURES, HIDDEN = 512, 128
#: keypoints
JOINTS = 21
#: the predicted sigma is clamped to this range (mm): below, no 3D estimate from one crop is that sure; above, the
#: keypoint carries no information the fit could use
SIGMA_RANGE_MM = (2.0, 200.0)
#: the file's format version
VERSION = 1


class UncertaintyHead(nn.Module):
    """features (B,512) -> log sigma (B,21), sigma in mm: the expected 3D error of each of HandNet's keypoints after
    rotational alignment (a Gaussian's standard deviation per axis)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, JOINTS))
        self.register_buffer("mean", torch.zeros(FEATURES))
        self.register_buffer("std", torch.ones(FEATURES))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        lo, hi = (float(np.log(v)) for v in SIGMA_RANGE_MM)
        return self.net((features - self.mean) / self.std).clamp(lo, hi)


def nll(log_sigma: torch.Tensor, errors: torch.Tensor) -> torch.Tensor:
    """The mean Gaussian negative log-likelihood (constants dropped) of 3D errors (B,21,3) mm under an isotropic
    sigma per keypoint (log sigma (B,21))."""
    return (3.0 * log_sigma + 0.5 * (errors ** 2).sum(-1) * torch.exp(-2.0 * log_sigma)).mean()


def train_head(features: np.ndarray, errors: np.ndarray, train: np.ndarray, val: np.ndarray, epochs: int = 300,
               seed: int = 0, progress: bool = False) -> tuple[UncertaintyHead, float]:
    """Fit a head to features (N,512) and aligned errors (N,21,3) mm by the NLL (AdamW, batches of 256), starting
    from each keypoint's RMS error over ``train`` (indices); returns the epoch's weights that did best on ``val``
    and that NLL."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    head = UncertaintyHead()
    X = torch.as_tensor(features, dtype=torch.float32)
    E = torch.as_tensor(errors, dtype=torch.float32)
    head.mean.copy_(X[train].mean(0))
    head.std.copy_(X[train].std(0).clamp_min(1e-3))
    with torch.no_grad():  # start at each keypoint's RMS error per axis over the training crops
        rms = E[train].norm(dim=-1).pow(2).mean(0).div(3).sqrt()
        head.net[2].bias.copy_(torch.log(rms.clamp(*SIGMA_RANGE_MM)))  # (the wrist's error is 0: the lower bound)
        head.net[2].weight.mul_(0.1)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-2)
    best, best_state = float("inf"), None
    bar = tqdm(range(epochs), desc="epochs", unit="epoch", disable=not progress)
    for _ in bar:
        head.train()
        for idx in torch.as_tensor(rng.permutation(train)).split(256):
            loss = nll(head(X[idx]), E[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.eval()
        with torch.no_grad():
            v = float(nll(head(X[val]), E[val]))
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in head.state_dict().items()}
        bar.set_postfix(val_nll=f"{v:.3f}", refresh=False)
    if best_state is None:
        raise ValueError("the uncertainty head's validation loss was never finite: check the errors and features")
    head.load_state_dict(best_state)
    return head.eval(), best


def aligned_errors(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N,21,3) per-keypoint 3D errors (the input's unit) exactly as the fit's HandNet term forms them: the
    wrist-relative keypoints ``predicted`` (N,21,3) turned onto the wrist-relative ``truth`` (N,21,3) by the rotation
    that fits their centred shapes best (``realhands.fit.problem.kabsch``), about the wrist; the wrist's error is 0."""
    from ..fit.problem import kabsch

    p = predicted - predicted[:, :1]
    t = truth - truth[:, :1]
    return np.einsum("nij,nkj->nki", kabsch(p, t), p) - t


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file (hex); remembered per (path, size, modification time): the ONNX is 29 MB."""
    st = os.stat(path)
    return _digest(str(Path(path).resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def uncertainty_path(onnx_path) -> Path:
    """``<model>_uncertainty.npz`` beside an ONNX file."""
    p = Path(str(onnx_path))
    return p.with_name(p.stem + "_uncertainty.npz")


def save_head(head: UncertaintyHead, path: str | Path, onnx_path, info: dict | None = None) -> Path:
    """Write the head (weights, normalisation, the network's digest, ``info`` numbers) to ``path``."""
    arrays = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in head.state_dict().items()}
    extra = {f"info_{k}": np.asarray(v) for k, v in (info or {}).items()}
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, version=np.int64(VERSION), onnx_sha256=np.asarray(file_digest(onnx_path)), **arrays, **extra)
    tmp.replace(path)
    return path


_SHAPES = {"net.0.weight": (HIDDEN, FEATURES), "net.0.bias": (HIDDEN,), "net.2.weight": (JOINTS, HIDDEN),
           "net.2.bias": (JOINTS,), "mean": (FEATURES,), "std": (FEATURES,)}


def _invalid(arrays: dict) -> str | None:
    """Why a head file's arrays are not a head of this version, or None."""
    v = arrays.get("version")
    if v is None or v.shape != () or v.dtype.kind not in "iu" or int(v) != VERSION:
        return f"version {None if v is None else v.tolist()!r}, expected {VERSION}"
    d = arrays.get("onnx_sha256")
    if d is None or d.shape != () or d.dtype.kind != "U" or len(str(d)) != 64:
        return "no network digest"
    for k, shape in _SHAPES.items():
        a = arrays.get(k)
        if a is None or a.shape != shape or a.dtype.kind != "f" or not np.isfinite(a).all():
            return f"'{k}' missing or not {shape} finite numbers"
    if not (arrays["std"] > 0).all():
        return "'std' not positive"
    return None


class JointSigma:
    """The trained head at run time, in NumPy: ``JointSigma.load(onnx_path)`` (None when no head ships for that
    network) and ``sigma_mm(features)``."""

    def __init__(self, arrays: dict):
        self.w1, self.b1 = arrays["net.0.weight"], arrays["net.0.bias"]
        self.w2, self.b2 = arrays["net.2.weight"], arrays["net.2.bias"]
        self.mean, self.std = arrays["mean"], arrays["std"]

    @classmethod
    def load(cls, onnx_path) -> JointSigma | None:
        path = uncertainty_path(onnx_path)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as e:  # noqa: BLE001 - any unreadable file is the same error for the user
            raise ModelFileError(f"{path}: unreadable uncertainty head ({type(e).__name__}: {e}); rebuild it with "
                                 "`python -m tools.build.uncertainty_head` or delete it") from None
        why = _invalid(arrays)
        if why:
            raise ModelFileError(f"{path}: not an uncertainty head this version reads ({why}); rebuild it with "
                                 "`python -m tools.build.uncertainty_head --force` or delete it")
        if str(arrays["onnx_sha256"]) != file_digest(onnx_path):
            return None  # trained for another network: its features mean something else here
        return cls({k: np.asarray(v, np.float64) for k, v in arrays.items() if k in _SHAPES})

    def sigma_mm(self, features: np.ndarray) -> np.ndarray:
        """features (512,) or (B,512) -> sigma (21,) or (B,21) mm."""
        x = (np.asarray(features, np.float64) - self.mean) / self.std
        h = np.maximum(x @ self.w1.T + self.b1, 0.0)
        lo, hi = np.log(SIGMA_RANGE_MM)
        return np.exp(np.clip(h @ self.w2.T + self.b2, lo, hi))

"""FreiHAND (Zimmermann et al. 2019) in its official layout, for users who have it (it is research-only: never in
this repository). Gives the same sample dicts as ``realhands.synth.dataset``, so ``HandNetDataset`` trains on it.

    root/training/rgb/00000000.jpg ...     (4 x 32,560 images: the green-screen original and 3 recolourings)
    root/training/mask/00000000.jpg ...    (32,560 hand masks)
    root/training_K.json                   (32,560 intrinsics, 3x3)
    root/training_mano.json                (32,560 x [[61]]: pose 48 axis-angle, shape 10, translation 3)
    root/training_xyz.json                 (32,560 x 21 x 3 keypoints, metres, camera coordinates)

FreiHAND's MANO parameters belong to the official MANO model: load it (``model_path``: MANO_RIGHT.pkl or its
folder); our open model's shape space is different. FreiHAND's pose is relative to MANO's mean hand pose
(``pose_relative_to_mean=True``, MANO's default); we convert it to absolute. Its keypoint order is ours (MediaPipe's).
All hands are right hands.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import torch

from ..camera import Camera
from ..conventions import NUM_PARAMS, PARAM_SLICES
from ..errors import DatasetError

UNIQUE = 32560


class FreiHANDDataset(torch.utils.data.Dataset):
    def __init__(self, root: str | Path, model_path=None, versions: int = 4, pose_relative_to_mean: bool = True):
        from ..model import HandModel

        self.root = Path(root)
        need = ["training/rgb", "training_K.json", "training_mano.json", "training_xyz.json"]
        missing = [n for n in need if not (self.root / n).exists()]
        if missing:
            raise DatasetError(f"{self.root} is not a FreiHAND folder (missing {', '.join(missing)}); expected the "
                               "official layout: training/rgb, training/mask, training_K.json, training_mano.json, "
                               "training_xyz.json")
        try:
            self.K = np.asarray(json.loads((self.root / "training_K.json").read_text()), np.float32)
            mano = json.loads((self.root / "training_mano.json").read_text())
            self.mano = np.asarray(mano, np.float32).reshape(-1, NUM_PARAMS)
            self.xyz = np.asarray(json.loads((self.root / "training_xyz.json").read_text()), np.float32)
        except (ValueError, json.JSONDecodeError) as e:
            raise DatasetError(f"{self.root}: unreadable FreiHAND annotation ({e})") from None
        self.unique = len(self.K)
        if not (len(self.mano) == len(self.xyz) == self.unique):
            raise DatasetError(f"{self.root}: K, mano and xyz have {self.unique}, {len(self.mano)}, {len(self.xyz)} "
                               "entries; they must match")
        n_images = len(list((self.root / "training/rgb").glob("*.jpg")))
        self.versions = max(1, min(versions, n_images // max(self.unique, 1)))
        self.model = HandModel(side="right", model_path=model_path, flat_hand_mean=True)
        self.mean = np.asarray(self.model.data.hands_mean, np.float32) if pose_relative_to_mean \
            else np.zeros(45, np.float32)

    def __len__(self):
        return self.unique * self.versions

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(i)
        j = i % self.unique
        path = self.root / "training/rgb" / f"{i:08d}.jpg"
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise DatasetError(f"missing or corrupt FreiHAND image {path}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        mpath = self.root / "training/mask" / f"{j:08d}.jpg"
        m = cv2.imread(str(mpath), cv2.IMREAD_GRAYSCALE)
        mask = (m > 127) if m is not None else np.zeros(rgb.shape[:2], bool)
        p = self.mano[j]
        pose = p[:PARAM_SLICES["betas"].start].copy()  # global_orient and hand_pose
        pose[3:] += self.mean
        betas, transl = p[PARAM_SLICES["betas"]], p[PARAM_SLICES["transl"]]
        with torch.no_grad():
            out = self.model(global_orient=torch.as_tensor(pose[None, :3]), hand_pose=torch.as_tensor(pose[None, 3:]),
                             betas=torch.as_tensor(betas[None]), transl=torch.as_tensor(transl[None]))
        K = self.K[j]
        xyz = self.xyz[j]
        kp2d = Camera.from_K(K).project(xyz)
        return {
            "rgb_left": torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0,
            "mask_left": torch.from_numpy(mask),
            "joints2d_left": torch.from_numpy(kp2d.astype(np.float32)),
            "joints3d": torch.from_numpy(xyz),
            "vertices": out.vertices[0].float(),
            "pose": torch.from_numpy(pose),
            "betas": torch.from_numpy(betas.copy()),
            "transl": torch.from_numpy(transl.copy()),
            "K_left": torch.from_numpy(K),
            "side": "right",
            "egocentric": False,
        }

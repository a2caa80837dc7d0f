"""Stereo calibration: intrinsics of both cameras and the right camera's pose relative to the left one.

Read from a ZED factory file (``SN<serial>.conf``, as the ZED SDK downloads it) or from an OpenCV
FileStorage YAML file (K1, K2, R, T). Metres, OpenCV axes.
"""
from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class CalibrationError(ValueError):
    """A calibration file is missing, unreadable or lacks a value; the message names it."""


@dataclass
class StereoCalibration:
    K_left: np.ndarray  # (3,3) px
    K_right: np.ndarray  # (3,3) px
    T_right_from_left: np.ndarray  # (4,4), metres
    size: tuple[int, int]  # (width, height) of one view, px

    def scaled(self, width: int, height: int) -> "StereoCalibration":
        """The same calibration for views of another size (intrinsics scaled)."""
        sx, sy = width / self.size[0], height / self.size[1]
        S = np.diag([sx, sy, 1.0])
        return StereoCalibration(S @ self.K_left, S @ self.K_right, self.T_right_from_left.copy(), (width, height))

    def to_json(self) -> dict:
        return {"K_left": self.K_left.tolist(), "K_right": self.K_right.tolist(),
                "T_right_from_left": self.T_right_from_left.tolist(), "size": list(self.size)}

    @classmethod
    def from_json(cls, d: dict) -> "StereoCalibration":
        return cls(np.array(d["K_left"], float), np.array(d["K_right"], float),
                   np.array(d["T_right_from_left"], float), tuple(d["size"]))


# ZED factory-file sections by the width of one view.
_ZED_MODES = {2208: "2K", 1920: "FHD", 1280: "HD", 672: "VGA"}
_ZED_SIZES = {"2K": (2208, 1242), "FHD": (1920, 1080), "HD": (1280, 720), "VGA": (672, 376)}


def _rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    R, _ = cv2.Rodrigues(np.array([rx, ry, rz], float))
    return R


def load_zed_conf(path: str | Path, width: int = 1280) -> StereoCalibration:
    """Calibration from a ZED factory file for views ``width`` px wide (2208, 1920, 1280 or 672)."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"calibration file not found: {path}")
    mode = _ZED_MODES.get(width)
    if mode is None:
        raise CalibrationError(f"no ZED mode has views {width} px wide; known: {sorted(_ZED_MODES)}")
    cp = configparser.ConfigParser()
    try:
        cp.read_string(path.read_text(errors="replace"))
    except configparser.Error as exc:
        raise CalibrationError(f"{path} is not a ZED calibration file: {exc}") from None

    def get(section, key):
        try:
            return float(cp[section][key])
        except KeyError:
            raise CalibrationError(f"{path}: [{section}] {key} is missing") from None
        except ValueError:
            raise CalibrationError(f"{path}: [{section}] {key} is not a number") from None

    Ks = []
    for cam in ("LEFT", "RIGHT"):
        s = f"{cam}_CAM_{mode}"
        Ks.append(np.array([[get(s, "fx"), 0, get(s, "cx")], [0, get(s, "fy"), get(s, "cy")], [0, 0, 1.0]]))
    b = get("STEREO", "Baseline") / 1000.0  # mm -> m
    ty = float(cp["STEREO"].get("TY", 0.0)) / 1000.0
    tz = float(cp["STEREO"].get("TZ", 0.0)) / 1000.0
    R = _rotation(float(cp["STEREO"].get(f"RX_{mode}", 0.0)), float(cp["STEREO"].get(f"CV_{mode}", 0.0)),
                  float(cp["STEREO"].get(f"RZ_{mode}", 0.0)))
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ np.array([b, ty, tz])  # the right camera sits at +baseline along the left camera's x
    return StereoCalibration(Ks[0], Ks[1], T, _ZED_SIZES[mode])


def load_yaml(path: str | Path) -> StereoCalibration:
    """Calibration from an OpenCV FileStorage YAML file (``%YAML:1.0``, as cv2.stereoCalibrate users write it):
    K1, K2 (3x3 px), R, T (the right camera from the left, T in metres), image_width, image_height."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"calibration file not found: {path}")
    try:
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    except cv2.error as exc:
        raise CalibrationError(f"{path} is not an OpenCV YAML file (it must start with %YAML:1.0): "
                               f"{str(exc).strip()[:200]}") from None
    try:
        def mat(name, shape):
            m = fs.getNode(name).mat()
            if m is None or m.size != int(np.prod(shape)):
                raise CalibrationError(f"{path}: {name} is missing or not {shape[0]}x{shape[-1]}")
            return m.reshape(shape).astype(float)

        T = np.eye(4)
        T[:3, :3], T[:3, 3] = mat("R", (3, 3)), mat("T", (3,))
        size = (int(fs.getNode("image_width").real()), int(fs.getNode("image_height").real()))
        if min(size) <= 0:
            raise CalibrationError(f"{path}: image_width and image_height are missing")
        return StereoCalibration(mat("K1", (3, 3)), mat("K2", (3, 3)), T, size)
    finally:
        fs.release()


def load_calibration(path: str | Path, width: int = 1280) -> StereoCalibration:
    """A ZED ``.conf`` or a ``.yaml``/``.yml`` file (see the loaders)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".conf":
        return load_zed_conf(path, width)
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    raise CalibrationError(f"calibration files are ZED .conf or .yaml, got {path}")

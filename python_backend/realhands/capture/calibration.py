"""Stereo calibration files -> a realhands.camera.StereoPair (both cameras and the right one's pose relative to
the left one; metres, OpenCV axes).

Read from a ZED factory file (``SN<serial>.conf``, as the ZED SDK downloads it) or from an OpenCV FileStorage YAML
file (K1, K2, R, T).
"""
from __future__ import annotations

import configparser
from pathlib import Path

import cv2
import numpy as np

from ..camera import Camera, StereoPair
from ..errors import CalibrationError, CameraError

# ZED factory-file sections by the width of one view.
_ZED_MODES = {2208: "2K", 1920: "FHD", 1280: "HD", 672: "VGA"}
_ZED_SIZES = {"2K": (2208, 1242), "FHD": (1920, 1080), "HD": (1280, 720), "VGA": (672, 376)}


def _rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    R, _ = cv2.Rodrigues(np.array([rx, ry, rz], float))
    return R


def _read_conf(path: Path) -> configparser.ConfigParser:
    """The sections of a ZED factory file; a file that is not one (binary, no [SECTION] header, a line that is not
    KEY=VALUE, a key twice) is one CalibrationError, one line, naming the file and the line."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise CalibrationError(f"cannot read the calibration file {path}: {exc.strerror or exc}") from None
    what = f"{path} is not a ZED calibration file (KEY=VALUE lines under [LEFT_CAM_HD], [RIGHT_CAM_HD], [STEREO]...)"
    if "\0" in text:
        raise CalibrationError(f"{what}: it is binary, not text")
    cp = configparser.ConfigParser(interpolation=None)  # values are numbers; a '%' in one is not a reference
    try:
        cp.read_string(text, source=str(path))
    except configparser.MissingSectionHeaderError as exc:
        raise CalibrationError(f"{what}: line {exc.lineno} comes before any [SECTION] header") from None
    except configparser.ParsingError as exc:
        lines = [n for n, _ in exc.errors]
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        raise CalibrationError(f"{what}: line {lines[0]} is not KEY=VALUE{more}") from None
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as exc:
        twice = f"[{exc.section}]" + (f" {exc.option}" if getattr(exc, "option", None) else "")
        raise CalibrationError(f"{what}: {twice} appears twice (line {exc.lineno})") from None
    except configparser.Error as exc:
        raise CalibrationError(f"{what}: {' '.join(str(exc).split())[:200]}") from None
    return cp


def _modes(cp: configparser.ConfigParser) -> list[int]:
    """The widths of the views (2208, 1920, 1280, 672) a ZED factory file has both cameras' sections for, HD
    first."""
    return sorted((w for w, m in _ZED_MODES.items() if cp.has_section(f"LEFT_CAM_{m}")
                   and cp.has_section(f"RIGHT_CAM_{m}")), key=lambda w: (w != 1280, -w))


def load_zed_conf(path: str | Path, width: int | None = 1280) -> StereoPair:
    """Calibration from a ZED factory file for views ``width`` px wide (2208, 1920, 1280 or 672); None: for the
    views of a mode the file has (HD when it has it): a check of the file before the inputs' size is known."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"calibration file not found: {path}")
    cp = _read_conf(path)
    if width is None:
        width = (_modes(cp) or [1280])[0]  # none: HD's missing values are the error
    mode = _ZED_MODES.get(width)
    if mode is None:
        raise CalibrationError(f"no ZED mode has views {width} px wide; known: {sorted(_ZED_MODES)}")
    if not (cp.has_section(f"LEFT_CAM_{mode}") or cp.has_section(f"RIGHT_CAM_{mode}")):
        has = [f"{_ZED_MODES[w]} ({w}x{_ZED_SIZES[_ZED_MODES[w]][1]} views)" for w in _modes(cp)]
        raise CalibrationError(f"{path} has no calibration for {mode} views ({width}x{_ZED_SIZES[mode][1]}): no "
                               f"[LEFT_CAM_{mode}] section; it has {', '.join(has) or 'none of any mode'}")

    def get(section, key, default=None):
        try:
            raw = cp[section][key] if default is None else cp[section].get(key, str(default))
            value = float(raw)
        except KeyError:
            raise CalibrationError(f"{path}: [{section}] {key} is missing") from None
        except ValueError:
            raise CalibrationError(f"{path}: [{section}] {key} is not a number: {raw!r}") from None
        if not np.isfinite(value):
            raise CalibrationError(f"{path}: [{section}] {key} must be finite, got {raw!r}")
        return value

    size = _ZED_SIZES[mode]
    cams = []
    for cam in ("LEFT", "RIGHT"):
        s = f"{cam}_CAM_{mode}"
        fx, fy, cx, cy = (get(s, k) for k in ("fx", "fy", "cx", "cy"))
        try:
            cams.append(Camera(fx, fy, cx, cy, *size))
        except CameraError as exc:
            raise CalibrationError(f"{path}: [{s}] {exc}") from None
    b = get("STEREO", "Baseline") / 1000.0  # mm -> m
    ty = get("STEREO", "TY", 0.0) / 1000.0
    tz = get("STEREO", "TZ", 0.0) / 1000.0
    R = _rotation(get("STEREO", f"RX_{mode}", 0.0), get("STEREO", f"CV_{mode}", 0.0), get("STEREO", f"RZ_{mode}", 0.0))
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ np.array([b, ty, tz])  # the right camera sits at +baseline along the left camera's x
    try:
        return StereoPair(cams[0], cams[1], T)
    except CameraError as exc:
        raise CalibrationError(f"{path}: {exc}") from None


def load_yaml(path: str | Path) -> StereoPair:
    """Calibration from an OpenCV FileStorage YAML file (``%YAML:1.0``, as cv2.stereoCalibrate users write it):
    K1, K2 (3x3 px), R, T (the right camera from the left, T in metres), image_width, image_height."""
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"calibration file not found: {path}")
    try:
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
        opened = fs.isOpened()
    except (cv2.error, SystemError) as exc:  # (OpenCV's parser errors reach Python as either)
        why = f": {' '.join(str(exc).split())[:200]}" if isinstance(exc, cv2.error) else ""
        raise CalibrationError(f"{path} is not an OpenCV YAML file (it must start with %YAML:1.0 and parse as "
                               f"OpenCV FileStorage YAML){why}") from None
    if not opened:
        raise CalibrationError(f"{path} is not an OpenCV YAML file (it must start with %YAML:1.0)")
    try:
        def mat(name, shape):
            try:
                m = fs.getNode(name).mat()
            except (cv2.error, SystemError):  # rows x cols that do not match its data
                m = None
            if m is None or m.size != int(np.prod(shape)):
                raise CalibrationError(f"{path}: {name} is missing or not {shape[0]}x{shape[-1]} (an OpenCV matrix: "
                                       "rows, cols, dt: d, data)")
            return m.reshape(shape).astype(float)

        def pixels(name):
            v = fs.getNode(name).real()
            if not (np.isfinite(v) and v == int(v) and v > 0):
                raise CalibrationError(f"{path}: {name} must be a whole number of pixels above 0, got {v!r}")
            return int(v)

        T = np.eye(4)
        T[:3, :3], T[:3, 3] = mat("R", (3, 3)), mat("T", (3,))
        size = (pixels("image_width"), pixels("image_height"))
        K1, K2 = mat("K1", (3, 3)), mat("K2", (3, 3))
        try:
            return StereoPair(Camera.from_K(K1, *size), Camera.from_K(K2, *size), T)
        except CameraError as exc:
            raise CalibrationError(f"{path}: {exc}") from None
    finally:
        fs.release()


def load_calibration(path: str | Path, width: int | None = 1280) -> StereoPair:
    """A ZED ``.conf`` (for views ``width`` px wide; None: any the file has, see ``load_zed_conf``) or a
    ``.yaml``/``.yml`` file (see the loaders)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".conf":
        return load_zed_conf(path, width)
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    raise CalibrationError(f"calibration files are ZED .conf or .yaml, got {path}")

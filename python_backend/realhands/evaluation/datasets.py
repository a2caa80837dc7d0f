"""Evaluations on data a user brings: FreiHAND's evaluation layout (with its submission file), a folder of images
with 21-keypoint annotations (2D errors), and a recording (against its ground truth when it has some).

Keypoint annotation JSON (``annotations.json`` in the folder, or any path)::

    {"images": [
        {"file": "a.jpg",                       # relative to the JSON's folder
         "keypoints": [[u, v], ... 21],         # pixels, MediaPipe order (wrist, thumb CMC..tip, index MCP..tip, ...)
         "visible": [true, ... 21],             # optional; false points are not scored
         "side": "right",                       # optional: "left" or "right"
         "intrinsics": [fx, fy, cx, cy]}        # optional, px
    ]}
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..camera import Camera
from ..capture.files import read_image
from ..errors import CameraError, DatasetError, MediaError
from .common import hand_metrics, match_detection, summarise

PCK_2D_THRESHOLDS_PX = np.linspace(0.0, 30.0, 61)


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{path} not found ({what})") from None
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror or e}") from None
    except RecursionError:  # (a RuntimeError: the command line would print it without the file's name)
        raise DatasetError(f"{path} is not valid JSON (nested too deeply)") from None
    except ValueError as e:  # malformed, not UTF-8, or a number of thousands of digits
        raise DatasetError(f"{path} is not valid JSON ({' '.join(str(e).split())[:200]})") from None


#: what a number in an annotation can fail with: not a number, a nested list of the wrong shape, or an integer too
#: large for a float (OverflowError)
NUMBER_ERRORS = (TypeError, ValueError, OverflowError)


def _read_image(path: Path) -> np.ndarray:
    try:
        return read_image(path)
    except MediaError as exc:
        raise DatasetError(str(exc)) from None


def annotation_entries(path: str | Path, key: str, what: str, shape: str, noun: str) -> tuple[Path, list]:
    """(the JSON file, its non-empty list under ``key``) from an annotation JSON or a folder holding
    annotations.json; a missing, unreadable or empty file is a DatasetError naming ``what``, the expected
    ``shape`` and what one entry is (``noun``)."""
    p = Path(path)
    if p.is_dir():
        p = p / "annotations.json"
    doc = _read_json(p, what)
    entries = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DatasetError(f"{p}: expected {shape} with at least one {noun}")
    return p, entries


def valid_entries(entries: list, invalid, name_key: str, noun: str) -> tuple[list[tuple[int, dict]], list[str]]:
    """(index, entry) of the entries ``invalid(entry)`` finds nothing wrong with, and a reason for each other one,
    naming it by number and, where it has one, by its ``name_key`` ("image entry 3 (b.png): ...")."""
    good, skipped = [], []
    for i, e in enumerate(entries):
        why = invalid(e)
        if why:
            name = e.get(name_key) if isinstance(e, dict) and isinstance(e.get(name_key), str) else None
            skipped.append(f"{noun} {i}{f' ({name})' if name else ''}: {why}")
        else:
            good.append((i, e))
    return good, skipped


def load_keypoint_annotations(path: str | Path) -> tuple[Path, list[dict], list[str]]:
    """(image folder, valid entries, reasons for the skipped ones) from an annotation JSON (or a folder holding
    annotations.json). A missing or unreadable file, or one without a single valid entry, is a DatasetError; a
    malformed entry is skipped with its reason (naming it)."""
    p, entries = annotation_entries(path, "images", "keypoint annotations; see realhands.evaluation.datasets for "
                                    "the format", '{"images": [{"file", "keypoints"}, ...]}', "image")
    valid, skipped = valid_entries(entries, _invalid_keypoint_entry, "file", "image entry")
    good = [{**e, "keypoints": np.asarray(e["keypoints"], np.float64),
             "visible": np.asarray(e.get("visible", [True] * 21), bool), "entry": i} for i, e in valid]
    if not good:
        raise DatasetError(f"{p}: no usable image entry; {skipped[0]}" + (f" (and {len(skipped) - 1} more like it)"
                                                                           if len(skipped) > 1 else ""))
    return p.parent, good, skipped


def _invalid_keypoint_entry(e) -> str | None:
    """Why an image entry of a keypoint annotation cannot be scored, or None."""
    if not isinstance(e, dict) or not isinstance(e.get("file"), str) or not e["file"]:
        return "needs \"file\" (an image path relative to the annotation file)"
    try:
        kp = np.asarray(e.get("keypoints"), np.float64)
    except NUMBER_ERRORS:
        kp = None
    if kp is None or kp.shape != (21, 2) or not np.isfinite(kp).all():
        return "needs \"keypoints\" as 21 [u, v] pixel pairs (finite numbers)"
    vis = e.get("visible")
    if vis is not None:
        if not (isinstance(vis, list) and len(vis) == 21
                and all(isinstance(x, (bool, int)) and x in (0, 1) for x in vis)):
            return "\"visible\" must be 21 true/false values, one per keypoint"
        if not any(vis):
            return "no keypoint is \"visible\": nothing to score"
    if e.get("side") not in (None, "left", "right"):
        return "\"side\" must be \"left\" or \"right\""
    if e.get("intrinsics") is not None:
        try:
            Camera.coerce(e["intrinsics"])
        except (CameraError, *NUMBER_ERRORS) as exc:
            return f"\"intrinsics\" must be [fx, fy, cx, cy] or a 3x3 K in pixels ({exc})"
    return None


def evaluate_keypoint_folder(path: str | Path, progress: bool = True) -> dict:
    """MediaPipe's keypoints and the reconstructed hand's reprojected keypoints against 2D annotations: mean and
    median pixel errors, PCK over 0–30 px, detection rate. Unreadable images are counted (``unreadable``) and
    malformed entries skipped with their reasons (``skipped``), neither fatal."""
    from ..reconstruct import Reconstructor

    folder, entries, skipped = load_keypoint_annotations(path)
    malformed = len(skipped)
    rec = Reconstructor(smoothing_hz=0, mask="none")
    errs = {"MediaPipe keypoints": [], "reconstructed hand, reprojected": []}
    per_image, bad, missed = [], [], 0
    for e in tqdm(entries, desc="eval keypoints", unit="image", disable=not progress):
        try:
            img = _read_image(folder / e["file"])
        except DatasetError as exc:
            bad.append(str(exc))
            continue
        try:  # (checked without the image's size; with it, the principal point must lie near the image)
            camera = Camera.coerce(e.get("intrinsics"), img.shape[1], img.shape[0])
        except CameraError as exc:
            skipped.append(f"image entry {e['entry']} ({e['file']}): \"intrinsics\": {exc}")
            continue
        gt, vis = e["keypoints"], e["visible"]
        det = match_detection(rec.detector.detect(img), gt)
        if det is None:
            missed += 1
            per_image.append({"file": e["file"], "detected": False})
            continue
        if e.get("side"):
            det.handedness = e["side"]
        hands = rec.solve(img, [det], camera)
        uv = camera.project(hands[0].joints_3d)
        d_mp = np.linalg.norm(det.keypoints_2d - gt, axis=1)[vis]
        d_re = np.linalg.norm(uv - gt, axis=1)[vis]
        errs["MediaPipe keypoints"] += d_mp.tolist()
        errs["reconstructed hand, reprojected"] += d_re.tolist()
        per_image.append({"file": e["file"], "detected": True, "mediapipe_px": float(d_mp.mean()),
                          "reprojected_px": float(d_re.mean())})
    rec.close()
    out = {"images": len(entries) + malformed, "unreadable": bad, "skipped": skipped,
           "detected": len(entries) + malformed - len(bad) - len(skipped) - missed, "methods": {}}
    for name, d in errs.items():
        if d:
            d = np.asarray(d)
            out["methods"][name] = {
                "mean_px": float(d.mean()), "median_px": float(np.median(d)),
                "pck": {"thresholds_px": PCK_2D_THRESHOLDS_PX.tolist(),
                        "fraction": [float((d <= t).mean()) for t in PCK_2D_THRESHOLDS_PX]}}
    out["per_image"] = per_image
    return out


def evaluate_freihand(root: str | Path, out_dir: str | Path, model_path=None, limit: int | None = None,
                      progress: bool = True) -> dict:
    """FreiHAND's evaluation split (``evaluation/rgb/*.jpg``, ``evaluation_K.json``): reconstruct every image with
    its intrinsics and write the official submission file ``pred.json`` ([xyz list, verts list], metres, camera
    coordinates) to ``out_dir``; when the ground truth is there (``evaluation_xyz.json``, ``evaluation_verts.json``),
    also the metrics. Images without a detected hand get the mean prediction (the format needs one per image)."""
    from ..reconstruct import Reconstructor

    root, out_dir = Path(root), Path(out_dir)
    rgb = root / "evaluation" / "rgb"
    if not rgb.is_dir() or not (root / "evaluation_K.json").is_file():
        raise DatasetError(f"{root} is not FreiHAND's evaluation layout (needs evaluation/rgb/*.jpg and "
                           "evaluation_K.json)")
    try:
        Ks = np.asarray(_read_json(root / "evaluation_K.json", "FreiHAND intrinsics"), np.float64)
    except NUMBER_ERRORS:
        Ks = np.zeros(0)
    if Ks.ndim != 3 or Ks.shape[1:] != (3, 3):
        raise DatasetError(f"{root / 'evaluation_K.json'} must be a list of 3x3 intrinsics matrices (pixels), one per "
                           "image")
    n = len(Ks) if limit is None else min(limit, len(Ks))
    gt_xyz = _read_json(root / "evaluation_xyz.json", "") if (root / "evaluation_xyz.json").is_file() else None
    gt_verts = _read_json(root / "evaluation_verts.json", "") if (root / "evaluation_verts.json").is_file() else None
    rec = Reconstructor(smoothing_hz=0, model_path=model_path, max_hands=1)
    n_verts = len(rec.models["right"].data.v_template)
    if n_verts != 778:
        print(f"note: the hand model has {n_verts} vertices; FreiHAND's server scores MANO's 778 (pass --model with "
              "the official MANO for a valid submission)")
    xyz, verts, rows, missed = [None] * n, [None] * n, [], []
    for i in tqdm(range(n), desc="eval FreiHAND", unit="image", disable=not progress):
        try:
            img = _read_image(rgb / f"{i:08d}.jpg")
            t = time.perf_counter()
            hands = rec(img, Camera.from_K(Ks[i]))
            ms = (time.perf_counter() - t) * 1000
        except (DatasetError, CameraError):  # an unreadable image or a malformed K: that image is missed
            hands, ms = [], 0.0
        if not hands:
            missed.append(i)
            continue
        h = hands[0]
        xyz[i], verts[i] = h.joints_3d, h.vertices
        if gt_xyz is not None:
            r = hand_metrics(h.joints_3d, np.asarray(gt_xyz[i], np.float64), h.vertices,
                             np.asarray(gt_verts[i], np.float64) if gt_verts is not None else None)
            r["timings_ms"] = {"total": ms}
            rows.append(r)
    rec.close()
    done = [i for i in range(n) if xyz[i] is not None]
    mean_xyz = np.mean([xyz[i] for i in done], 0) if done else np.zeros((21, 3))
    mean_verts = np.mean([verts[i] for i in done], 0) if done else np.zeros((n_verts, 3))
    out_dir.mkdir(parents=True, exist_ok=True)
    pred = [[np.round(x if x is not None else mean_xyz, 6).tolist() for x in xyz],
            [np.round(v if v is not None else mean_verts, 6).tolist() for v in verts]]
    (out_dir / "pred.json").write_text(json.dumps(pred))
    return {"images": n, "detected": len(done), "missed": missed[:50], "submission": str(out_dir / "pred.json"),
            "has_ground_truth": gt_xyz is not None, "summary": summarise(rows) if rows else {}}


def evaluate_recording(path: str | Path, progress: bool = True) -> dict:
    """Re-run the live pipeline (not paced) on a recording's input frames; with recorded ground truth (synthetic
    sources): the live report's accuracy rows (realhands.metrics.joint_errors: absolute, root-relative and
    Procrustes-aligned errors, with their PCK) summarised."""
    from ..config import LiveConfig
    from ..live.pipeline import LivePipeline
    from ..recording.mcap_io import recording_source

    pipe = LivePipeline(recording_source(path), LiveConfig(realtime=False, texture_size=0), publisher=None,
                        recorder=None, log=lambda *a: None)
    try:
        report = pipe.run()
    finally:
        pipe.close()
    s = report.summary()
    return {"recording": str(path), "frames": s.get("frames_out"), "errors": s.get("errors"),
            "frames_with_truth": len(report.accuracy), "stage_ms": s.get("stage_ms"),
            "summary": summarise(report.accuracy) if report.accuracy else {}}

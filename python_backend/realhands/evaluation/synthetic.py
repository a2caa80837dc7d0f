"""The held-out synthetic split: every variant of the pipeline on the same renders and the same MediaPipe
detections (Table 1), masks against the rendered labels (Table 3), mono against stereo (Table 4), timings.

The renders use another seed than the training data (99 against 1), the training rig and resolution (ZED Mini,
640x480) and the left view for mono. MediaPipe runs for real on each render; the hand it finds is matched to the
ground truth by its keypoints, and the hand model of the true side is used (MediaPipe's handedness is reported
separately). Errors are in the left camera's frame (OpenCV axes).
"""
from __future__ import annotations

import functools
import time

import numpy as np
from tqdm import tqdm

from ..metrics import pixel_accuracy, silhouette_iou
from .common import hand_metrics, match_detection, summarise

#: the default's name in the tables: the keypoint fit started from HandNet's articulation and shape
HYBRID = "hybrid (default): fit from HandNet's articulation"
#: Table 1's variants: name -> Reconstructor arguments
VARIANTS = {
    "keypoint fit": {"regressor": "fit", "mask": "handnet"},
    "HandNet": {"regressor": "net", "mask": "handnet"},
    HYBRID: {"regressor": "handnet", "mask": "handnet"},
    "hybrid + HandNet's keypoints by its uncertainty": {"regressor": "handnet", "mask": "handnet",
                                                        "handnet_weight": 1.0},
    "fit + refinement 3 it.": {"regressor": "fit", "mask": "handnet", "refine_iterations": 3},
    "fit + refinement 10 it.": {"regressor": "fit", "mask": "handnet", "refine_iterations": 10},
    "fit + refinement 15 it.": {"regressor": "fit", "mask": "handnet", "refine_iterations": 15},
}


def _rows_for(hand, s, camera, gt_2d) -> dict:
    r = hand_metrics(hand.joints_3d, s["joints3d"].numpy().astype(np.float64), hand.vertices,
                     s["vertices"].numpy().astype(np.float64), camera, gt_2d)
    r["timings_ms"] = dict(hand.timings_ms)
    return r


def evaluate_synthetic(count: int = 60, seed: int = 99, variants: dict | None = None, stereo: bool = True,
                       masks: bool = True, rig: str = "zedm", resolution: str = "640x480", handnet_path=None,
                       progress: bool = True) -> dict:
    """Run the variants on ``count`` held-out renders. Returns a JSON-ready dict: per variant a summary
    (``common.summarise``: mean metrics, PCK curve, AUC, median stage timings), masks (HandNet, GrabCut, HSV:
    IoU and pixel accuracy), stereo (HandNet on one view against both views fused), detection counts."""
    import torch

    from ..perception.mediapipe_hands import HandDetector
    from ..perception.segment import grabcut_mask, hsv_skin_mask
    from ..reconstruct import Reconstructor
    from ..synth.dataset import SynthOnTheFlyDataset, sample_pair
    from ..synth.generate import SynthConfig

    variants = VARIANTS if variants is None else variants
    data = SynthOnTheFlyDataset(count, seed=seed, config=SynthConfig(rig=rig, resolution=resolution))
    detector = HandDetector(static_image_mode=True, max_num_hands=2)
    recs = {name: Reconstructor(smoothing_hz=0, handnet=str(handnet_path or ""), **cfg)
            for name, cfg in variants.items()}
    net = next((r.handnet for r in recs.values() if r.handnet is not None), None)
    mask_from = next((n for n, r in recs.items() if r.mask_source == "handnet"), None)  # HandNet's mask, once
    rows = {name: [] for name in variants}
    mask_rows = {"HandNet": [], "GrabCut (classical fallback)": [], "HSV skin threshold": []}
    stereo_rows = {"HandNet, left view": [], "HandNet, stereo (fused, triangulated)": []}
    found = handed = stereo_pairs = 0
    for i in tqdm(range(count), desc="eval synthetic", unit="sample", disable=not progress):
        s = data[i]
        img = np.rint(s["rgb_left"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        pair = sample_pair(s)
        gt_2d = s["joints2d_left"].numpy().astype(np.float64)
        t0 = time.perf_counter()
        det = match_detection(detector.detect(img), gt_2d)
        detect_ms = (time.perf_counter() - t0) * 1000
        if det is None:
            continue
        found += 1
        handed += det.handedness == s["side"]
        det.handedness = s["side"]
        for name, rec in recs.items():
            hands = rec.solve(img, [det], pair.left, detect_ms=detect_ms)
            if hands:
                rows[name].append(_rows_for(hands[0], s, pair.left, gt_2d))
                if masks and name == mask_from and hands[0].mask is not None:
                    mask_rows["HandNet"].append(_mask_row(hands[0].mask, s, hands[0].timings_ms.get("handnet", 0.0)))
        if masks:
            gt_mask = s["mask_left"].numpy()
            for name, fn in (("GrabCut (classical fallback)", functools.partial(grabcut_mask, img, det.keypoints_2d)),
                             ("HSV skin threshold", functools.partial(hsv_skin_mask, img))):
                t = time.perf_counter()
                m = fn()
                mask_rows[name].append(_mask_row(m, s, (time.perf_counter() - t) * 1000, gt_mask))
        if stereo and net is not None:
            img_r = np.rint(s["rgb_right"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
            det_r = match_detection(detector.detect(img_r), s["joints2d_right"].numpy().astype(np.float64))
            if det_r is not None:
                stereo_pairs += 1
                model = recs[next(iter(recs))].models[s["side"]]
                t = time.perf_counter()
                mono = net.predict(img, det.keypoints_2d, s["side"], pair.left, model)
                t_mono = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                fused = net.predict_stereo([img, img_r], [det.keypoints_2d, det_r.keypoints_2d], s["side"], pair, model)
                t_st = (time.perf_counter() - t) * 1000
                for name, est, ms in (("HandNet, left view", mono, t_mono),
                                      ("HandNet, stereo (fused, triangulated)", fused, t_st)):
                    p = {k: torch.as_tensor(np.asarray(v), dtype=model.v_template.dtype)[None]
                         for k, v in est.params.items()}
                    with torch.no_grad():
                        out = model(**p)
                    r = hand_metrics(out.keypoints[0].numpy(), s["joints3d"].numpy().astype(np.float64),
                                     out.vertices[0].numpy(), s["vertices"].numpy().astype(np.float64), pair.left,
                                     gt_2d)
                    r["timings_ms"] = {"handnet": ms}
                    stereo_rows[name].append(r)
    detector.close()
    for r in recs.values():
        r.close()
    return {
        "split": {"count": count, "seed": seed, "rig": rig, "resolution": resolution, "view": "left",
                  "detected": found, "handedness_correct": handed, "stereo_pairs_detected": stereo_pairs},
        "variants": {k: summarise(v) for k, v in rows.items()},
        "masks": {k: summarise(v) for k, v in mask_rows.items()} if masks else {},
        "stereo": {k: summarise(v) for k, v in stereo_rows.items()} if stereo else {},
    }


def _mask_row(mask, s, ms: float, gt=None) -> dict:
    gt = s["mask_left"].numpy() if gt is None else gt
    mask = np.asarray(mask, bool)
    return {"mask_iou": silhouette_iou(mask, gt), "mask_accuracy": pixel_accuracy(mask, gt), "timings_ms": {"mask": ms}}

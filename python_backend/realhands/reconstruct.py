"""The public entry point: images in, 3D hands out.

    from realhands import reconstruct
    hands = reconstruct(image_rgb)                 # list[HandResult], [] when no hand is visible
    hands = reconstruct(image_rgb, intrinsics=(fx, fy, cx, cy))

Without intrinsics a horizontal field of view of DEFAULT_HFOV_DEG (60 deg, a typical webcam or phone camera)
centred on the image is assumed. Results are in camera coordinates (OpenCV axes, metres); keypoints and joints
in MediaPipe/FreiHAND order. For video use ``Reconstructor(video=True)``: MediaPipe tracks between frames,
fits start from the previous frame, and a One Euro filter smooths the parameters.

Stages: MediaPipe keypoints -> HandNet (when its weights are installed: MANO estimate and hand mask) -> keypoint
fit (from HandNet's estimate: a short refinement; without HandNet: from scratch) -> (optional) mask (HandNet's or
a classical one) -> (optional) silhouette refinement -> (optional) texture fusion.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .fit.keypoint_fit import KeypointFitter
from .fit.smoothing import OneEuroFilter
from .model import HandModel
from .perception.mediapipe_hands import HandDetector

DEFAULT_HFOV_DEG = 60.0
MASK_SOURCES = ("auto", "none", "grabcut", "hsv", "handnet")
REGRESSORS = ("auto", "handnet", "net", "fit")


def default_intrinsics(width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> tuple[float, ...]:
    """(fx, fy, cx, cy) of a pinhole camera with square pixels and the given horizontal FOV."""
    f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2)
    return float(f), float(f), width / 2.0, height / 2.0


@dataclass
class SecondView:
    """The other camera of a stereo pair: RGB image (H,W,3) uint8, intrinsics K (3,3) px and the pose of this
    camera relative to the first one, T_right_from_left (4,4), metres."""

    image: np.ndarray
    K: np.ndarray
    T_right_from_left: np.ndarray


@dataclass
class HandResult:
    """One reconstructed hand. Camera coordinates (OpenCV axes), metres; keypoint order."""

    handedness: str
    score: float
    keypoints_2d: np.ndarray  # (21,2) px, detected
    joints_3d: np.ndarray  # (21,3)
    vertices: np.ndarray  # (V,3)
    mano: dict  # global_orient (3), hand_pose (45, absolute), betas (10), transl (3): lists of floats
    reprojection_px: float
    timings_ms: dict = field(default_factory=dict)
    mask: np.ndarray | None = None  # (H,W) bool when a mask source is chosen
    refined: bool = False  # silhouette refinement ran and was kept (not diverged)
    texture_version: int | None = None  # version of this hand's fused texture (Reconstructor.textures)
    vertex_offsets: np.ndarray | None = None  # (V,3) rest-space offsets from refinement, metres (None: none)

    def to_json(self, with_vertices: bool = True) -> dict:
        d = {"handedness": self.handedness, "score": round(self.score, 4),
             "keypoints_2d": np.round(self.keypoints_2d, 2).tolist(),
             "joints_3d": np.round(self.joints_3d, 5).tolist(),
             "mano": {k: [round(float(x), 5) for x in v] for k, v in self.mano.items()},
             "reprojection_px": round(self.reprojection_px, 2), "refined": self.refined,
             "texture_version": self.texture_version,
             "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()}}
        if with_vertices:
            d["vertices"] = np.round(self.vertices, 5).tolist()
        return d


class Reconstructor:
    """Keeps MediaPipe, the hand models and (in video mode) per-hand state between calls.

    Args:
        video: frames of one video (tracking, warm starts, smoothing) rather than unrelated images.
        max_hands: at most this many hands per image.
        mask: "auto" (HandNet's mask when its weights are installed, else none), "none", "handnet" (the
            network's mask), "grabcut" (keypoint-seeded GrabCut) or "hsv" (skin threshold baseline). Refinement
            without a mask uses GrabCut.
        regressor: "auto" (HandNet when its weights are installed, else the keypoint fit), "handnet" (HandNet's
            MANO estimate refined by a short keypoint fit: the hybrid), "net" (HandNet's estimate as it is; for
            evaluation) or "fit" (the keypoint fit alone).
        handnet_path: a HandNet ONNX file (default: the shipped realhands/assets/handnet_cpu.onnx).
        smoothing: One Euro filter parameters (min_cutoff Hz, beta) in video mode; None turns it off.
        model_path: MANO-format model file or folder (default: see realhands.model.io).
        refine_iterations: silhouette refinement steps against the mask (0: off; see docs/refinement.md).
        texture_size: side of each hand's fused UV texture atlas in texels (0: off); the image is projected
            into it every frame (``textures[side]``, a realhands.texture.TextureFusion).
        texture_alpha: exponential smoothing factor of the texture over frames.
    """

    def __init__(self, video: bool = False, max_hands: int = 2, mask: str = "auto",
                 smoothing: tuple[float, float] | None = (1.5, 0.3), model_path=None, mirrored: bool = False,
                 refine_iterations: int = 0, texture_size: int = 0, texture_alpha: float = 0.2,
                 regressor: str = "auto", handnet_path=None):
        if mask not in MASK_SOURCES:
            raise ValueError(f"mask must be one of {MASK_SOURCES}, got {mask!r}")
        if regressor not in REGRESSORS:
            raise ValueError(f"regressor must be one of {REGRESSORS}, got {regressor!r}")
        if refine_iterations < 0:
            raise ValueError("refine_iterations must be >= 0")
        self.handnet = None
        if regressor != "fit" or mask in ("handnet", "auto"):
            from .net.infer import HandNetRegressor

            self.handnet = HandNetRegressor(handnet_path) if handnet_path else HandNetRegressor.default()
            if self.handnet is None and (regressor in ("handnet", "net") or mask == "handnet"):
                raise ValueError("no HandNet weights are installed (realhands/assets/handnet_cpu.onnx): pass "
                                 "handnet_path (realhands train, then realhands export-onnx), or use regressor='fit' "
                                 "and a classical mask")
        self.use_handnet_pose = self.handnet is not None and regressor != "fit"
        self.net_only = regressor == "net"
        if mask == "auto":
            mask = "handnet" if self.handnet is not None else "none"
        if refine_iterations and mask == "none":
            mask = "handnet" if self.handnet is not None else "grabcut"  # refinement needs a target silhouette
        self.refine_iterations = refine_iterations
        self._refiners = {}  # per handedness, built on first use (mesh topology is computed once)
        self.video, self.mask_source = video, mask
        self.detector = HandDetector(static_image_mode=not video, max_num_hands=max_hands, mirrored=mirrored)
        self.models = {s: HandModel(side=s, model_path=model_path, flat_hand_mean=True) for s in ("right", "left")}
        self.fitters = {s: KeypointFitter(m) for s, m in self.models.items()}
        self.smoothing = smoothing if video else None
        self._previous: dict[str, dict] = {}
        self._filters: dict[str, OneEuroFilter] = {}
        self._frame = 0
        self.texture_size, self.texture_alpha = int(texture_size), float(texture_alpha)
        self.textures = {}  # per handedness: TextureFusion, built on first use

    def reset(self):
        """Forget the previous frames (start of a new video), fused textures included."""
        self._previous.clear()
        self._filters.clear()
        self._frame = 0
        for fusion in self.textures.values():
            fusion.reset()

    def warm_up(self) -> None:
        """Pay one-off costs now: MediaPipe's first run, the texture atlases, one fit per hand."""
        from .texture import TextureFusion, UVAtlas

        self.detector.detect(np.zeros((64, 64, 3), np.uint8))
        K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
        for side, model in self.models.items():  # the first fit pays torch's one-off costs
            with torch.no_grad():
                kp = model(transl=torch.tensor([[0.0, 0.0, 0.5]])).keypoints[0].numpy().astype(np.float64)
            uv = kp[:, :2] / kp[:, 2:] * 500.0 + np.array([320.0, 240.0])
            self.fitters[side].fit(uv[None], K[None])
        if self.texture_size:
            for side, model in self.models.items():
                if side not in self.textures:
                    self.textures[side] = TextureFusion(UVAtlas.for_model(model.data, self.texture_size),
                                                        self.texture_alpha)

    def _texture(self, side: str, image, vertices, K, mask, second_view=None):
        from .texture import TextureFusion, UVAtlas, combine, observe

        t = time.perf_counter()
        model = self.models[side]
        if side not in self.textures:
            self.textures[side] = TextureFusion(UVAtlas.for_model(model.data, self.texture_size), self.texture_alpha)
        fusion = self.textures[side]
        obs = observe(fusion.atlas, vertices, model.faces_tensor, K, image, mask=mask)
        if second_view is not None:
            T = torch.as_tensor(second_view.T_right_from_left, dtype=vertices.dtype)
            v2 = vertices @ T[:3, :3].T + T[:3, 3]
            obs = combine([obs, observe(fusion.atlas, v2, model.faces_tensor, second_view.K, second_view.image)])
        fusion.update(obs)
        return fusion.version, (time.perf_counter() - t) * 1000

    @staticmethod
    def _check_image(image) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an RGB image (H,W,3), got shape {image.shape}")
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        return image

    def detect(self, image: np.ndarray) -> list:
        """MediaPipe's hands in an RGB image (H,W,3): the first stage, separate so a pipeline can run it in its
        own thread. Pass the result to ``solve``."""
        return self.detector.detect(self._check_image(image))

    def __call__(self, image: np.ndarray, intrinsics=None, timestamp: float | None = None) -> list[HandResult]:
        image = self._check_image(image)
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        t_detect = (time.perf_counter() - t0) * 1000
        return self.solve(image, detections, intrinsics, timestamp, detect_ms=t_detect)

    def solve(self, image: np.ndarray, detections: list, intrinsics=None, timestamp: float | None = None,
              detect_ms: float = 0.0, second_view: "SecondView | None" = None) -> list[HandResult]:
        """Hands from ``detect``'s detections in ``image``: fit, mask, refinement, texture. ``intrinsics``
        (fx, fy, cx, cy) px; ``timestamp`` seconds (video smoothing); ``second_view``: the other camera of a
        stereo pair, whose image also feeds the texture."""
        image = self._check_image(image)
        h, w = image.shape[:2]
        fx, fy, cx, cy = intrinsics if intrinsics is not None else default_intrinsics(w, h)
        K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        t_detect = detect_ms / max(len(detections), 1)
        timestamp = self._frame / 30.0 if timestamp is None else timestamp
        self._frame += 1
        results, seen = [], set()
        for det in detections:
            side = det.handedness
            if side in seen:  # two hands called the same: keep the more confident (MediaPipe orders them)
                side = "left" if side == "right" else "right"
            seen.add(side)
            fitter, model = self.fitters[side], self.models[side]
            init = self._previous.get(side) if self.video else None
            est, t_net = None, 0.0
            if self.handnet is not None and (self.use_handnet_pose or self.mask_source == "handnet"):
                t0 = time.perf_counter()
                est = self.handnet.predict(image, det.keypoints_2d, side, K, model)
                t_net = (time.perf_counter() - t0) * 1000
            hybrid = init is None and est is not None and self.use_handnet_pose
            if hybrid:  # HandNet's estimate, refined by a short keypoint fit (the hybrid)
                init = {k: np.asarray(v)[None] for k, v in est.params.items()}
            t1 = time.perf_counter()
            if self.net_only and est is not None:  # HandNet's estimate as it is (no fit)
                dt = model.v_template.dtype
                params = {k: torch.as_tensor(np.asarray(v), dtype=dt).reshape(1, -1) for k, v in est.params.items()}
                reprojection = self._reprojection(model, params, det.keypoints_2d, K)
            else:
                fit = fitter.fit(det.keypoints_2d[None], K[None], det.world_landmarks[None], init=init,
                                 iterations=10 if hybrid else None)
                params = {"global_orient": fit.global_orient, "hand_pose": fit.hand_pose, "betas": fit.betas,
                          "transl": fit.transl}
                reprojection = float(fit.reprojection_px[0])
            t_fit = (time.perf_counter() - t1) * 1000
            if self.video:
                self._previous[side] = params
                if self.smoothing is not None:
                    flt = self._filters.setdefault(side, OneEuroFilter(*self.smoothing))
                    flat = torch.cat([params[k][0] for k in ("global_orient", "hand_pose", "betas", "transl")])
                    sm = torch.as_tensor(flt(flat.numpy(), timestamp), dtype=flat.dtype)
                    params = {"global_orient": sm[None, :3], "hand_pose": sm[None, 3:48], "betas": sm[None, 48:58],
                              "transl": sm[None, 58:61]}
            with torch.no_grad():
                out = model(**params)
            mask, t_mask = None, 0.0
            if self.mask_source == "handnet":
                mask = est.mask
            elif self.mask_source != "none":
                from .perception.segment import grabcut_mask, hsv_skin_mask

                t2 = time.perf_counter()
                mask = (grabcut_mask(image, det.keypoints_2d) if self.mask_source == "grabcut"
                        else hsv_skin_mask(image))
                t_mask = (time.perf_counter() - t2) * 1000
            timings = {"detect": t_detect, "fit": t_fit}
            if est is not None:
                timings["handnet"] = t_net
            if mask is not None:
                timings["mask"] = t_mask
            refined, offsets = False, None
            if self.refine_iterations and mask is not None:
                from .refine.silhouette import RefineConfig, SilhouetteRefiner

                t3 = time.perf_counter()
                if side not in self._refiners:
                    self._refiners[side] = SilhouetteRefiner(model, RefineConfig(iterations=self.refine_iterations))
                r = self._refiners[side].refine({k: v[0].numpy() for k, v in params.items()}, [mask], [K])
                timings["refine"] = (time.perf_counter() - t3) * 1000
                if not r.diverged:
                    params, refined = r.params, True
                    offsets = r.vertex_offsets[0].detach().cpu().numpy().astype(np.float64)
                    with torch.no_grad():
                        out = model(**params, vertex_offsets=r.vertex_offsets)
            texture_version = None
            if self.texture_size:
                texture_version, timings["texture"] = self._texture(side, image, out.vertices[0], K, mask,
                                                                    second_view)
            results.append(HandResult(
                handedness=side, score=det.score, keypoints_2d=det.keypoints_2d,
                joints_3d=out.keypoints[0].numpy().astype(np.float64), vertices=out.vertices[0].numpy().astype(np.float64),
                mano={k: v[0].numpy().astype(np.float64) for k, v in params.items()},
                reprojection_px=reprojection, timings_ms=timings, mask=mask, refined=refined,
                texture_version=texture_version, vertex_offsets=offsets))
        for side in list(self._previous):  # a hand that left the view starts cold next time
            if side not in seen:
                self._previous.pop(side)
                self._filters.pop(side, None)
        return results

    @staticmethod
    def _reprojection(model, params: dict, keypoints_2d: np.ndarray, K: np.ndarray) -> float:
        """Mean distance (px) between the model's projected keypoints and the detected ones."""
        with torch.no_grad():
            kp = model.keypoints(params["global_orient"], params["hand_pose"], params["betas"], params["transl"])[0]
        uv = kp.numpy() @ K.T
        uv = uv[:, :2] / np.maximum(uv[:, 2:], 1e-6)
        return float(np.linalg.norm(uv - keypoints_2d, axis=1).mean())

    def close(self):
        self.detector.close()


_default: Reconstructor | None = None


def reconstruct(image: np.ndarray, intrinsics=None) -> list[HandResult]:
    """Reconstruct the hands in one RGB uint8 image (H,W,3). ``intrinsics``: (fx, fy, cx, cy) in pixels, or
    None for the default field of view. Returns [] when no hand is found."""
    global _default
    if _default is None:
        _default = Reconstructor()
    return _default(image, intrinsics)

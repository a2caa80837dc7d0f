"""The public entry point: images in, 3D hands out.

    from realhands import reconstruct, Camera
    hands = reconstruct(image_rgb)                          # list[HandResult], [] when no hand is visible
    hands = reconstruct(image_rgb, Camera(fx, fy, cx, cy))  # or (fx, fy, cx, cy), or a 3x3 K

Without a camera, realhands.camera.DEFAULT_HFOV_DEG (60 deg, a typical webcam or phone camera) centred on the image
is assumed. Results are in camera coordinates (OpenCV axes, metres); keypoints and joints in MediaPipe/FreiHAND
order. For video use ``Reconstructor(video=True)``: MediaPipe tracks between frames, fits start from the previous
frame, and a One Euro filter smooths the parameters.

``Reconstructor.solve`` runs each hand through named stages over a small per-hand ``HandState``; each stage is a
method that can be read, tested and timed alone (its milliseconds land in ``HandResult.timings_ms`` under its
name when it ran):

    detect    MediaPipe's keypoints (``Reconstructor.detect``, once per image)
    handnet   HandNet's MANO estimate and mask (``estimate``), when HandNet is used
    fit       the keypoint fit from the previous frame (video) or from HandNet's estimate (a short fit of
              fit.keypoint_fit.WARM_ITERATIONS: the hybrid), else from scratch; or HandNet's estimate as it is
              (regressor "net")
    smooth    One Euro filter over the parameters (video)
    mask      the hand's silhouette, by the mask policy (``ReconstructConfig.mask_source`` in realhands.config)
    refine    silhouette refinement against the mask (``refine_iterations``)
    texture   the image projected into the hand's UV atlas and fused over frames and views (``texture_size``)

The choices (regressor, mask, refinement, texture, smoothing) and what "auto" means are defined once in
realhands.config.ReconstructConfig; ``Reconstructor(**choices)`` takes its fields as keyword arguments.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .camera import Camera, StereoPair
from .config import ReconstructConfig
from .conventions import MANO_PARAM_NAMES, PARAM_SLICES, SIDES
from .fit.keypoint_fit import KeypointFitter
from .fit.smoothing import OneEuroFilter
from .model import HandModel
from .perception.mediapipe_hands import HandDetection, HandDetector


@dataclass
class SecondView:
    """The other camera of a stereo pair: its RGB image (H,W,3) uint8 and the pair (``pair.right`` is this view's
    camera, ``pair.T_right_from_left`` its pose relative to the first view's)."""

    image: np.ndarray
    pair: StereoPair


@dataclass
class HandResult:
    """One reconstructed hand. Camera coordinates (OpenCV axes), metres; keypoint order."""

    handedness: str
    score: float
    keypoints_2d: np.ndarray  # (21,2) px, detected
    joints_3d: np.ndarray  # (21,3)
    vertices: np.ndarray  # (V,3)
    mano: dict  # global_orient (3), hand_pose (45, absolute), betas (10), transl (3): float64 arrays
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


@dataclass
class HandState:
    """One hand of one frame on its way through the stages."""

    side: str
    detection: HandDetection
    camera: Camera
    model: HandModel
    params: dict | None = None  # global_orient (1,3), hand_pose (1,45), betas (1,10), transl (1,3) tensors
    estimate: object | None = None  # realhands.net.infer.HandNetEstimate
    reprojection_px: float = float("nan")
    mask: np.ndarray | None = None
    vertex_offsets: torch.Tensor | None = None  # (1,V,3) from refinement
    refined: bool = False
    texture_version: int | None = None
    timings_ms: dict = field(default_factory=dict)
    _output: object | None = None

    def set_params(self, params: dict, vertex_offsets: torch.Tensor | None = None):
        self.params, self.vertex_offsets, self._output = params, vertex_offsets, None

    def posed(self):
        """The hand model posed by the current parameters (realhands.model.HandOutput), computed once."""
        if self._output is None:
            with torch.no_grad():
                self._output = self.model(**self.params, vertex_offsets=self.vertex_offsets)
        return self._output

    def result(self) -> HandResult:
        out = self.posed()
        offsets = None if self.vertex_offsets is None else \
            self.vertex_offsets[0].detach().cpu().numpy().astype(np.float64)
        return HandResult(
            handedness=self.side, score=self.detection.score, keypoints_2d=self.detection.keypoints_2d,
            joints_3d=out.keypoints[0].numpy().astype(np.float64),
            vertices=out.vertices[0].numpy().astype(np.float64),
            mano={k: v[0].numpy().astype(np.float64) for k, v in self.params.items()},
            reprojection_px=self.reprojection_px, timings_ms=self.timings_ms, mask=self.mask, refined=self.refined,
            texture_version=self.texture_version, vertex_offsets=offsets)


def check_image(image) -> np.ndarray:
    """An RGB uint8 image (H,W,3) from an array-like, or a clear error."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H,W,3), got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    return image


class Reconstructor:
    """Keeps MediaPipe, the hand models and (in video mode) per-hand state between calls.

    Args:
        config: a realhands.config.ReconstructConfig (default: its defaults); keyword arguments named after its
            fields override it (``Reconstructor(mask="grabcut", refine_iterations=3)``).
        video: frames of one video (tracking, warm starts, smoothing) rather than unrelated images.
        model_path: MANO-format model file or folder (default: see realhands.model.io).
    """

    def __init__(self, config: ReconstructConfig | None = None, *, video: bool = False, model_path=None, **choices):
        self.cfg = cfg = dataclasses.replace(config, **choices) if config is not None else ReconstructConfig(**choices)
        self.handnet = None
        if cfg.wants_handnet():
            from .net.infer import HandNetRegressor

            self.handnet = HandNetRegressor(cfg.handnet) if cfg.handnet else HandNetRegressor.default()
        self.regressor = cfg.regressor_used(self.handnet is not None)
        self.mask_source = cfg.mask_source(self.handnet is not None)
        self.video = video
        self.smoothing = cfg.smoothing if video else None
        self.detector = HandDetector(static_image_mode=not video, max_num_hands=cfg.max_hands, mirrored=cfg.mirrored)
        self.models = {s: HandModel(side=s, model_path=model_path, flat_hand_mean=True) for s in SIDES}
        self.fitters = {s: KeypointFitter(m) for s, m in self.models.items()}
        self.textures = {}  # per handedness: realhands.texture.TextureFusion, built on first use
        self._refiners = {}  # per handedness, built on first use (mesh topology is computed once)
        self._previous: dict[str, dict] = {}  # video: each hand's last fitted (unsmoothed) parameters
        self._filters: dict[str, OneEuroFilter] = {}
        self._frame = 0

    def reset(self):
        """Forget the previous frames (start of a new video), fused textures included."""
        self._previous.clear()
        self._filters.clear()
        self._frame = 0
        for fusion in self.textures.values():
            fusion.reset()

    def warm_up(self) -> None:
        """Pay one-off costs now: MediaPipe's first run, the texture atlases, one fit per hand."""
        self.detector.detect(np.zeros((64, 64, 3), np.uint8))
        cam = Camera(500.0, 500.0, 320.0, 240.0, 640, 480)
        for side, model in self.models.items():  # the first fit pays torch's one-off costs
            with torch.no_grad():
                kp = model(transl=torch.tensor([[0.0, 0.0, 0.5]])).keypoints[0].numpy().astype(np.float64)
            self.fitters[side].fit(cam.project(kp)[None], cam.K[None])
        if self.cfg.texture_size:
            for side in self.models:
                self._fusion(side)

    def close(self):
        self.detector.close()

    # -- the whole frame ----------------------------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> list[HandDetection]:
        """MediaPipe's hands in an RGB image (H,W,3): the first stage, separate so a pipeline can run it in its
        own thread. Pass the result to ``solve``."""
        return self.detector.detect(check_image(image))

    def __call__(self, image: np.ndarray, camera=None, timestamp: float | None = None) -> list[HandResult]:
        """The hands in one RGB image; ``camera``: a Camera, (fx, fy, cx, cy) or 3x3 K (default field of view)."""
        image = check_image(image)
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        return self.solve(image, detections, camera, timestamp, detect_ms=(time.perf_counter() - t0) * 1000)

    def solve(self, image: np.ndarray, detections: list, camera=None, timestamp: float | None = None,
              detect_ms: float = 0.0, second_view: SecondView | None = None) -> list[HandResult]:
        """Hands from ``detect``'s detections in ``image``, through the stages. ``camera`` as in ``__call__``;
        ``timestamp`` seconds (video smoothing); ``second_view``: the other camera of a stereo pair, whose image
        also feeds the texture."""
        image = check_image(image)
        camera = Camera.coerce(camera, image.shape[1], image.shape[0])
        timestamp = self._frame / 30.0 if timestamp is None else timestamp
        self._frame += 1
        states = [HandState(side, det, camera, self.models[side]) for side, det in self.assign_sides(detections)]
        for st in states:
            st.timings_ms["detect"] = detect_ms / max(len(detections), 1)
            self._timed(st, "handnet", self.estimate, image)
            self._timed(st, "fit", self.fit)
            self._timed(st, "smooth", self.smooth, timestamp)
            self._timed(st, "mask", self.mask, image)
            self._timed(st, "refine", self.refine)
            st.posed()  # the mesh, for the texture and the result (posing is not a stage of its own)
            self._timed(st, "texture", self.texture, image, second_view)
        self.forget_lost({st.side for st in states})
        return [st.result() for st in states]

    @staticmethod
    def _timed(st: HandState, name: str, stage, *args):
        t = time.perf_counter()
        if stage(st, *args):
            st.timings_ms[name] = (time.perf_counter() - t) * 1000

    # -- the stages (each returns whether it ran) -----------------------------------------------------------------
    @staticmethod
    def assign_sides(detections: list) -> list[tuple[str, HandDetection]]:
        """Each detection's hand model: its handedness, except that two hands called the same keep the more
        confident one's label (MediaPipe lists it first) and the other gets the other side."""
        out, seen = [], set()
        for det in detections:
            side = det.handedness
            if side in seen:
                side = "left" if side == "right" else "right"
            seen.add(side)
            out.append((side, det))
        return out

    def estimate(self, st: HandState, image: np.ndarray) -> bool:
        """HandNet's MANO estimate and mask, when HandNet gives the pose or the mask."""
        if self.handnet is None or (self.regressor == "fit" and self.mask_source != "handnet"):
            return False
        st.estimate = self.handnet.predict(image, st.detection.keypoints_2d, st.side, st.camera, st.model)
        return True

    def fit(self, st: HandState) -> bool:
        """The parameters: HandNet's estimate as it is (regressor "net"), or the keypoint fit started from the
        previous frame (video), from HandNet's estimate (a short fit: the hybrid) or from scratch."""
        det, model = st.detection, st.model
        if self.regressor == "net":
            dt = model.v_template.dtype
            st.set_params({k: torch.as_tensor(np.asarray(v), dtype=dt).reshape(1, -1)
                           for k, v in st.estimate.params.items()})
            st.reprojection_px = _reprojection(model, st.params, det.keypoints_2d, st.camera)
        else:
            init = self._previous.get(st.side) if self.video else None
            hybrid = init is None and st.estimate is not None and self.regressor == "handnet"
            if hybrid:
                init = {k: np.asarray(v)[None] for k, v in st.estimate.params.items()}
            fit = self.fitters[st.side].fit(det.keypoints_2d[None], st.camera.K[None], det.world_landmarks[None],
                                            init=init)
            st.set_params({k: getattr(fit, k) for k in MANO_PARAM_NAMES})
            st.reprojection_px = float(fit.reprojection_px[0])
        if self.video:
            self._previous[st.side] = st.params  # the next frame starts here (unsmoothed)
        return True

    def smooth(self, st: HandState, timestamp: float) -> bool:
        """One Euro filter over the flattened parameters (video mode)."""
        if self.smoothing is None:
            return False
        flt = self._filters.setdefault(st.side, OneEuroFilter(*self.smoothing))
        flat = torch.cat([st.params[k][0] for k in MANO_PARAM_NAMES])
        sm = torch.as_tensor(flt(flat.numpy(), timestamp), dtype=flat.dtype)
        st.set_params({k: sm[None, PARAM_SLICES[k]] for k in MANO_PARAM_NAMES})
        return True

    def mask(self, st: HandState, image: np.ndarray) -> bool:
        """The hand's silhouette from the chosen source (``self.mask_source``)."""
        if self.mask_source == "none":
            return False
        if self.mask_source == "handnet":
            st.mask = st.estimate.mask  # it came with the estimate
        else:
            from .perception.segment import grabcut_mask, hsv_skin_mask

            st.mask = grabcut_mask(image, st.detection.keypoints_2d) if self.mask_source == "grabcut" \
                else hsv_skin_mask(image)
        return True

    def refine(self, st: HandState) -> bool:
        """Silhouette refinement of the parameters and per-vertex offsets against the mask; a diverged
        refinement keeps the hand as it was."""
        if not self.cfg.refine_iterations or st.mask is None:
            return False
        from .refine.silhouette import RefineConfig, SilhouetteRefiner

        if st.side not in self._refiners:
            self._refiners[st.side] = SilhouetteRefiner(st.model, RefineConfig(iterations=self.cfg.refine_iterations))
        r = self._refiners[st.side].refine({k: v[0].numpy() for k, v in st.params.items()}, [st.mask], [st.camera])
        if not r.diverged:
            st.set_params(r.params, r.vertex_offsets)
            st.refined = True
        return True

    def texture(self, st: HandState, image: np.ndarray, second_view: SecondView | None = None) -> bool:
        """The image (and the second view's) projected into the hand's UV atlas and fused with earlier frames."""
        if not self.cfg.texture_size:
            return False
        from .texture import combine, observe

        fusion = self._fusion(st.side)
        vertices, faces = st.posed().vertices[0], st.model.faces_tensor
        obs = observe(fusion.atlas, vertices, faces, st.camera, image, mask=st.mask)
        if second_view is not None:
            pair = second_view.pair
            obs = combine([obs, observe(fusion.atlas, pair.to_right(vertices), faces, pair.right, second_view.image)])
        fusion.update(obs)
        st.texture_version = fusion.version
        return True

    def forget_lost(self, seen: set[str]) -> None:
        """A hand that left the view starts cold next time."""
        for side in list(self._previous):
            if side not in seen:
                self._previous.pop(side)
                self._filters.pop(side, None)

    def _fusion(self, side: str):
        from .texture import TextureFusion, UVAtlas

        if side not in self.textures:
            self.textures[side] = TextureFusion(UVAtlas.for_model(self.models[side].data, self.cfg.texture_size),
                                                self.cfg.texture_alpha)
        return self.textures[side]


def _reprojection(model: HandModel, params: dict, keypoints_2d: np.ndarray, camera: Camera) -> float:
    """Mean distance (px) between the model's projected keypoints and the detected ones."""
    with torch.no_grad():
        kp = model.keypoints(*(params[k] for k in MANO_PARAM_NAMES))[0]
    return float(np.linalg.norm(camera.project(kp.numpy()) - keypoints_2d, axis=1).mean())


_default: Reconstructor | None = None


def reconstruct(image: np.ndarray, camera=None) -> list[HandResult]:
    """Reconstruct the hands in one RGB uint8 image (H,W,3). ``camera``: a realhands.Camera, (fx, fy, cx, cy) in
    pixels or a 3x3 K; None for the default field of view. Returns [] when no hand is found."""
    global _default
    if _default is None:
        _default = Reconstructor()
    return _default(image, camera)

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
    fit       the keypoint fit from the previous frame (video), else from scratch, with HandNet's articulation and
              shape as the start when HandNet is used (the hybrid); or HandNet's estimate as it is (regressor "net")
    smooth    One Euro filter over the parameters (video)
    mask      the hand's silhouette, by the mask policy (``ReconstructConfig.mask_source`` in realhands.config)
    refine    silhouette refinement against the mask (``refine_iterations``)
    texture   the image projected into the hand's UV atlas and fused over frames and views (``texture_size``)

The choices (regressor, mask, refinement, texture, smoothing) and what "auto" means are defined once in
realhands.config.ReconstructConfig; ``Reconstructor(**choices)`` takes its fields as keyword arguments.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from .camera import Camera, StereoPair
from .config import ReconstructConfig
from .conventions import MANO_PARAM_NAMES, SIDES
from .errors import ConfigError
from .fit.keypoint_fit import FitWeights, KeypointFitter, View
from .fit.kinematics import KeypointKinematics, rodrigues
from .fit.landmarks import landmark_offsets
from .fit.smoothing import OneEuroFilter, quaternion_to_rotvec, rotvec_to_quaternion
from .model import HandModel, model_fingerprint
from .perception.mediapipe_hands import HandDetection, HandDetector, mirror_world
from .perception.tracking import HandTracker, Track, hand_size_px, match_views

#: Stereo fits a side's shape is measured over before it is held (about a second of tracking at 30 fps).
SHAPE_CALIBRATION_FRAMES = 30
#: Video: a warm-started fit whose keypoints miss the detections by more than this share of the hand's size in the
#: image (mean px; a good fit: ~0.03) is redone from the cold start.
REFIT_SHARE = 0.08
#: Video: after a cold restart that lost to the warm fit it redid (the warm fit kept), the hand is not restarted for
#: this many frames: its keypoints are what the warm fit misses (MediaPipe's reading), not the fit. On 12 tuning
#: sequences (stereo, MediaPipe's detections cached, every frame) half the two-view restarts were such (51 of 100);
#: with 5 frames of rest 58 restarts ran instead of 100, the reconstruction's p95 per frame 22.1 -> 10.4 ms, accuracy
#: level (absolute / root-relative 22.12 / 22.46 -> 22.10 / 22.48 mm; 3 frames: 64 restarts, 22.06 / 22.43). One view's
#: restarts (from HandNet's articulation) practically never lose (0 of 27 on the benchmark's sequences).
RESTART_REST_FRAMES = 5
#: Video, one view: a cold restart within this many frames of the hand's last one (frames reconstructed: live, with
#: frames dropped between them, the captured frames apart may be more) starts from the HandNet estimate made for that
#: one instead of running the network again (~13 ms). Restarts come in runs where the hand moves fast,
#: and on 2 cores each one-view restart (HandNet, then 10 + 40 iterations: ~65 ms with MediaPipe) held up the frames
#: behind it: on the live clip (`tools.bench.live`, mono) the frame behind a run of restarts was dropped in each of
#: four runs, and in none of seven with this (every frame published); accuracy level (the clip, every frame,
#: absolute / root-relative / PA: 59.2 / 35.2 / 16.0 -> 57.3 / 34.3 / 16.0 mm; MediaPipe's detections cached, the 12
#: tuning sequences 65.6 / 29.0 / 12.5 -> 65.6 / 29.0 / 12.5, the benchmark's six 62.0 / 34.6 / 12.9 -> 62.4 / 34.7 /
#: 12.9; docs/live.md)
HANDNET_REUSE_FRAMES = 1
#: a new hand fitted as both sides takes the other side than the one MediaPipe named only when that fit's loss is
#: below this share of the named side's: chirality is weakly observable for a small, far hand (a mirrored hand at
#: another depth projects almost the same), and a coin flip there is worse than MediaPipe's label
SIDE_MARGIN = 0.8
#: On a tracked hand whose side is held, a view where MediaPipe names the other side has mostly misplaced its
#: keypoints (it fitted a mirrored hand to the image): on the stereo benchmark's sequences they lie 0.2-0.8 palm
#: lengths from the truth, against 0.03-0.1 in views that name the side, except the wrist and the middle knuckle
#: (0.19 and 0.14). Such a view gives only these to the fit; when no view names the side, the hand keeps its
#: articulation and orientation from the previous frame and is only placed (``HandResult.pose_held``).
ANCHOR_KEYPOINTS = (0, 9)
#: Video smoothing filters the finger joints' rotations scaled by this, so that the One Euro filter's speed term
#: follows fast gestures (the hand's placement keeps the filter as configured)
SMOOTH_POSE_SCALE = 10.0
#: ... and the hand's orientation (quaternion) scaled by this: unscaled, a waving hand (~2 rad/s) kept the cut-off
#: near its minimum and the filtered hand lagged the turn (stereo benchmark, `wave`: root-relative 25 -> 20 mm with
#: it; all six sequences 20.6 -> 19.9 mm, jitter 4.5 -> 4.8 mm/frame², raw fit 21). The wrist's position is filtered
#: in metres as configured: scaled up as well it lagged less but jittered twice as much.
SMOOTH_ORIENT_SCALE = 10.0
#: Real time (the live process, ``realtime_threads``): torch's intra-op threads. MediaPipe's graph works on the other
#: core of a 2-core machine (in its own thread, at the same time); torch's default (a thread per core) made the mesh's
#: posing (~1 ms) take 3-4 ms on average with a long tail, the whole mono frame 27.7 -> 22.5 ms (same frames,
#: 2026-11-27). Elsewhere torch keeps its default (refinement's autograd is heavier and has the machine to itself).
REALTIME_TORCH_THREADS = 1
#: Real time: NumPy's BLAS (OpenBLAS) threads. With its default (a thread per core) its idle worker spins on
#: sched_yield after every threaded product and kept ~0.6 of a core busy in the kernel: the mono live pipeline used
#: 8.2 s of CPU (2.8 of it system time) for 5 s of video, 5.4 s (0.2) with one thread (2026-11-27, docs/live.md).
REALTIME_BLAS_THREADS = 1
#: the stereo pair's other view has no mask of its own (HandNet runs on the reference view): its texture
#: observations count this much, so they fill what the reference view did not see well rather than overwrite it
#: (tools.bench.texture --kind turn, pipeline stereo, 90 frames: see docs/refinement.md)
SECOND_VIEW_TEXTURE_WEIGHT = 0.5


@contextmanager
def realtime_threads():
    """torch's intra-op threads set to REALTIME_TORCH_THREADS and NumPy's BLAS threads to REALTIME_BLAS_THREADS
    while inside, restored after: around a real-time pipeline. Set it before the pipeline's threads start (a thread
    that already ran parallel torch work keeps its own pool)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    if before > REALTIME_TORCH_THREADS:
        torch.set_num_threads(REALTIME_TORCH_THREADS)
    try:
        with threadpool_limits(limits=REALTIME_BLAS_THREADS, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


@dataclass
class SecondView:
    """The other camera of a stereo pair: its RGB image (H,W,3) uint8, the pair (``pair.right`` is this view's
    camera, ``pair.T_right_from_left`` its pose relative to the first view's) and, for the stereo fit, MediaPipe's
    detections in it (``Reconstructor.detect(image, view=1)``; None: the view feeds only the texture)."""

    image: np.ndarray
    pair: StereoPair
    detections: list | None = None


@dataclass
class TextureJob:
    """One hand's texture view, left by ``solve`` for ``run_texture_job`` (``Reconstructor.defer_textures``): what
    the texture stage reads, taken at the frame. ``vertices`` (V,3) the posed mesh, m, in the first view's camera;
    ``views``: which of the frame's views it takes in (0 the first, with ``mask`` or one made from ``keypoints_2d``;
    1 the stereo pair's other, ``second_view``)."""

    side: str
    vertices: torch.Tensor
    camera: Camera
    image: np.ndarray
    keypoints_2d: np.ndarray
    views: list
    second_view: SecondView | None = None
    mask: np.ndarray | None = None
    generation: int = 0  # the side's texture generation it was taken for: a job outlived by a reset is dropped
    key: object = None  # the hand's key (its track's id in video; None for images)


@dataclass
class HandResult:
    """One reconstructed hand. Camera coordinates (OpenCV axes), metres; keypoint order."""

    handedness: str
    score: float
    keypoints_2d: np.ndarray  # (21,2) px, detected
    joints_3d: np.ndarray  # (21,3) the hand model's skeleton: joints and fingertip vertices
    vertices: np.ndarray  # (V,3)
    mano: dict  # global_orient (3), hand_pose (45, absolute), betas (10), transl (3): float64 arrays
    reprojection_px: float
    timings_ms: dict = field(default_factory=dict)
    mask: np.ndarray | None = None  # (H,W) bool when a mask source is chosen
    refined: bool = False  # silhouette refinement ran and was kept (not diverged)
    texture_version: int | None = None  # version of this hand's fused texture (Reconstructor.textures)
    vertex_offsets: np.ndarray | None = None  # (V,3) rest-space offsets from refinement, metres (None: none)
    views: int = 1  # camera views the fit used: 2 for a stereo fit, 1 for one view (a stereo pair that lost it)
    track_id: int | None = None  # video: the hand's track (its side is held while it stays in view)
    #: video: no view's detection named the hand's held side (MediaPipe saw a mirrored hand), so the articulation and
    #: orientation were kept from the previous frame and only the placement was fitted (to the wrist and knuckle)
    pose_held: bool = False
    #: (21,3) the keypoints where MediaPipe and hand datasets mark them (wrist crease, fingertip pads, knuckles
    #: on the back of the hand): the skeleton moved by the landmark offsets (realhands.fit.landmarks); the same
    #: as joints_3d without offsets. Compare these with annotated photos, joints_3d with the model's own joints.
    landmarks_3d: np.ndarray | None = None

    def __post_init__(self):
        if self.landmarks_3d is None:
            self.landmarks_3d = self.joints_3d

    def to_json(self, with_vertices: bool = True) -> dict:
        d = {"handedness": self.handedness, "score": round(self.score, 4), "views": self.views,
             "track_id": self.track_id, "pose_held": self.pose_held,
             "keypoints_2d": np.round(self.keypoints_2d, 2).tolist(),
             "joints_3d": np.round(self.joints_3d, 5).tolist(),
             "landmarks_3d": np.round(self.landmarks_3d, 5).tolist(),
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
    second: HandDetection | None = None  # the same hand in the stereo pair's other view
    track: Track | None = None  # video mode
    params: dict | None = None  # global_orient (1,3), hand_pose (1,45), betas (1,10), transl (1,3) tensors
    estimate: object | None = None  # realhands.net.infer.HandNetEstimate
    reprojection_px: float = float("nan")
    objective: float = float("nan")  # the fit's final loss (KeypointFitter: FitResult.objective)
    mask: np.ndarray | None = None
    vertex_offsets: torch.Tensor | None = None  # (1,V,3) from refinement
    refined: bool = False
    texture_version: int | None = None
    views: int = 1
    pose_held: bool = False  # see HandResult.pose_held
    trusted_reference: bool = True  # the first view's detection names the hand's side (or it is not decided)
    trusted_views: int = 1  # views whose every keypoint the fit took (not reduced to ANCHOR_KEYPOINTS)
    texture_due: bool = True  # this frame feeds the texture (video: at texture_fuse_hz), so the mask is wanted
    #: video with a stereo pair: which camera's view the texture takes in this time (0: the reference, with the mask;
    #: 1: the other); the views take turns (TextureFusion of both at once: still images)
    texture_view: int = 0
    timings_ms: dict = field(default_factory=dict)
    _output: object | None = None

    @property
    def key(self):
        """What the hand's state between frames is kept under: its track, else its side."""
        return self.track.id if self.track is not None else self.side

    def set_params(self, params: dict, vertex_offsets: torch.Tensor | None = None):
        self.params, self.vertex_offsets, self._output = params, vertex_offsets, None

    def posed(self):
        """The hand model posed by the current parameters (realhands.model.HandOutput), computed once."""
        if self._output is None:
            with torch.no_grad():
                self._output = self.model(**self.params, vertex_offsets=self.vertex_offsets)
        return self._output

    def result(self, landmarks: KeypointKinematics | None = None) -> HandResult:
        """The hand's result; ``landmarks``: its model's keypoints with their landmark offsets (a fitter's
        ``constants.kin``, for ``landmarks_3d``), or None."""
        out = self.posed()
        offsets = None if self.vertex_offsets is None else \
            self.vertex_offsets[0].detach().cpu().numpy().astype(np.float64)
        mano = {k: v[0].numpy().astype(np.float64) for k, v in self.params.items()}
        if landmarks is not None:
            landmarks = landmarks.forward(np.concatenate([mano["global_orient"], mano["hand_pose"]]).reshape(16, 3),
                                          mano["betas"], mano["transl"])
        return HandResult(
            handedness=self.side, score=self.detection.score, keypoints_2d=self.detection.keypoints_2d,
            joints_3d=out.keypoints[0].numpy().astype(np.float64),
            vertices=out.vertices[0].numpy().astype(np.float64),
            mano=mano,
            reprojection_px=self.reprojection_px, timings_ms=self.timings_ms, mask=self.mask, refined=self.refined,
            texture_version=self.texture_version, vertex_offsets=offsets, views=self.views,
            track_id=None if self.track is None else self.track.id, landmarks_3d=landmarks, pose_held=self.pose_held)


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
        self.detector = self._make_detector()
        self._detector2 = None  # the stereo pair's other view (its own tracking state), made on first use
        self._pair_pool = None  # a thread for the other view's MediaPipe (detect_pair)
        self.tracker = HandTracker() if video else None
        self.models = {s: HandModel(side=s, model_path=model_path, flat_hand_mean=True) for s in SIDES}
        offsets = {s: landmark_offsets(m) if cfg.landmark_offsets else None for s, m in self.models.items()}
        self.fitters = {s: KeypointFitter(m, FitWeights(handnet_3d=cfg.handnet_weight), landmark_offsets=offsets[s],
                                          solver=cfg.fit_solver)
                        for s, m in self.models.items()}
        #: what a user should know about this set-up, one line each (the CLI and the live process print them)
        self.notes: list[str] = []
        missing = [s for s in SIDES if cfg.landmark_offsets and offsets[s] is None and self.regressor != "net"]
        if missing:
            self.notes.append(
                f"note: no landmark offsets were measured for this hand model ({', '.join(missing)}: "
                f"{', '.join(model_fingerprint(self.models[s]) for s in missing)}), so MediaPipe's keypoints are "
                "fitted to the skeleton's joints as they are (on our model the offsets are worth 0.8 mm PA-MPJPE on "
                "real photos, docs/perception_fit.md); measure them once for this model with `python -m "
                "tools.build.landmark_offsets --model-path MODEL` (it adds them to the offsets the fit reads)")
        self.textures = {}  # per handedness: realhands.texture.TextureFusion, built on first use
        self._refiners = {}  # per handedness, built on first use (mesh topology is computed once)
        self._previous: dict = {}  # video: each hand's last fitted (unsmoothed) parameters, by track
        self._restart_rest: dict = {}  # video: by track, the last frame of its rest from restarts (RESTART_REST_FRAMES)
        self._restart_estimate: dict = {}  # video: by track, (frame, HandNet's estimate) of its last one-view restart
        self._filters: dict = {}
        self.shapes: dict[str, np.ndarray] = {}  # side -> the user's calibrated shape (10,), held once measured
        self._shape_samples: dict[str, list] = {s: [] for s in SIDES}  # the calibration fits' shapes (10,)
        self._states: list[HandState] = []  # the hands of the frame being solved
        self._textured: dict[str, float] = {}  # video: when each side's texture last took in a view (s)
        #: video: the least time between a side's texture views (s), besides texture_fuse_hz's; the live pipeline's
        #: texture stage raises it to keep within its CPU share (LiveConfig.texture_cpu_share)
        self.texture_min_interval_s = 0.0
        #: None: each due texture view is fused in its frame; a list: ``solve`` leaves them here (defer_textures)
        self.texture_jobs: list | None = None
        #: held while a fusion, a reset or a snapshot reads or writes the textures (the texture stage is another thread)
        self.texture_lock = threading.Lock()
        self._texture_turn: dict[str, int] = {}  # video, stereo: which view each side's texture takes in next
        self._texture_generation: dict[str, int] = dict.fromkeys(SIDES, 0)  # each side's, raised by a reset of it
        #: video: per side, (the hand whose views it has fused since, the texture before that hand's first view): a
        #: track reopened as the other side takes back what it fed (Reconstructor.disown)
        self._texture_checkpoint: dict[str, tuple] = {}
        self._last_timestamp = 0.0
        self._frame = 0
        self.hands: dict = {}  # side -> the user's saved hand (realhands.personal.PersonalHand), loaded
        self._held_offsets: dict[str, torch.Tensor] = {}  # side -> its vertex offsets (1,V,3), when it has them
        if cfg.hands:
            from .personal import PersonalHand

            for path in cfg.hands:
                self.load_hand(PersonalHand.load(path))

    def load_hand(self, hand) -> None:
        """Start from the user's saved hand (``realhands.personal.PersonalHand``, from ``realhands capture-hand``):
        its shape is held from the first frame (the engine's rig is right at once), its texture is published
        from the first frame as it is (live views do not change it), its vertex offsets are applied when
        refinement does not give its own."""
        from .errors import PersonalHandError

        hand.check_model(self.models[hand.side])
        if hand.side in self.hands and self.hands[hand.side] is not hand:
            raise PersonalHandError(f"two personal hands for the {hand.side} hand: give one per side")
        self.hands[hand.side] = hand
        self._apply_hand(hand)

    def _apply_hand(self, hand) -> None:
        self.shapes[hand.side] = hand.betas.copy()
        hand.fill_fusion(self._fusion(hand.side, self.cfg.texture_size or hand.texture_size))
        if hand.vertex_offsets is not None:
            self._held_offsets[hand.side] = torch.as_tensor(hand.vertex_offsets,
                                                            dtype=self.models[hand.side].v_template.dtype)[None]

    def reset(self):
        """Forget the previous frames (start of a new video or user), fused textures and calibrated shapes
        included."""
        self._previous.clear()
        self._filters.clear()
        self._restart_rest.clear()
        self._restart_estimate.clear()
        self.shapes.clear()
        for samples in self._shape_samples.values():
            samples.clear()
        if self.tracker is not None:
            self.tracker.reset()
        self._textured.clear()
        self._texture_turn.clear()
        self._frame = 0
        with self.texture_lock:
            self._texture_checkpoint.clear()
            for fusion in self.textures.values():
                fusion.reset()
            for side in self._texture_generation:  # a deferred job taken before the reset is not fused after it
                self._texture_generation[side] += 1
        for hand in self.hands.values():  # the user's saved hand is where every video starts
            self._apply_hand(hand)

    def warm_up(self, views: int = 1) -> None:
        """Pay one-off costs now: MediaPipe's first run (in each of ``views`` views: 2 for a stereo source), HandNet's
        first runs (with and without its mask), the texture atlases, one fit per hand. Without it the live stereo
        pipeline's first frame took ~250 ms (the second view's MediaPipe graph made on the spot, HandNet's sessions
        run for the first time) and the five frames behind it were dropped."""
        blank = np.zeros((64, 64, 3), np.uint8)
        for view in range(views):
            self.detect(blank, view=view)
        cam = Camera(500.0, 500.0, 320.0, 240.0, 640, 480)
        for side, model in self.models.items():  # the first fit pays torch's one-off costs
            with torch.no_grad():
                kp = model(transl=torch.tensor([[0.0, 0.0, 0.5]])).keypoints[0].numpy().astype(np.float64)
            self.fitters[side].fit(cam.project(kp)[None], cam.K[None])
        if self.handnet is not None:
            side, model = next(iter(self.models.items()))
            with torch.no_grad():
                kp = cam.project(model(transl=torch.tensor([[0.0, 0.0, 0.5]])).keypoints[0].numpy().astype(np.float64))
            image = np.zeros((cam.height, cam.width, 3), np.uint8)
            for mask in (False, True):
                self.handnet.predict(image, kp, side, cam, hand_model=model, mask=mask)
        if self.cfg.texture_size:
            for side in self.models:
                self._fusion(side)

    def close(self):
        if self._pair_pool is not None:
            self._pair_pool.shutdown(wait=True)
        self.detector.close()
        if self._detector2 is not None:
            self._detector2.close()

    def _make_detector(self) -> HandDetector:
        """One view's MediaPipe: video mode tracks between frames and looks for new hands at its own cadence."""
        return HandDetector(static_image_mode=not self.video, max_num_hands=self.cfg.max_hands,
                            mirrored=self.cfg.mirrored, palm_search_frames=self.cfg.palm_search_frames)

    # -- the whole frame ----------------------------------------------------------------------------------------
    def detect(self, image: np.ndarray, view: int = 0) -> list[HandDetection]:
        """MediaPipe's hands in an RGB image (H,W,3): the first stage, separate so a pipeline can run it in its
        own thread. Pass the result to ``solve``. ``view`` 1: the other view of a stereo pair (its own detector,
        so that tracking in video mode follows each view)."""
        if view == 0:
            return self.detector.detect(check_image(image))
        if self._detector2 is None:
            self._detector2 = self._make_detector()
        return self._detector2.detect(check_image(image))

    def detect_pair(self, left: np.ndarray, right: np.ndarray) -> tuple[list[HandDetection], list[HandDetection]]:
        """Both views of a stereo frame at once: the two MediaPipe graphs run in two threads (it leaves Python's
        lock while it works: 26 against 15 ms per pair on the 2-core machine). Same results as ``detect`` twice."""
        if self._pair_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pair_pool = ThreadPoolExecutor(1, thread_name_prefix="realhands-detect-right")
        right_done = self._pair_pool.submit(self.detect, right, 1)
        try:
            left_found = self.detect(left)
        finally:
            right_found = right_done.result()
        return left_found, right_found

    def __call__(self, image: np.ndarray, camera=None, timestamp: float | None = None) -> list[HandResult]:
        """The hands in one RGB image; ``camera``: a Camera, (fx, fy, cx, cy) or 3x3 K (default field of view)."""
        image = check_image(image)
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        return self.solve(image, detections, camera, timestamp, detect_ms=(time.perf_counter() - t0) * 1000)

    def solve(self, image: np.ndarray, detections: list, camera=None, timestamp: float | None = None,
              detect_ms: float = 0.0, second_view: SecondView | None = None) -> list[HandResult]:
        """Hands from ``detect``'s detections in ``image``, through the stages. ``camera`` as in ``__call__``;
        ``timestamp`` seconds (video smoothing); ``second_view``: the other camera of a stereo pair: its image
        feeds the texture and, with its detections, the fit uses both views."""
        image = check_image(image)
        camera = Camera.coerce(camera, image.shape[1], image.shape[0])
        timestamp = self._frame / 30.0 if timestamp is None else timestamp
        self._frame += 1
        self._last_timestamp = timestamp
        seconds = self.match_views(detections, second_view)
        states = [HandState(side, det, camera, self.models[side], second=second, track=track)
                  for side, det, track, second in self.assign_sides(detections, seconds)]
        self._states = states
        for st in states:
            st.timings_ms["detect"] = detect_ms / max(len(detections), 1)
            if st.side in self.hands:  # the user's saved hand keeps its texture: no view, and so no mask, for it
                st.texture_due = False
            elif self.video and self.cfg.texture_size:
                interval = max(1.0 / self.cfg.texture_fuse_hz, self.texture_min_interval_s)
                st.texture_due = timestamp - self._textured.get(st.side, -np.inf) >= interval
                st.texture_view = self._texture_turn.get(st.side, 0) if second_view is not None else 0
            self._timed(st, "handnet", self.estimate, image, True)
            self._timed(st, "fit", self.fit, image, second_view)
            self._timed(st, "smooth", self.smooth, timestamp)
            self._timed(st, "mask", self.mask, image)
            self._timed(st, "refine", self.refine)
            if st.vertex_offsets is None and st.side in self._held_offsets:  # the saved hand's detail
                st.set_params(st.params, self._held_offsets[st.side])
            st.posed()  # the mesh, for the texture and the result (posing is not a stage of its own)
            self._timed(st, "texture", self.texture, image, second_view)
        self.forget_lost({st.key for st in states})
        return [st.result(None if self.fitters[st.side].offsets is None else self.fitters[st.side].constants.kin)
                for st in states]

    @staticmethod
    def _timed(st: HandState, name: str, stage, *args):
        t = time.perf_counter()
        if stage(st, *args):
            st.timings_ms[name] = (time.perf_counter() - t) * 1000

    # -- the stages (each returns whether it ran) -----------------------------------------------------------------
    @staticmethod
    def match_views(detections: list, second_view: SecondView | None) -> list:
        """Per detection, the same hand's detection in the stereo pair's other view (epipolar geometry), or
        None (no second view, or that camera does not see the hand: the fit then uses one view)."""
        if second_view is None or not second_view.detections:
            return [None] * len(detections)
        idx = match_views(detections, second_view.detections, second_view.pair)
        return [None if j is None else second_view.detections[j] for j in idx]

    def assign_sides(self, detections: list, seconds: list | None = None) -> list[tuple]:
        """The hands to reconstruct: (side, detection, track or None, the other view's detection or None). Video:
        a hand keeps the side decided when it appeared (perception.tracking), whatever MediaPipe says later, and
        MediaPipe's duplicates of a tracked hand are dropped. Unrelated images: MediaPipe's handedness, except that
        two hands called the same keep the more confident one's label (listed first) and the other gets the other
        side."""
        seconds = seconds or [None] * len(detections)
        if self.tracker is not None:
            tracks = self.tracker.update(detections, [None if s is None else s.handedness for s in seconds])
            for t in tracks:
                if t is not None and t.reopened:  # its side is to be settled again: no start from the other side
                    self._previous.pop(t.id, None)
                    self._filters.pop(t.id, None)
                    self._restart_rest.pop(t.id, None)  # (t.reopened stays until its fit settles the side)
                    self._restart_estimate.pop(t.id, None)
            return [(t.side, det, t, sec) for t, det, sec in zip(tracks, detections, seconds, strict=True)
                    if t is not None]
        out, seen = [], set()
        for det, sec in zip(detections, seconds, strict=True):
            side = det.handedness
            if side in seen:
                side = "left" if side == "right" else "right"
            seen.add(side)
            out.append((side, det, None, sec))
        return out

    def _starts_from_handnet(self, st: HandState) -> bool:
        """Whether a cold fit of ``st`` (acquisition, restart) starts from HandNet's articulation: with the hybrid,
        in one view, or for an image. In video a hand seen in two views starts from its triangulated keypoints with
        the mean gesture instead (restarts: as accurate, a third of the time; acquisitions: level in accuracy on the
        stereo benchmark and 12 tuning sequences, 25-75 ms shorter; docs/live.md)."""
        return self.regressor == "handnet" and (st.second is None or not self.video)

    def estimate(self, st: HandState, image: np.ndarray, when_needed: bool = False) -> bool:
        """HandNet's MANO estimate and mask, when HandNet gives the pose or the mask. ``when_needed`` (video): only
        when this frame uses it: the pose of a hand the fit does not follow from the previous frame (regressors
        "handnet" and "net"), or the mask when refinement or the texture (at its cadence) takes it."""
        if self.handnet is None or (self.regressor == "fit" and self.mask_source != "handnet"):
            return False
        mask = self.mask_source == "handnet" and (not self.video or self._wants_mask(st))
        if when_needed and self.video:
            pose = self.regressor == "net" or (self._starts_from_handnet(st) and st.key not in self._previous)
            if not (pose or mask):
                return False
        # the mask only when this frame uses it: without it the network takes half the time (a cold start's pose)
        st.estimate = self.handnet.predict(image, st.detection.keypoints_2d, st.side, st.camera, st.model, mask=mask)
        return True

    def fit(self, st: HandState, image: np.ndarray | None = None, second_view: SecondView | None = None) -> bool:
        """The parameters: HandNet's estimate as it is (regressor "net"), or the keypoint fit (both views when the
        hand is seen in both) started from the previous frame (video), else from scratch with HandNet's articulation
        and shape (the hybrid) or the mean hand's. A new hand whose side MediaPipe was unsure of, or that two views
        see (its chirality is then measurable), is fitted as both sides and keeps the one that explains the
        keypoints better; a calibrated side's shape is held."""
        if self.regressor == "net":
            dt = st.model.v_template.dtype
            st.set_params({k: torch.as_tensor(np.asarray(v), dtype=dt).reshape(1, -1)
                           for k, v in st.estimate.params.items()})
            st.reprojection_px = _reprojection(st.model, st.params, st.detection.keypoints_2d, st.camera)
        else:
            # a side decided in two views, in video: both sides' cold fits stop before their last stage and only the
            # better is finished (to the same result: the acquisition's 180 iterations -> 140). An image fits from
            # two starts, whose better is chosen only after the last stage (KeypointFitter.fit_views)
            deciding = self._decide_side(st, image)
            short = deciding and st.second is not None and self.video
            self._fit_side(st, image, second_view, finish=not short)
            if deciding:
                other = "left" if st.side == "right" else "right"
                trial = HandState(other, st.detection, st.camera, self.models[other], second=st.second, track=None)
                if self._starts_from_handnet(trial) or st.estimate is not None:  # the named side's kind of start
                    # (HandNet's articulation also when this frame made its estimate for a mask)
                    self.estimate(trial, image)
                self._fit_side(trial, image, second_view, finish=not short)
                # the other side explains the keypoints clearly better (its fit's loss, priors and joint limits
                # included: a mirrored hand can match keypoints only by bending wrongly)
                if np.isfinite(trial.objective) and not trial.objective >= SIDE_MARGIN * st.objective:  # (a NaN
                    # loss of the named side loses to any finite one)
                    st.side, st.model, st.estimate, st.views = other, trial.model, trial.estimate, trial.views
                    st.set_params(trial.params)
                    st.reprojection_px, st.objective = trial.reprojection_px, trial.objective
            if short:
                self._fit_from(st, st.params, second_view, resume=True)
            if st.track is not None:
                if not st.track.decided:
                    st.track.settled_views = st.views
                st.track.side, st.track.decided = st.side, True
                held, st.track.reopened = st.track.reopened, None
                if held is not None and held != st.side:  # reopened, and the fit moved it: it was on the wrong side
                    self.disown(st.key, held)
            self.calibrate_shape(st)
        if self.video:
            self._previous[st.key] = st.params  # the next frame starts here (unsmoothed)
        return True

    def _decide_side(self, st: HandState, image) -> bool:
        """Whether to fit ``st`` as both sides: a new track whose side MediaPipe was unsure of, or any hand two
        views see (a new track in video; every hand of an image), unless another hand holds the other side."""
        other = "left" if st.side == "right" else "right"
        if image is None:
            return False
        if st.track is not None:
            return not st.track.decided and (not st.track.certain or st.second is not None) and \
                not self.tracker.holds(other, st.track)
        return st.second is not None and all(o.side != other for o in self._states if o is not st)

    def _fit_side(self, st: HandState, image: np.ndarray | None, second_view: SecondView | None,
                  finish: bool = True) -> None:
        """The keypoint fit of ``st`` as its side: warm from the previous frame (video), else cold (from HandNet's
        articulation and shape with the hybrid, else the mean hand's). A warm fit that no longer
        explains the keypoints (lost in a wrong minimum after fast motion or a bad detection) is redone from
        the cold start, and the better of the two is kept — unless the first view's detection names the other side
        than the hand's held one: a cold start from its keypoints would start from a mirrored reading, or the hand
        rests from restarts after one lost to its warm fit (RESTART_REST_FRAMES). ``finish=False``: a cold fit in
        two views stops before its last stage (``KeypointFitter.fit_views``)."""
        init = self._previous.get(st.key) if self.video else None
        self._fit_from(st, init, second_view, finish=finish or init is not None)
        lost = st.reprojection_px > REFIT_SHARE * hand_size_px(st.detection.keypoints_2d)
        resting = self._restart_rest.get(st.key, -1) >= self._frame
        if init is not None and st.trusted_reference and lost and not resting:
            params, err, views, objective = st.params, st.reprojection_px, st.views, st.objective
            # a hand seen in two views restarts from its triangulated keypoints, short (keypoint_fit.
            # RESTART_ITERATIONS: as accurate, a third of the time); in one view from HandNet's articulation
            if st.estimate is None and image is not None and self._starts_from_handnet(st):
                last = self._restart_estimate.get(st.key)
                if last is not None and self._frame - last[0] <= HANDNET_REUSE_FRAMES:  # a restart just before
                    st.estimate = last[1]  # (no mask: a frame that wants one made its estimate before the fit)
                else:
                    self.estimate(st, image)
                    self._restart_estimate[st.key] = (self._frame, st.estimate)
            self._fit_from(st, None, second_view, restart=True)
            if err <= st.reprojection_px:  # the warm fit was the better: it stays, and the hand rests from restarts
                st.set_params(params)
                st.reprojection_px, st.views, st.objective = err, views, objective
                self._restart_rest[st.key] = self._frame + RESTART_REST_FRAMES

    def _fit_from(self, st: HandState, init: dict | None, second_view: SecondView | None,
                  restart: bool = False, finish: bool = True, resume: bool = False) -> None:
        """One fit of ``st`` from ``init`` (warm) or cold; ``restart``: a cold fit of a tracked hand that the warm
        fit lost (two views: short, KeypointFitter.fit_views); ``finish``, ``resume``: as
        ``KeypointFitter.fit_views``'s (two views; ``resume`` with the cold fit's terms, HandNet's included)."""
        det = st.detection
        # the hybrid: a cold fit whose start takes HandNet's articulation and shape, and the keypoints' orientation
        # and placement (on real photos: PA-MPJPE 9.61 mm with the two starts below, against 10.82 from the mean pose
        # and 13.59 from HandNet's whole estimate with a short fit; docs/RESULTS.md)
        # An image (not video) also fits from the mean hand and keeps the lower loss: two local minima tried where
        # time allows (real photos: PA-MPJPE 9.90 -> 9.61 mm; in video it gained nothing and tripled the frame's
        # cost, docs/perception_fit.md)
        # (In video a hand seen in two views gets no HandNet estimate for its start: _starts_from_handnet)
        articulation = None
        if (init is None or resume) and st.estimate is not None and self.regressor == "handnet":
            # with its per-keypoint sigma: HandNet's keypoints as a term too (FitWeights.handnet_3d)
            articulation = dict(st.estimate.params, joint_sigma_mm=st.estimate.joint_sigma_mm)
        elif restart and st.second is not None and st.key in self._previous:
            # two views restart (HandNet not asked) from the mean gesture and the shape the hand was tracked with (its
            # size does not change when it moves fast: from the mean shape, the clean jump of tests/test_stereo.py
            # came out at root-relative 22.8 mm, from the tracked one at 9.0). HandNet's estimate, when this frame
            # made one for the mask (the texture fused in the frame: the guided capture), is the start instead; the
            # live pipeline fuses in its texture stage in real time and in re-runs alike, so both restart the same
            articulation = {"hand_pose": self.fitters[st.side].mean.numpy(),
                            "betas": np.asarray(self._previous[st.key]["betas"], np.float64).reshape(-1)}
        betas = self.shapes.get(st.side)
        # MediaPipe's 3D landmarks are a hand of the side it named (on synthetic sequences they have the chirality of
        # its label 99 % of the time when the label is right, 60 % when it is wrong). A side being decided (a new
        # hand, an image) is fitted as both sides with its landmarks, mirrored for the other side, so that both
        # fits are judged on the same terms. A track whose side is held drops them when MediaPipe names the other
        # side: of the other chirality more often than not, they would pull the fit into a mirrored pose.
        held_side = st.track is not None and st.track.decided
        world = det.world_landmarks
        if det.handedness != st.side:
            world = None if held_side else mirror_world(world)
        # views naming the other side than the held one give only their anchor keypoints (ANCHOR_KEYPOINTS)
        conf = [None if not held_side or d.handedness == st.side else _ANCHORS
                for d in (det, st.second) if d is not None]
        st.pose_held = init is not None and all(c is not None for c in conf)
        st.trusted_reference = conf[0] is None  # a cold restart starts from the reference view's keypoints
        st.trusted_views = sum(c is None for c in conf)
        if st.second is not None:
            pair = second_view.pair
            views = [View(det.keypoints_2d, st.camera, confidence=conf[0]),
                     View(st.second.keypoints_2d, pair.right, pair.T_right_from_left, confidence=conf[1])]
            fit = self.fitters[st.side].fit_views(views, world, init=init, betas=betas, placement_only=st.pose_held,
                                                  articulation=articulation, also_from_mean=not self.video,
                                                  restart=restart, finish=finish, resume=resume)
            st.views, st.reprojection_px = 2, float(np.mean(fit.extra["reprojection_px"]))
            st.objective = float(fit.objective[0])
        else:
            fit = self.fitters[st.side].fit(det.keypoints_2d[None], st.camera.K[None],
                                            None if world is None else world[None],
                                            None if conf[0] is None else conf[0][None], init=init, betas=betas,
                                            placement_only=st.pose_held, articulation=articulation,
                                            also_from_mean=not self.video)
            st.views, st.reprojection_px = 1, float(fit.reprojection_px[0])
            st.objective = float(fit.objective[0])
        st.set_params({k: getattr(fit, k) for k in MANO_PARAM_NAMES})

    def calibrate_shape(self, st: HandState) -> bool:
        """Video: the user's shape, measured by the first SHAPE_CALIBRATION_FRAMES stereo fits of a side (only two
        views measure a hand's true size) whose every keypoint was taken in both views (no mirrored reading), then
        held: bone lengths stop breathing and the engine's rig is sent once. Still images are unrelated (another
        hand in each, perhaps): nothing is held. (Holding the shape one view measured was tried: docs/live.md.)"""
        if not self.video or st.views < 2 or st.trusted_views < 2 or st.side in self.shapes:
            return False
        samples = self._shape_samples[st.side]
        samples.append(st.params["betas"][0].detach().numpy().astype(np.float64))
        if len(samples) >= SHAPE_CALIBRATION_FRAMES:
            self.shapes[st.side] = np.median(np.stack(samples), axis=0)
        return True

    def stereo_shape(self, side: str) -> np.ndarray | None:
        """The shape two views measured for ``side`` (10,): the held one, else (before it is held) the median of
        the calibration fits so far; None if no two-view fit counted yet (a guided capture that ends early keeps what
        stereo measured)."""
        if side in self.shapes:
            return self.shapes[side]
        return np.median(np.stack(self._shape_samples[side]), axis=0) if self._shape_samples[side] else None

    def smooth(self, st: HandState, timestamp: float) -> bool:
        """One Euro filter (video mode) in the space the user sees: the wrist's position in metres, the hand's
        orientation as a quaternion (no axis-angle wrap-around), the finger joints' rotations and the shape."""
        if self.smoothing is None:
            return False
        mono_hz, stereo_hz, beta = self.smoothing
        cutoff = stereo_hz if st.views >= 2 else mono_hz  # a two-view fit is steadier: its filter follows faster
        if cutoff <= 0:  # (smoothing_stereo_hz = 0) this frame as fitted; the filter starts afresh after it
            self._filters.pop(st.key, None)
            return False
        p = {k: v[0].detach().numpy().astype(np.float64) for k, v in st.params.items()}
        R = rodrigues(p["global_orient"])
        wrist_rest = self._wrist_rest(st.model, p["betas"])
        q = rotvec_to_quaternion(p["global_orient"])
        flt = self._filters.get(st.key)
        if flt is None:
            flt = self._filters[st.key] = OneEuroFilter(cutoff, beta)
        elif flt.value is not None and np.dot(flt.value[:4], q) < 0:
            q = -q  # the same rotation, on the filter's side of the quaternion sphere
        flt.min_cutoff = cutoff
        # the finger joints scaled up: the filter's speed term (beta x speed) then follows fast gestures
        flat = np.concatenate([q * SMOOTH_ORIENT_SCALE, p["hand_pose"] * SMOOTH_POSE_SCALE, p["betas"],
                               p["transl"] + R @ wrist_rest])
        sm = flt(flat, timestamp)
        pose, betas, wrist = sm[4:49] / SMOOTH_POSE_SCALE, sm[49:59], sm[59:62]
        orient = quaternion_to_rotvec(sm[:4])
        dt = st.params["global_orient"].dtype
        go = torch.as_tensor(orient, dtype=dt)[None]
        transl = wrist - rodrigues(orient) @ self._wrist_rest(st.model, betas)
        st.set_params({"global_orient": go, "hand_pose": torch.as_tensor(pose, dtype=dt)[None],
                       "betas": torch.as_tensor(betas, dtype=dt)[None],
                       "transl": torch.as_tensor(transl, dtype=dt)[None]})
        return True

    @staticmethod
    def _wrist_rest(model: HandModel, betas: np.ndarray) -> np.ndarray:
        """The wrist joint in model space for a shape (our model: at the origin; MANO files: not)."""
        J = model.J_template[0].detach().numpy().astype(np.float64)
        dirs = model.J_shapedirs[0, :, :len(betas)].detach().numpy().astype(np.float64)
        return J + dirs @ np.asarray(betas, np.float64)

    def _wants_mask(self, st: HandState) -> bool:
        """Video: whether this frame uses the hand's mask (refinement, or the texture taking in the reference view
        in the frame: a deferred texture view makes its own)."""
        return bool(self.cfg.refine_iterations or (self.cfg.texture_size and st.texture_due and st.texture_view == 0
                                                   and self.texture_jobs is None))

    def mask(self, st: HandState, image: np.ndarray) -> bool:
        """The hand's silhouette from the chosen source (``self.mask_source``); in video only when it is used."""
        if self.mask_source == "none" or (self.video and not self._wants_mask(st)):
            return False
        if self.mask_source == "handnet":
            if st.estimate is None:  # video: not wanted this frame (see estimate)
                return False
            st.mask = st.estimate.mask  # it came with the estimate
        else:
            st.mask = self._image_mask(image, st.detection.keypoints_2d)
        return True

    def _image_mask(self, image: np.ndarray, keypoints_2d: np.ndarray) -> np.ndarray:
        """The mask of the sources that work on the image alone (grabcut, hsv)."""
        from .perception.segment import grabcut_mask, hsv_skin_mask

        return grabcut_mask(image, keypoints_2d) if self.mask_source == "grabcut" else hsv_skin_mask(image)

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
        if not self.cfg.texture_size or st.side in self.hands or not st.texture_due:  # no texture; the user's
            # saved hand (its albedo, captured at 512^2 after refinement, is published as it is: live views, lit
            # and less well registered, would not improve it); or not this frame (video: at texture_fuse_hz)
            st.texture_version = self.textures[st.side].version if st.side in self.textures else None
            return False
        views = [0, 1] if second_view is not None else [0]
        if self.video and second_view is not None:  # one view a time, taking turns: a stereo frame's texture costs
            views = [st.texture_view]  # what a mono one does (docs/live.md)
            self._texture_turn[st.side] = 1 - st.texture_view
        self._textured[st.side] = self._last_timestamp
        job = TextureJob(st.side, st.posed().vertices[0], st.camera, image,
                         np.array(st.detection.keypoints_2d), views, second_view, st.mask,
                         self._texture_generation[st.side], st.key if self.video else None)
        if self.texture_jobs is not None:  # another thread fuses it (defer_textures); this frame goes on at once
            self.texture_jobs.append(job)
            st.texture_version = self.textures[st.side].version if st.side in self.textures else None
            return True
        version = self.run_texture_job(job)  # (in its frame a view is never outlived by a reset)
        st.texture_version = self.textures[st.side].version if version is None else version
        return True

    def defer_textures(self) -> None:
        """From now on ``solve`` does not fuse a due texture view in its frame: it leaves a TextureJob in
        ``texture_jobs``, for ``run_texture_job`` in another thread (the live pipeline's texture stage), so a frame
        that feeds the texture (its mask, projection and fusion, ~30 ms a view on 2 cores) is published as fast as
        any other. The fused textures are then that thread's to read (a fusion and ``reset`` hold a lock). Not with
        refinement, which needs the mask in the frame."""
        if self.cfg.refine_iterations:
            raise ConfigError("textures cannot be deferred with refinement on (it takes the mask in the frame)")
        self.texture_jobs = []

    def run_texture_job(self, job: TextureJob) -> int | None:
        """Fuse one texture view into its side's atlas (``texture``'s work: the mask of the first view when it has
        none, each view's projection, the fusion); returns the texture's new version, or None when the view was
        dropped (its side's texture was reset or taken back since the view was taken)."""
        from .texture import combine, observe

        mask = job.mask
        if 0 in job.views and mask is None and self.mask_source != "none":
            if self.mask_source == "handnet":
                mask = self.handnet.predict(job.image, job.keypoints_2d, job.side, job.camera,
                                            self.models[job.side]).mask
            else:
                mask = self._image_mask(job.image, job.keypoints_2d)
        fusion = self._fusion(job.side)
        faces, delight = self.models[job.side].faces_tensor, self.cfg.texture_delight
        vertices, obs = job.vertices, []
        if 0 in job.views:
            obs.append(observe(fusion.atlas, vertices, faces, job.camera, job.image, mask=mask, delight=delight))
        if 1 in job.views:
            pair = job.second_view.pair
            o = observe(fusion.atlas, pair.to_right(vertices), faces, pair.right, job.second_view.image,
                        delight=delight)
            obs.append(dataclasses.replace(o, weight=o.weight * SECOND_VIEW_TEXTURE_WEIGHT))
        with self.texture_lock:
            if job.generation != self._texture_generation[job.side]:  # its side was reset since (reset, disown)
                return None
            if job.key is not None and self._texture_checkpoint.get(job.side, (None,))[0] != job.key:
                # another hand's first view of this side: what was fused before it, for disown
                self._texture_checkpoint[job.side] = (job.key, fusion.checkpoint())
            fusion.update(obs[0] if len(obs) == 1 else combine(obs))
            return fusion.version

    def texture_generation(self, side: str) -> int:
        """A count raised whenever ``side``'s texture is reset or taken back (``reset``, ``disown``): a snapshot or a
        queued view of an older generation is of a texture that no longer is."""
        return self._texture_generation[side]

    def disown(self, key, side: str) -> None:
        """Track ``key``, held as ``side`` until now, was settled on the other side: its frames were fitted with
        the wrong model and their texture views projected through that model's (mirrored) UV layout. ``side``'s
        texture goes back to what it was before that track's latest run of views (its first view, unless another
        hand fed the side in between; empty, if no other hand fed it), when no other hand has fed it since; its
        views still queued for the texture stage are dropped. What another hand fused after it cannot be told apart
        and is kept; a saved hand's texture is never touched. (Its shape needs
        no such care: only two views that both name the held side calibrate it, and they settle the side for good,
        perception.tracking.)"""
        if side in self.hands:
            return
        with self.texture_lock:
            mine = self._texture_checkpoint.get(side, (None,))[0] == key
            if mine:
                self.textures[side].rewind(self._texture_checkpoint.pop(side)[1])
            self._texture_generation[side] += 1  # (views of other hands then queued for it are dropped too: a few)
        if mine:
            self._textured.pop(side, None)
            self._texture_turn.pop(side, None)

    def forget_lost(self, seen: set) -> None:
        """A hand that left the view starts cold next time."""
        for key in list(self._previous):
            if key not in seen:
                self._previous.pop(key)
                self._filters.pop(key, None)
        for key in [k for k in self._restart_rest if k not in seen]:
            self._restart_rest.pop(key)
        for key in [k for k in self._restart_estimate if k not in seen]:
            self._restart_estimate.pop(key)

    def _fusion(self, side: str, size: int | None = None):
        from .texture import TextureFusion, UVAtlas

        if side not in self.textures:
            fusion = TextureFusion(UVAtlas.for_model(self.models[side].data, size or self.cfg.texture_size))
            self.textures.setdefault(side, fusion)
        return self.textures[side]


_ANCHORS = np.isin(np.arange(21), ANCHOR_KEYPOINTS).astype(np.float64)


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

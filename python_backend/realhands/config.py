"""The one configuration object of RealHands, loadable from a TOML file and overridable from the command line, and
every choice the pipeline offers, defined once: the API (``Reconstructor``), the config file and the command line
all read the lists and defaults below.

Example ``realhands.toml``::

    output_dir = "out"

    [model]
    path = "~/mano"      # a MANO_RIGHT.pkl/.npz file or a folder holding them; default: see realhands.model.io
    side = "right"

    [reconstruct]        # realhands reconstruct (images, folders, videos) and the Python API
    regressor = "auto"   # auto (= handnet if its weights are installed, else fit) | fit | handnet | net (HandNet alone)
    mask = "auto"        # auto | handnet | grabcut | hsv | none (see ReconstructConfig.mask_source)
    refine_iterations = 0
    max_hands = 2
    palm_search_frames = 10  # video: look for a hand not yet tracked every N frames (1: every frame, MediaPipe's own)
    smoothing_hz = 1.5   # video: One Euro minimum cut-off (0: no smoothing); smoothing_beta = 0.3
    smoothing_stereo_hz = 3.0  # ... for a hand fitted in two views (half as noisy: less lag; smoothing_hz = 0: off too)
    fit_solver = "lbfgs" # the keypoint fit's optimiser: lbfgs | lm (faster, not more accurate: docs/live.md)
    handnet_weight = 0.0 # HandNet's keypoints in the hybrid's fit by its uncertainty (0: start only; docs/handnet.md)

    [stream]
    endpoint = "tcp://127.0.0.1:5555"
    lan = false          # true: bind beyond loopback, admit only `allow`
    allow = []           # subscriber IP addresses admitted in LAN mode
    curve_secret_key = ""  # a zmq.auth .key_secret file: CURVE encryption (LAN mode)
    curve_clients = ""   # folder of admitted clients' .key files (empty: any client that knows the server key)

    [live]               # the live process; takes every [reconstruct] key too (its own values)
    source = "synthetic" # synthetic[:kind] | webcam[:N] | uvc:N | zed | VIDEO | FOLDER | RECORDING.mcap
    stereo = true        # use the second view when the source has one
    refine_iterations = 0
    mask = "auto"
    regressor = "auto"
    texture_size = 256   # 0: no texture
    texture_fuse_hz = 5.0  # views taken into the texture per second (reconstruct: 10)
    texture_cpu_share = 0.15  # real time: the most of one core the texture stage takes (fewer views on a slow CPU)
    texture_hz = 2.0     # texture messages per second per hand, at most
    send_offsets = true  # per-frame vertex offsets on the wire (~17 kB per hand-frame)
    extrapolate_ms = 0   # move tracked hands to their publish time along their motion, at most this far (ms; 0: off)
    realtime = true      # pace file sources at their frame rate, drop what a slow stage cannot take (false: all frames)
    queue_frames = 2     # frames that may wait for a busy stage before the oldest is dropped (1..10)
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import tomllib

from .conventions import SIDES
from .errors import ConfigError

#: Where the hand's silhouette comes from (refinement, texture): "auto" (see ReconstructConfig.mask_source),
#: "handnet" (the network's mask), "grabcut" (keypoint-seeded GrabCut), "hsv" (a skin threshold), "none".
MASK_SOURCES = ("auto", "handnet", "grabcut", "hsv", "none")
#: How a hand's MANO parameters are found: "auto" (the default: "handnet" when HandNet's weights are installed, else
#: "fit"; see ReconstructConfig.regressor_used), "handnet" (the hybrid: the keypoint fit started from HandNet's
#: articulation and shape, turned and placed by the keypoints), "net" (HandNet's estimate as it is, for evaluation),
#: "fit" (the keypoint fit from the mean hand).
REGRESSORS = ("auto", "handnet", "net", "fit")
#: the keypoint fit's optimisers, both on the loss's exact Jacobian (realhands.fit.problem): L-BFGS (torch's
#: algorithm, in NumPy), or Levenberg-Marquardt (realhands.fit.solver)
FIT_SOLVERS = ("lbfgs", "lm")
#: the most a live hand may be extrapolated past its capture (LiveConfig.extrapolate_ms)
MAX_EXTRAPOLATE_MS = 500.0
#: live.queue_frames: more waiting frames would be latency, not smoothness (a third of a second at 30 fps)
MAX_QUEUE_FRAMES = 10
#: live.texture_cpu_share below this would hold the texture to a view every minute or more: no texture, silently
MIN_TEXTURE_CPU_SHARE = 0.01
#: What `realhands reconstruct`, folder and video sources read as images and as videos (lower-case suffixes).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
#: Texture atlas side of `realhands reconstruct --texture` (the live stream's is LiveConfig.texture_size), and the
#: largest any atlas may have.
BATCH_TEXTURE_SIZE = 512
MAX_TEXTURE_SIZE = 4096
#: refine_iterations: more steps than this would take minutes a frame for nothing (the fit changes little past 20)
MAX_REFINE_ITERATIONS = 200


#: The forms a live source takes (LiveConfig.source, ``--source``; realhands.live.sources.open_source reads them).
SOURCE_FORMS = "synthetic[:kind] | webcam[:N] | uvc:N | zed | VIDEO | FOLDER | RECORDING.mcap"


def check_choice(name: str, value, choices: tuple) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ConfigError(f"{name} must be {options}, got {value!r}")
    return value


@dataclass
class ModelConfig:
    path: str | None = None  # model file or folder; None: REALHANDS_MODEL_DIR, ~/.realhands/models, shipped
    side: str = "right"  # handedness used when a command works on one hand

    def __post_init__(self):
        check_choice("side", self.side, SIDES)
        if self.path is not None and not isinstance(self.path, str | Path):
            raise ConfigError(f"path must be a file or folder name (a string), got {self.path!r}")


#: settings of earlier versions, with why they went (a config file naming one gets this as its error)
RETIRED_KEYS = {
    "texture_alpha": "the texture keeps each texel's best views instead of smoothing over the latest ones "
                     "(realhands.texture.fusion)",
}


@dataclass
class ReconstructConfig:
    """The choices of ``realhands.Reconstructor`` (the stages: detect -> estimate -> fit -> smooth -> mask -> refine
    -> texture). ``Reconstructor(**kwargs)`` takes these fields as keyword arguments."""

    regressor: str = "auto"
    mask: str = "auto"
    refine_iterations: int = 0  # silhouette refinement steps against the mask (0: off; docs/refinement.md)
    texture_size: int = 0  # side of each hand's fused UV texture atlas in texels (0: off)
    texture_delight: bool = False  # divide each view's fitted shading out of the texture (realhands.texture.lighting)
    texture_fuse_hz: float = 10.0  # video: how often a hand's texture takes in a new view (its mask then comes too)
    max_hands: int = 2
    #: video: while some but fewer than ``max_hands`` hands are tracked, MediaPipe's palm detector looks for a new one
    #: every this many processed frames (10: a third of a second at 30 fps when every frame is processed) and after a
    #: doubtful reading; 1 is MediaPipe's own behaviour, every frame, which with one hand in view doubles MediaPipe's
    #: cost (realhands.perception.mediapipe_hands). No hand tracked: every frame; max_hands tracked: never
    palm_search_frames: int = 10
    smoothing_hz: float = 1.5  # video: One Euro filter minimum cut-off (Hz); 0 turns smoothing off
    #: video: the minimum cut-off (Hz) for a hand fitted in two views (a stereo pair): that fit jitters half as much
    #: as one view's, so its filter can follow twice as fast for the same steadiness (a first-order low-pass at
    #: 1.5 Hz lags a slow movement by ~0.1 s; docs/live.md, "Smoothing"); 0: such hands are not smoothed
    #: (smoothing_hz = 0 turns smoothing off for every hand, this included)
    smoothing_stereo_hz: float = 3.0
    smoothing_beta: float = 0.3  # video: how fast the cut-off rises with speed
    handnet: str = ""  # a HandNet ONNX file; "" is the shipped realhands/assets/handnet_cpu.onnx
    mirrored: bool = False  # images are mirrored (selfie view): MediaPipe's handedness is then taken as it is
    landmark_offsets: bool = True  # fit detections to where MediaPipe marks the model's keypoints (fit.landmarks)
    fit_solver: str = "lbfgs"  # the keypoint fit's optimiser: lbfgs | lm (realhands.fit.keypoint_fit.SOLVERS)
    #: the hybrid's cold fit: HandNet's keypoints as a 3D term, each weighted by how sure the network is of it
    #: (its uncertainty head, realhands.net.uncertainty; FitWeights.handnet_3d); 0: HandNet gives only the start
    handnet_weight: float = 0.0
    #: the user's saved hands (folders written by ``realhands capture-hand``, one per side): shape held and texture
    #: published from the first frame (realhands.personal)
    hands: tuple = ()

    def __post_init__(self):
        check_choice("mask", self.mask, MASK_SOURCES)
        check_choice("fit_solver", self.fit_solver, FIT_SOLVERS)
        check_choice("regressor", self.regressor, REGRESSORS)
        for name in ("refine_iterations", "texture_size", "max_hands", "palm_search_frames"):
            v, least = getattr(self, name), 1 if name in ("max_hands", "palm_search_frames") else 0
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < least:
                raise ConfigError(f"{name} must be a whole number >= {least}, got {v!r}")
            setattr(self, name, int(v))
        if not (math.isfinite(self.texture_fuse_hz) and self.texture_fuse_hz > 0):
            raise ConfigError(f"texture_fuse_hz must be a finite number > 0, got {self.texture_fuse_hz!r}")
        w = self.handnet_weight
        if not (isinstance(w, numbers.Real) and not isinstance(w, bool) and math.isfinite(w) and 0 <= w <= 100):
            raise ConfigError(f"handnet_weight must be a number from 0 to 100, not {self.handnet_weight!r}")
        for name in ("smoothing_hz", "smoothing_stereo_hz", "smoothing_beta"):
            v = getattr(self, name)
            if not (isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                raise ConfigError(f"{name} must be a finite number >= 0 (smoothing_hz = 0: no smoothing), got {v!r}")
        if self.refine_iterations > MAX_REFINE_ITERATIONS:
            raise ConfigError(f"refine_iterations must be at most {MAX_REFINE_ITERATIONS} steps (docs/refinement.md: "
                              f"10 is the guided capture's), got {self.refine_iterations}")
        if self.texture_size > MAX_TEXTURE_SIZE:
            raise ConfigError(f"texture_size must be at most {MAX_TEXTURE_SIZE} texels, got {self.texture_size}")
        if isinstance(self.hands, (str, bytes)) or not isinstance(self.hands, (list, tuple)) or \
                not all(isinstance(h, (str, os.PathLike)) and str(h) for h in self.hands):
            raise ConfigError(f"hands must be a list of personal hand folders (realhands capture-hand), got "
                              f"{self.hands!r}")
        self.hands = tuple(str(h) for h in self.hands)
        if self.refine_iterations and self.mask == "none":
            raise ConfigError("refinement needs a mask: set mask to auto, handnet, grabcut or hsv (--mask)")

    @property
    def smoothing(self) -> tuple[float, float, float] | None:
        """One Euro (min_cutoff Hz of a hand fitted in one view, in two views, beta) in video mode, or None."""
        return (self.smoothing_hz, self.smoothing_stereo_hz, self.smoothing_beta) if self.smoothing_hz > 0 else None

    def wants_handnet(self) -> bool:
        """Whether HandNet is to be loaded: for the pose unless the fit alone is asked for, and for the mask."""
        return self.regressor != "fit" or self.mask in ("auto", "handnet")

    def regressor_used(self, handnet_available: bool) -> str:
        """What "auto" means: the hybrid ("handnet": the keypoint fit from HandNet's articulation and shape, the
        keypoints' orientation and placement) when HandNet's weights are installed, else the keypoint fit ("fit").
        On real photos with 3D ground truth (docs/RESULTS.md, 2026-11-27) the hybrid beat the fit from the mean
        hand and MediaPipe's own landmarks: PA-MPJPE 9.61 against 10.82 and 11.31 mm, root-relative 20.4 against
        21.3 and 25.7, wrist 15.2 against 16.9 mm."""
        if self.regressor == "auto":
            return "handnet" if handnet_available else "fit"
        if self.regressor in ("handnet", "net") and not handnet_available:
            raise ConfigError("no HandNet weights are installed (realhands/assets/handnet_cpu.onnx): give a model "
                              "(handnet = PATH; realhands train, then realhands export-onnx), or use regressor 'fit'")
        return self.regressor

    def mask_source(self, handnet_available: bool) -> str:
        """The mask policy, for every caller: "auto" is HandNet's mask when its weights are installed (it comes with
        its estimate at no extra cost); without them GrabCut when refinement needs a silhouette, else none (the
        texture then keeps the texels that pass its depth test; GrabCut's ~300 ms would stall a live stream)."""
        if self.mask == "handnet" and not handnet_available:
            raise ConfigError("mask 'handnet' needs HandNet's weights (realhands/assets/handnet_cpu.onnx or handnet = "
                              "PATH); use grabcut or hsv")
        if self.mask != "auto":
            return self.mask
        if handnet_available:
            return "handnet"
        return "grabcut" if self.refine_iterations else "none"


def _fits(value, default) -> bool:
    """Whether a TOML ``value`` has the type of the setting's ``default`` (None: any): an integer where a float
    goes, an array where a tuple goes; a boolean only where a boolean goes (``true`` is an int to Python)."""
    if default is None:
        return True
    if isinstance(value, bool) != isinstance(default, bool):
        return False
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, tuple):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


@dataclass
class StreamConfig:
    endpoint: str = "tcp://127.0.0.1:5555"
    lan: bool = False
    allow: list = field(default_factory=list)
    curve_secret_key: str = ""
    curve_clients: str = ""
    hwm: int = 50  # messages queued per subscriber before ZeroMQ drops

    def __post_init__(self):
        if not isinstance(self.allow, list) or not all(isinstance(a, str) for a in self.allow):
            raise ConfigError("stream.allow must be a list of IP address strings")
        if isinstance(self.hwm, bool) or not isinstance(self.hwm, int) or not 1 <= self.hwm <= 100_000:
            raise ConfigError(f"stream.hwm must be a whole number from 1 to 100000 (messages), got {self.hwm!r}")


@dataclass
class LiveConfig(ReconstructConfig):
    """The live process: the reconstruction choices (above) and the stream's."""

    source: str = "synthetic"
    stereo: bool = True
    texture_size: int = 256
    #: the live texture takes in a view 5 times a second, not 10 (``realhands reconstruct``'s): on the 2-core CPU the
    #: texture stage (HandNet's mask, the projection) competes with the frames; over six alternating rounds the live
    #: stereo latency's median p95 went 94.5 -> 87 ms (noisy: the later rounds were mixed), and the fused texture was
    #: level (mono) or better (stereo; docs/live.md)
    texture_fuse_hz: float = 5.0
    #: real time: the most of one CPU core the texture stage may take. Where its views cost more than that at
    #: texture_fuse_hz (a slower CPU: HandNet's mask alone takes 40 ms of a core a view on one 2-core machine,
    #: 13 on another), views come less often (at least the time of a view over this share apart); the frames keep
    #: the other cores' time. On the slower machine, live mono at 5 views a second against 2.5 (tools.bench.live,
    #: alternating): latency p50 41 / 40 -> 34 / 32 ms, 10 / 7 -> 5 / 5 of 150 frames dropped (docs/live.md)
    texture_cpu_share: float = 0.15
    texture_hz: float = 2.0
    send_offsets: bool = True
    realtime: bool = True  # pace file sources at their frame rate and drop frames a slow stage cannot take
    #: real time: frames that may wait for a busy stage (the oldest is dropped when more come). 2: the frame behind a
    #: slow one (a cold restart, 50-80 ms) waits for it instead of being dropped (docs/live.md); 1 drops it
    queue_frames: int = 2
    #: tracked hands are moved to their publish time along their motion, at most this far past the capture (ms;
    #: 0: sent as measured; realhands.streaming.extrapolation). Off by default: at today's 3-11 published frames a
    #: second the motion between frames is too coarse to follow (tools.bench.live: no gain; docs/live.md)
    extrapolate_ms: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        if not (math.isfinite(self.texture_hz) and self.texture_hz > 0):
            raise ConfigError(f"live.texture_hz must be a finite number > 0, got {self.texture_hz!r}")
        if isinstance(self.texture_cpu_share, bool) or not isinstance(self.texture_cpu_share, numbers.Real) or \
                not (math.isfinite(self.texture_cpu_share) and MIN_TEXTURE_CPU_SHARE <= self.texture_cpu_share <= 1):
            raise ConfigError(f"live.texture_cpu_share must be a share of one CPU core in [{MIN_TEXTURE_CPU_SHARE:g}, "
                              "1] (1: the texture stage may take a whole core; for no texture, texture_size = 0), "
                              f"got {self.texture_cpu_share!r}")
        if isinstance(self.extrapolate_ms, bool) or not isinstance(self.extrapolate_ms, numbers.Real) or \
                not (math.isfinite(self.extrapolate_ms) and 0 <= self.extrapolate_ms <= MAX_EXTRAPOLATE_MS):
            raise ConfigError(f"live.extrapolate_ms must be a number of milliseconds in [0, {MAX_EXTRAPOLATE_MS}] "
                              f"(0: no extrapolation), got {self.extrapolate_ms!r}")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ConfigError(f"live.source must name a source ({SOURCE_FORMS}), got {self.source!r}")
        if isinstance(self.queue_frames, bool) or not isinstance(self.queue_frames, int) or \
                not 1 <= self.queue_frames <= MAX_QUEUE_FRAMES:
            raise ConfigError(f"live.queue_frames must be a whole number of frames in [1, {MAX_QUEUE_FRAMES}], "
                              f"got {self.queue_frames!r}")


_SECTIONS = {"model": ModelConfig, "reconstruct": ReconstructConfig, "stream": StreamConfig, "live": LiveConfig}


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    reconstruct: ReconstructConfig = field(default_factory=ReconstructConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    output_dir: Path = Path("out")

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except IsADirectoryError:
            raise ConfigError(f"{path} is a folder; --config takes a TOML file") from None
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "config") -> Config:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
        sections = {}
        for name, cls_ in _SECTIONS.items():
            sec = raw.get(name, {})
            if not isinstance(sec, dict):
                raise ConfigError(f"{source}: [{name}] must be a table")
            known_keys = {f.name: f for f in fields(cls_)}
            retired = sorted(set(sec) & set(RETIRED_KEYS))
            if retired:
                raise ConfigError(f"{source}: [{name}] {retired[0]} is no longer a setting: "
                                  f"{RETIRED_KEYS[retired[0]]}; remove it from the file")
            if set(sec) - set(known_keys):
                raise ConfigError(f"{source}: unknown key(s) in [{name}]: {sorted(set(sec) - set(known_keys))}; "
                                  f"known: {sorted(known_keys)}")
            for k, v in sec.items():
                default = getattr(cls_(), k)
                if not _fits(v, default):
                    raise ConfigError(f"{source}: [{name}] {k} must be {type(default).__name__}, got {v!r}")
            try:
                sections[name] = cls_(**sec)
            except ConfigError as exc:
                raise ConfigError(f"{source}: [{name}] {exc}") from None
        output_dir = raw.get("output_dir", "out")
        if not isinstance(output_dir, str):
            raise ConfigError(f"{source}: output_dir must be a folder name (a string), got {output_dir!r}")
        return cls(**sections, output_dir=Path(output_dir))

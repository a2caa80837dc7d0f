"""The one configuration object of RealHands, loadable from a TOML file and overridable from the command line.

Example ``realhands.toml``::

    output_dir = "out"

    [model]
    path = "~/mano"      # a MANO_RIGHT.pkl/.npz file or a folder holding them; default: see realhands.model.io
    side = "right"

    [stream]
    endpoint = "tcp://127.0.0.1:5555"
    lan = false          # true: bind beyond loopback, admit only `allow`
    allow = []           # subscriber IP addresses admitted in LAN mode
    curve_secret_key = ""  # a zmq.auth .key_secret file: CURVE encryption (LAN mode)
    curve_clients = ""   # folder of admitted clients' .key files (empty: any client that knows the server key)

    [live]
    source = "synthetic" # synthetic[:kind] | webcam[:N] | uvc:N | zed | VIDEO | FOLDER | RECORDING.mcap
    stereo = true        # use the second view when the source has one
    refine_iterations = 0
    mask = "auto"        # mask for refinement: auto (HandNet's when installed) | handnet | none | grabcut | hsv
    regressor = "auto"   # auto (HandNet + short fit when installed) | handnet | fit (the keypoint fit alone)
    texture_size = 256   # 0: no texture
    texture_hz = 2.0     # texture messages per second per hand, at most
    send_offsets = true  # per-frame vertex offsets on the wire (~17 kB per hand-frame)
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message says which and how to fix it."""


@dataclass
class ModelConfig:
    path: str | None = None  # model file or folder; None: REALHANDS_MODEL_DIR, ~/.realhands/models, shipped
    side: str = "right"  # handedness used when a command works on one hand

    def __post_init__(self):
        if self.side not in ("right", "left"):
            raise ConfigError(f"model.side must be 'right' or 'left', got {self.side!r}")


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
        if self.hwm < 1:
            raise ConfigError(f"stream.hwm must be at least 1, got {self.hwm}")


@dataclass
class LiveConfig:
    source: str = "synthetic"
    stereo: bool = True
    refine_iterations: int = 0
    mask: str = "auto"
    regressor: str = "auto"
    texture_size: int = 256
    texture_hz: float = 2.0
    send_offsets: bool = True
    realtime: bool = True  # pace file sources at their frame rate and drop frames a slow stage cannot take

    def __post_init__(self):
        if self.mask not in ("auto", "handnet", "none", "grabcut", "hsv"):
            raise ConfigError(f"live.mask must be auto, handnet, none, grabcut or hsv, got {self.mask!r}")
        if self.regressor not in ("auto", "handnet", "fit"):
            raise ConfigError(f"live.regressor must be auto, handnet or fit, got {self.regressor!r}")
        if self.refine_iterations < 0 or self.texture_size < 0 or self.texture_hz <= 0:
            raise ConfigError("live.refine_iterations and live.texture_size must be >= 0, live.texture_hz > 0")
        if self.refine_iterations and self.mask == "none":
            raise ConfigError("refinement needs a mask: set live.mask to auto, handnet, grabcut or hsv (--mask)")


_SECTIONS = {"model": ModelConfig, "stream": StreamConfig, "live": LiveConfig}


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    output_dir: Path = Path("out")

    @classmethod
    def from_toml(cls, path: str | Path) -> "Config":
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "config") -> "Config":
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
            if set(sec) - set(known_keys):
                raise ConfigError(f"{source}: unknown key(s) in [{name}]: {sorted(set(sec) - set(known_keys))}; "
                                  f"known: {sorted(known_keys)}")
            for k, v in sec.items():
                default = getattr(cls_(), k)
                if default is not None and not isinstance(v, type(default)) and not (
                        isinstance(default, float) and isinstance(v, int)):
                    raise ConfigError(f"{source}: [{name}] {k} must be {type(default).__name__}, got {v!r}")
            sections[name] = cls_(**sec)
        return cls(**sections, output_dir=Path(raw.get("output_dir", "out")))

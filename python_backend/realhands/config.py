"""The one configuration object of RealHands, loadable from a TOML file and overridable from the command line.

Example ``realhands.toml``::

    output_dir = "out"

    [model]
    path = "~/mano"      # a MANO_RIGHT.pkl/.npz file or a folder holding them; default: see realhands.model.io
    side = "right"
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
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
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
        model_raw = raw.get("model", {})
        if not isinstance(model_raw, dict):
            raise ConfigError(f"{source}: [model] must be a table")
        model_known = {f.name for f in fields(ModelConfig)}
        if set(model_raw) - model_known:
            raise ConfigError(f"{source}: unknown key(s) in [model]: {sorted(set(model_raw) - model_known)}; "
                              f"known: {sorted(model_known)}")
        return cls(model=ModelConfig(**model_raw), output_dir=Path(raw.get("output_dir", "out")))

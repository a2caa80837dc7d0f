"""CURVE key pairs for LAN mode (``realhands keys DIR``): a server pair and a client pair, in zmq.auth's format."""
from __future__ import annotations

from pathlib import Path


def create_key_pairs(folder: str | Path, names=("server", "client")) -> list[tuple[Path, Path]]:
    """Write ``NAME.key`` (public: give it to the other side) and ``NAME.key_secret`` (keep it) for each name.
    Returns [(public, secret)] per name."""
    from zmq import auth

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return [tuple(Path(p) for p in auth.create_certificates(str(out), name)) for name in names]

"""CURVE key pairs for LAN mode (``realhands keys DIR``): a server pair and a client pair, in zmq.auth's format.

The secret halves are readable by their owner only (0600); existing keys are never replaced unless asked
(``force``): a server's clients hold its public key, and a silent new pair would lock them all out.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import StreamConfigError


def create_key_pairs(folder: str | Path, names=("server", "client"), force: bool = False) -> list[tuple[Path, Path]]:
    """Write ``NAME.key`` (public: give it to the other side) and ``NAME.key_secret`` (keep it) for each name.
    Returns [(public, secret)] per name."""
    from zmq import auth

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise StreamConfigError(f"{out} is a file, not a folder for keys")
    existing = [p for n in names for p in (out / f"{n}.key", out / f"{n}.key_secret") if p.exists()]
    if existing and not force:
        raise StreamConfigError(f"{existing[0]} exists: replacing keys locks out everyone who holds the old public "
                                "key; choose another folder, or pass --force")
    try:
        out.mkdir(parents=True, exist_ok=True)
        pairs = []
        old_umask = os.umask(0o077)  # the secret file is never readable by others, not even for a moment
        try:
            for name in names:
                public, secret = (Path(p) for p in auth.create_certificates(str(out), name))
                os.chmod(secret, 0o600)
                os.chmod(public, 0o644)
                pairs.append((public, secret))
        finally:
            os.umask(old_umask)
    except OSError as exc:
        raise StreamConfigError(f"cannot write keys to {out}: {exc.strerror or exc}") from None
    return pairs

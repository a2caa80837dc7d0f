"""The wire format (shared_schema/wire.json, described in shared_schema/WIRE.md): encode and decode messages.

A message is a ZeroMQ multipart: ``[topic, header, blob...]``. The header is a msgpack map with ``v`` (version)
and ``type``; numeric arrays are ``{dtype, shape, data}`` with raw little-endian bytes, and arrays or blobs
larger than ``inline_limit`` bytes travel as their own frames (``{..., part: k}``). Readers ignore fields they
do not know, fill in the defaults of fields a newer minor version added when an older writer leaves them out,
and refuse a different major version.

    frames = encode("frame", {"seq": 1, ...})    # list[bytes], ready for send_multipart
    kind, body = decode(frames)                   # numpy arrays back, validated against the spec
"""
from __future__ import annotations

import copy
import functools
import json
from importlib import resources

import msgpack
import numpy as np

from ..errors import WireError


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    """The machine-readable wire spec (shared_schema/wire.json)."""
    return json.loads(resources.files("realhands").joinpath("assets/wire.json").read_text())


VERSION: tuple[int, int] = tuple(spec()["version"])
TOPICS: dict[str, bytes] = {k: v.encode() for k, v in spec()["transport"]["topics"].items()}
_TYPE_OF_TOPIC = {v: k for k, v in TOPICS.items()}
_DTYPES = {"<f4", "<f2", "<u4", "<u2", "<i4", "<u1"}
INLINE_LIMIT = 64 * 1024


def _pack_value(value, parts: list, inline_limit: int):
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        dt = "<" + a.dtype.str[1:]
        if dt not in _DTYPES:
            raise WireError(f"arrays on the wire are one of {sorted(_DTYPES)}, not {a.dtype}")
        data = a.tobytes()
        out = {"dtype": dt, "shape": list(a.shape)}
        if len(data) > inline_limit:
            parts.append(data)
            out["part"] = len(parts) + 1
        else:
            out["data"] = data
        return out
    if isinstance(value, (bytes, bytearray, memoryview)):
        if len(value) > inline_limit:
            parts.append(bytes(value))
            return {"part": len(parts) + 1}
        return bytes(value)
    if isinstance(value, dict):
        return {k: _pack_value(v, parts, inline_limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack_value(v, parts, inline_limit) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def encode(kind: str, body: dict, inline_limit: int = INLINE_LIMIT) -> list[bytes]:
    """Multipart frames of a message of type ``kind`` ('rig', 'frame', 'texture', 'stats') with fields ``body``
    (numpy arrays for array fields, bytes for blobs)."""
    if kind not in TOPICS:
        raise WireError(f"unknown message type {kind!r}; known: {sorted(TOPICS)}")
    parts: list[bytes] = []
    header = {"v": list(VERSION), "type": kind}
    header.update(_pack_value(body, parts, inline_limit))
    return [TOPICS[kind], msgpack.packb(header, use_bin_type=True)] + parts


def _unpack_value(value, frames: list[bytes], where: str, spec_field: dict | None):
    ftype = spec_field.get("type") if spec_field else None
    if ftype == "array":
        if not isinstance(value, dict) or "dtype" not in value or "shape" not in value:
            raise WireError(f"{where}: expected an array {{dtype, shape, data|part}}, got {type(value).__name__}")
        dt, shape = value["dtype"], value["shape"]
        if dt not in _DTYPES:
            raise WireError(f"{where}: dtype {dt!r} is not one of {sorted(_DTYPES)}")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise WireError(f"{where}: bad shape {shape!r}")
        data = _blob(value, frames, where)
        n = int(np.prod(shape)) * np.dtype(dt).itemsize
        if len(data) != n:
            raise WireError(f"{where}: {len(data)} bytes for a {dt} array of shape {shape} ({n} bytes): truncated "
                            "or corrupt")
        arr = np.frombuffer(data, dtype=dt).reshape(shape)
        want = spec_field.get("dtype")
        if want and want != dt:
            raise WireError(f"{where}: dtype {dt}, the spec says {want}")
        for got, dim in zip(arr.shape, spec_field.get("shape", []), strict=False):  # ranks compared below
            if isinstance(dim, int) and got != dim:
                raise WireError(f"{where}: shape {list(arr.shape)}, the spec says {spec_field['shape']}")
        if len(spec_field.get("shape", arr.shape)) != arr.ndim:
            raise WireError(f"{where}: {arr.ndim} dimensions, the spec says {spec_field['shape']}")
        return arr
    if ftype == "blob":
        return _blob(value, frames, where)
    if ftype == "map[str,float]":  # (the stats' stage timings, latency, capture progress)
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(x, (int, float))
                                                  and not isinstance(x, bool) for k, x in value.items()):
            raise WireError(f"{where}: expected a map of names to numbers, got {_brief(value)}")
        return value
    if ftype == "list[str]":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise WireError(f"{where}: expected a list of strings, got {_brief(value)}")
        return value
    checks = {"int": int, "float": (int, float), "str": str, "bool": bool}
    if ftype in checks:
        if not isinstance(value, checks[ftype]) or (ftype in ("int", "float") and isinstance(value, bool)):
            raise WireError(f"{where}: expected {ftype}, got {type(value).__name__}")
        if "enum" in spec_field and value not in spec_field["enum"]:
            raise WireError(f"{where}: {value!r} is not one of {spec_field['enum']}")
    return value


def _brief(value) -> str:
    """A value named for an error message: its type and the start of its text."""
    return f"{type(value).__name__} {str(value)[:60]!r}"


def _blob(value, frames, where) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, dict):
        if "data" in value:
            if not isinstance(value["data"], (bytes, bytearray)):
                raise WireError(f"{where}: data must be bytes")
            return bytes(value["data"])
        if "part" in value:
            k = value["part"]
            if not isinstance(k, int) or not 2 <= k < len(frames):
                raise WireError(f"{where}: refers to multipart frame {k!r}, but the message has {len(frames)} "
                                "frames (truncated?)")
            return frames[k]
    raise WireError(f"{where}: expected bytes or {{part: k}}, got {type(value).__name__}")


def _check_fields(body: dict, fields: dict, frames, where: str) -> dict:
    if not isinstance(body, dict):
        raise WireError(f"{where}: expected a map, got {type(body).__name__}")
    out = {}
    for name, f in fields.items():
        if name not in body:
            if "default" in f:  # added by a minor version: an older writer leaves it out
                out[name] = copy.deepcopy(f["default"])
                continue
            raise WireError(f"{where}: missing field {name!r}")
        out[name] = _unpack_value(body[name], frames, f"{where}.{name}", f)
    return out  # unknown fields are dropped: a newer minor version may add them


def decode(frames: list[bytes]) -> tuple[str, dict]:
    """(type, fields) of a received multipart message; numpy arrays for arrays, bytes for blobs.
    Raises WireError with what is wrong."""
    if not isinstance(frames, (list, tuple)) or len(frames) < 2:
        raise WireError(f"a message has at least 2 frames (topic, header), got {len(frames) if frames else 0}")
    frames = [bytes(f) for f in frames]
    topic = frames[0]
    if topic not in _TYPE_OF_TOPIC:
        raise WireError(f"unknown topic {topic[:40]!r}; known: {sorted(t.decode() for t in _TYPE_OF_TOPIC)}")
    try:
        header = msgpack.unpackb(frames[1], raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several types for truncated or garbage input
        raise WireError(f"header of a {topic.decode()} message is not valid msgpack ({exc.__class__.__name__}: "
                        f"{exc}); truncated?") from None
    if not isinstance(header, dict):
        raise WireError(f"header of a {topic.decode()} message is a {type(header).__name__}, not a map")
    v = header.get("v")
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)):
        raise WireError(f"{topic.decode()} message without a valid version field 'v' ([major, minor]): {v!r}")
    if v[0] != VERSION[0]:
        raise WireError(f"wire format version {v[0]}.{v[1]} is not compatible with this reader's "
                        f"{VERSION[0]}.{VERSION[1]} (major versions differ): update the older side")
    kind = _TYPE_OF_TOPIC[topic]
    if header.get("type") != kind:
        raise WireError(f"topic {topic.decode()} carries a message of type {header.get('type')!r}")
    mspec = spec()["messages"][kind]
    body = _check_fields(header, mspec["fields"], frames, kind)
    if kind == "frame":
        if not isinstance(body["hands"], list):
            raise WireError("frame.hands: expected a list")
        body["hands"] = [_check_fields(h, mspec["hand"], frames, f"frame.hands[{i}]")
                         for i, h in enumerate(body["hands"])]
    if kind == "rig":
        V = body["vertex_count"]
        for name in ("rest_vertices", "skin_weights"):
            if body[name].shape[0] != V:
                raise WireError(f"rig.{name} has {body[name].shape[0]} rows, vertex_count is {V}")
        if body["faces"].size and body["faces"].max() >= V:
            raise WireError("rig.faces index a vertex beyond vertex_count")
    return kind, body

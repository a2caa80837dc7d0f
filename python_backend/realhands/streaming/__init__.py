"""Streaming to game engines: the wire format (shared_schema/wire.json), message bodies, and the ZeroMQ
publisher and subscriber."""
from .messages import frame_body, hand_body, rig_body, skin_rig, texture_body
from .publisher import HandPublisher, HandSubscriber, StreamConfigError
from .wire import TOPICS, VERSION, WireError, decode, encode, spec

__all__ = ["HandPublisher", "HandSubscriber", "StreamConfigError", "TOPICS", "VERSION", "WireError", "decode",
           "encode", "frame_body", "hand_body", "rig_body", "skin_rig", "spec", "texture_body"]

"""Streaming to game engines: the wire format (shared_schema/wire.json, ``wire``), message bodies (``messages``),
the stream's protocol state (``protocol``: rigs and their resend rule, tracking states, texture and stats cadence)
and the ZeroMQ publisher and subscriber (``publisher``)."""
from ..errors import StreamConfigError, WireError
from .messages import frame_body, hand_body, rig_body, skin_rig, texture_body
from .protocol import Outgoing, StreamProtocol
from .publisher import HandPublisher, HandSubscriber
from .wire import TOPICS, VERSION, decode, encode, spec

__all__ = ["HandPublisher", "HandSubscriber", "Outgoing", "StreamConfigError", "StreamProtocol", "TOPICS", "VERSION",
           "WireError", "decode", "encode", "frame_body", "hand_body", "rig_body", "skin_rig", "spec", "texture_body"]

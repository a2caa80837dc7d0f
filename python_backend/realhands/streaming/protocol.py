"""What a stream says, frame after frame: the protocol's state, next to the wire format it speaks, without sockets.

A subscriber needs each hand's rig before the hand's frames; it learns when a hand appears (``tracking = "new"``),
is followed (``"tracked"``) and leaves (its last state once more, ``"lost"``); textures come at most
``texture_hz`` times a second per hand; a stats message about once a second. ``StreamProtocol`` keeps that state
and turns each frame's hands into the messages to send, in order; the live pipeline hands them to its sinks (the
ZeroMQ publisher, the recording). The rules, in one place:

* rigs: one per handedness before its first frame; a new version when any shape coefficient drifted more than
  ``RIG_RESEND_DRIFT`` (sd; below that the engine's skinned mesh stays within ~1.5 mm of ours) and the last one
  is at least ``RIG_RESEND_MIN_INTERVAL_S`` old;
* textures: a new version of a hand's atlas at most every 1 / ``texture_hz`` seconds;
* stats: every ``STATS_INTERVAL_S``;
* placement: each tracked hand is moved to its publish time along its recent motion, bounded
  (``extrapolation.PoseExtrapolator``, ``extrapolated_ms`` on the wire); new and lost hands go as measured.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .extrapolation import PoseExtrapolator
from .messages import frame_body, hand_body, rig_body, texture_body
from .wire import encode

RIG_RESEND_DRIFT = 0.05
RIG_RESEND_MIN_INTERVAL_S = 2.0
STATS_INTERVAL_S = 1.0


@dataclass
class Outgoing:
    """One encoded message for the sinks. ``kind``: rig, frame, texture or stats; ``side`` and ``version`` for rigs
    and textures; ``hands``: how many hands a frame message carries."""

    kind: str
    frames: list
    side: str | None = None
    version: int | None = None
    hands: int = 0

    @property
    def nbytes(self) -> int:
        return sum(len(f) for f in self.frames)


class StreamProtocol:
    """The state of one stream. ``models``: the hand model per handedness (for rigs and bodies).

    ``frame()`` is called by one thread (the publisher's), ``take_textures()`` by another (where the textures are
    written); they share no state."""

    def __init__(self, models: dict, send_offsets: bool = True, texture_hz: float = 2.0, clock=time.monotonic,
                 extrapolate_ms: float = 0.0):
        self.models, self.send_offsets, self.texture_hz, self.clock = models, send_offsets, texture_hz, clock
        self.extrapolator = PoseExtrapolator(extrapolate_ms / 1000.0)
        self.seq = 0
        self._rigs: dict[str, dict] = {}  # side -> the rig body sent last
        self._rig_sent_at: dict[str, float] = {}
        self._tracking: dict[str, str] = {}  # side -> "new" | "tracked" while in view
        self._last_hands: dict[str, dict] = {}  # side -> its last hand body (re-sent once as lost)
        self._texture_sent: dict[str, tuple[int, float]] = {}  # side -> (version, when)
        self._stats_at = clock()

    # -- frames ---------------------------------------------------------------------------------------------------
    def frame(self, source_frame: int, capture_ns: int, hands: list, textures: dict | None = None,
              ahead_s: float = 0.0) -> list[Outgoing]:
        """The messages for one frame's hands (reconstruct.HandResult): any rig due first, then the frame, then
        the textures ({side: (version, (S,S,3) uint8 image)} from ``take_textures``). ``ahead_s``: seconds from
        the capture to now (the publish), how far tracked hands are moved along their motion (bounded by
        ``extrapolate_ms``; 0: as measured)."""
        out, bodies, seen = [], [], set()
        for h in hands:
            side = h.handedness
            seen.add(side)
            rig = self._rig_due(side, h.mano["betas"])
            if rig is not None:
                out.append(rig)
            state = "tracked" if self._tracking.get(side) in ("tracked", "new") else "new"
            self._tracking[side] = state
            body = hand_body(h, self.models[side], self._rigs[side], state, self.send_offsets)
            if textures and side in textures:  # the hand's newest texture is at least the one this frame carries
                body["texture_version"] = max(body["texture_version"], int(textures[side][0]))  # (fused after the fit)
            self._last_hands[side] = body  # as measured
            if state == "new":
                self.extrapolator.forget(side)
            self.extrapolator.observe(side, capture_ns / 1e9, body)
            bodies.append(self.extrapolator.moved(side, body, ahead_s))
        for side in list(self._tracking):
            if side not in seen:  # the hand left: its last measured state once more, marked lost
                self._tracking.pop(side)
                self.extrapolator.forget(side)
                bodies.append(dict(self._last_hands.pop(side), tracking="lost", confidence=0.0))
        self.seq += 1
        out.append(Outgoing("frame", encode("frame", frame_body(self.seq, source_frame, capture_ns, bodies)),
                            hands=len(bodies)))
        return out + self.textures(textures or {})

    @staticmethod
    def textures(textures: dict) -> list[Outgoing]:
        """The texture messages of ``textures`` ({side: (version, (S,S,3) uint8 image)}, from ``take_textures``)."""
        return [Outgoing("texture", encode("texture", texture_body(side, version, image)), side, version)
                for side, (version, image) in textures.items()]

    def _rig_due(self, side: str, betas: np.ndarray) -> Outgoing | None:
        rig = self._rigs.get(side)
        if rig is not None:
            drift = float(np.abs(rig["shape"] - np.asarray(betas)[:10]).max())
            if drift <= RIG_RESEND_DRIFT or self.clock() - self._rig_sent_at[side] <= RIG_RESEND_MIN_INTERVAL_S:
                return None
        version = rig["rig_version"] + 1 if rig is not None else 1
        rig = rig_body(self.models[side], betas, version)
        self._rigs[side], self._rig_sent_at[side] = rig, self.clock()
        return Outgoing("rig", encode("rig", rig), side, version)

    # -- textures -------------------------------------------------------------------------------------------------
    def take_textures(self, fusions: dict, sides) -> dict:
        """{side: (version, atlas image)} of the hands in ``sides`` whose fused texture (``fusions[side]``, a
        realhands.texture.TextureFusion) has a new version and is due (``texture_hz``): snapshot where it is
        written."""
        now, out = self.clock(), {}
        for side in sides:
            fusion = fusions.get(side)
            last = self._texture_sent.get(side, (-1, -np.inf))
            if fusion is not None and fusion.version != last[0] and now - last[1] >= 1 / self.texture_hz:
                out[side] = (fusion.version, fusion.image())
                self._texture_sent[side] = (fusion.version, now)
        return out

    def withdraw_texture(self, side: str, version: int) -> None:
        """The snapshot at ``version`` :meth:`take_textures` gave for ``side`` was not sent (its texture was taken
        back after it): the side's next texture is due at once, not a ``texture_hz`` period after the one withheld —
        unless a later snapshot was taken since (that one was made, and is what the next waits for)."""
        if self._texture_sent.get(side, (None,))[0] == version:
            self._texture_sent.pop(side, None)

    # -- stats ----------------------------------------------------------------------------------------------------
    def stats_due(self) -> bool:
        return self.clock() - self._stats_at >= STATS_INTERVAL_S

    def stats(self, uptime_s: float, dropped: int, fps: float, stage_ms: dict, source: str,
              latency_ms: dict | None = None, capture=None) -> Outgoing:
        """The stats message (see WIRE.md): frames sent so far, drops, throughput, median stage timings,
        capture-to-publish latency ({"p50", "p95"} ms of the last second's frames) and, while a guided capture
        runs, its progress (``capture``: a realhands.personal.CaptureProgress)."""
        self._stats_at = self.clock()
        body = {"publish_ns": time.time_ns(), "uptime_s": uptime_s, "frames": self.seq, "dropped": dropped,
                "fps": fps, "stage_ms": stage_ms, "source": source, "latency_ms": latency_ms or {}}
        if capture is not None:
            body.update(capture_step=capture.step, capture_instruction=capture.instruction,
                        capture_progress={**{k: round(float(v), 4) for k, v in capture.progress.items()},
                                          "coverage": round(float(capture.coverage), 4)})
        return Outgoing("stats", encode("stats", body))

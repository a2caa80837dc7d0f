"""``realhands run | record | replay | listen | keys``: the live process (realhands.live.session)."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from ..config import MASK_SOURCES, REGRESSORS, SOURCE_FORMS
from ..conventions import SIDES
from ..errors import OutputError
from . import load_config, positive
from .reconstruct import reconstruct_choices


def live_config(args):
    """The configuration with the command line's live and stream options applied (and validated)."""
    cfg = load_config(args)
    live = reconstruct_choices(args, cfg.live)
    if getattr(args, "mono", False):
        live = dataclasses.replace(live, stereo=False)
    if getattr(args, "extrapolate_ms", None) is not None:
        live = dataclasses.replace(live, extrapolate_ms=args.extrapolate_ms)
    cfg.live = live
    stream = {}
    for arg, key in (("endpoint", "endpoint"), ("allow", "allow"), ("curve_key", "curve_secret_key"),
                     ("curve_clients", "curve_clients")):
        if getattr(args, arg, None):
            stream[key] = list(getattr(args, arg)) if arg == "allow" else getattr(args, arg)
    if getattr(args, "lan", False):
        stream["lan"] = True
    cfg.stream = dataclasses.replace(cfg.stream, **stream)
    return cfg


#: --synthetic-frames: a longer rendered clip would take hours to render (and its frames gigabytes of memory)
MAX_SYNTHETIC_FRAMES = 3000


def _rendered(args) -> int:
    """How many frames a synthetic:KIND source renders: --synthetic-frames, no more than a session of --frames
    plays (a clip loops)."""
    return min(args.synthetic_frames, args.frames) if args.frames else args.synthetic_frames


def cmd_run(args) -> int:
    from ..live.session import run_session

    if args.command == "record" and not args.record:
        args.record = "session.mcap"
    if args.record and Path(args.record).exists() and not args.force:
        raise OutputError(f"{args.record} exists; record to another file, or pass --force to replace it")
    report = run_session(live_config(args), args.source, record=args.record, frames=args.frames,
                         duration_s=args.duration, calibration=args.calibration, publish=not args.no_publish,
                         synthetic_frames=_rendered(args))
    print(json.dumps(report.summary(), indent=2))
    if args.record:
        print(f"recorded to {args.record}")
    if not report.frames_in and report.errors:  # the source failed before its first frame (a camera never opened)
        print(f"error: {report.error_messages[0]}", file=sys.stderr)
        return 2
    return 0 if report.frames_out or not report.frames_in else 1


def cmd_capture_hand(args) -> int:
    from ..live.session import capture_hand

    hand, report = capture_hand(live_config(args), args.out, args.source, side=args.side, frames=args.frames,
                                duration_s=args.duration, calibration=args.calibration, publish=not args.no_publish,
                                force=args.force, synthetic_frames=_rendered(args))
    seen = ", ".join(f"{k} {v:.0%}" for k, v in hand.info["seen"].items())
    print(f"wrote the {hand.side} hand to {args.out} ({hand.info['frames']} frames; seen well: {seen}; atlas "
          f"coverage {hand.info['coverage']:.0%}; shape from {hand.info['shape_source']})")
    if not hand.info["complete"]:
        print(f"warning: the capture stopped before it was complete ({hand.info['instruction']}): run it again for "
              "a fuller texture; the hand was saved as it is", file=sys.stderr)
        return 1
    return 0


def cmd_replay(args) -> int:
    from ..live.session import replay_publish, replay_rerun

    cfg = live_config(args)
    if args.report and Path(args.report).exists() and not args.force:
        raise OutputError(f"{args.report} exists; write the report to another file, or pass --force to replace it")
    if args.rerun:
        report = replay_rerun(args.recording, cfg, tolerance_mm=args.tolerance_mm, report_path=args.report)
        print(json.dumps(report, indent=2))
        return 0 if report["passed"] else 1
    n = replay_publish(args.recording, cfg, speed=args.speed, loop=args.loop)
    print(f"re-published {n} message(s) on {cfg.stream.endpoint}")
    return 0


def cmd_listen(args) -> int:
    from ..live.session import listen

    return 0 if listen(args.endpoint, count=args.count, timeout_s=args.timeout) else 1


def cmd_keys(args) -> int:
    from ..streaming.keys import create_key_pairs

    for name, (public, secret) in zip(("server", "client"), create_key_pairs(args.folder, force=args.force),
                                      strict=True):
        print(f"{name}: {public} (give to the other side), {secret} (keep)")
    return 0


def add_parsers(sub) -> None:
    def stream_args(sp):
        sp.add_argument("--endpoint", help="ZeroMQ endpoint to publish on (default tcp://127.0.0.1:5555)")
        sp.add_argument("--lan", action="store_true", help="allow subscribers on the network (needs --allow)")
        sp.add_argument("--allow", nargs="+", metavar="IP", help="subscriber addresses admitted in LAN mode")
        sp.add_argument("--curve-key", help="server .key_secret file (realhands keys): CURVE-encrypt (LAN mode)")
        sp.add_argument("--curve-clients", help="folder of admitted client .key files (default: any)")

    def bounds_args(sp, synthetic_frames: int, unless: str = ""):
        """The source's calibration and how long a session runs."""
        sp.add_argument("--calibration", help="stereo calibration: ZED SN*.conf or OpenCV YAML")
        sp.add_argument("--frames", type=positive(int), help=f"stop after this many frames{unless}")
        sp.add_argument("--duration", type=positive(float), help=f"stop after this many seconds{unless}")
        sp.add_argument("--synthetic-frames", type=positive(int, MAX_SYNTHETIC_FRAMES), default=synthetic_frames,
                        help="length of a rendered synthetic:KIND sequence (rendered before it plays, ~1 s a frame; "
                             f"at most {MAX_SYNTHETIC_FRAMES}, and no more than --frames)")

    def live_args(sp, hand: bool = True):
        sp.add_argument("--mono", action="store_true", help="use only the left view of a stereo source")
        sp.add_argument("--refine-iterations", type=int, help="silhouette refinement steps (needs a mask)")
        sp.add_argument("--mask", choices=MASK_SOURCES, help="silhouette for refinement and texture (default auto)")
        sp.add_argument("--regressor", choices=REGRESSORS,
                        help="auto (default): handnet when its weights are installed, else fit; handnet: a hand that "
                             "appears is fitted from HandNet's articulation; net: HandNet alone; fit: from the mean "
                             "hand")
        sp.add_argument("--texture-size", type=int, help="texture atlas side (0: no texture; default 256)")
        sp.add_argument("--extrapolate-ms", type=float,
                        help="move tracked hands to their publish time along their motion, at most this many ms "
                             "past the capture (default 0: send them as measured; e.g. 100)")
        if hand:
            sp.add_argument("--hand", action="append", metavar="DIR",
                            help="the user's saved hand (realhands capture-hand): its shape, rig and texture are "
                                 "published from the first frame; once per side")
        sp.add_argument("--model", help="MANO-format model file or folder")

    for name, helptext in (("run", "the live pipeline: capture -> hands -> ZeroMQ (and a recording)"),
                           ("record", "the live pipeline, recording the session (MCAP)")):
        r = sub.add_parser(name, help=helptext)
        r.add_argument("--source", help=f"{SOURCE_FORMS} "
                                        "(default: synthetic, the shipped stereo clip; synthetic sources loop "
                                        "until --frames/--duration or Ctrl+C)")
        r.add_argument("--record", help="record the session to this .mcap file")
        bounds_args(r, synthetic_frames=90)
        r.add_argument("--no-publish", action="store_true", help="do not open a ZeroMQ socket")
        r.add_argument("--force", action="store_true", help="replace an existing --record file")
        stream_args(r)
        live_args(r)
        r.set_defaults(func=cmd_run)
    c = sub.add_parser("capture-hand", help="the guided capture of the user's own hand (back, palm, sides) -> a "
                                            "folder with its shape, texture and GLB, for run --hand")
    c.add_argument("out", help="folder for the personal hand (refused if it holds one, unless --force)")
    c.add_argument("--source", default="synthetic:turn",
                   help="as for run (default synthetic:turn: a rendered hand turning over); a stereo source also "
                        "measures the hand's size")
    c.add_argument("--side", choices=SIDES, help="the hand to capture (default: the first one seen)")
    bounds_args(c, synthetic_frames=120, unless=", captured or not")
    c.add_argument("--no-publish", action="store_true", help="do not publish (the progress then shows here only)")
    c.add_argument("--force", action="store_true", help="replace a personal hand already in OUT")
    stream_args(c)
    live_args(c, hand=False)  # a capture measures the hand afresh
    c.set_defaults(func=cmd_capture_hand)
    rp = sub.add_parser("replay", help="re-publish a recording, or re-run the pipeline on it (--rerun)")
    rp.add_argument("recording")
    rp.add_argument("--speed", type=positive(float, zero=True), default=1.0,
                    help="x recorded pace; 0: as fast as possible")
    rp.add_argument("--loop", action="store_true")
    rp.add_argument("--rerun", action="store_true", help="re-run the pipeline on the recorded inputs and compare")
    rp.add_argument("--tolerance-mm", type=positive(float), default=5.0,
                    help="--rerun: largest mean joint distance to pass")
    rp.add_argument("--report", help="--rerun: write the comparison as JSON here")
    rp.add_argument("--force", action="store_true", help="replace an existing --report file")
    stream_args(rp)
    live_args(rp)
    rp.set_defaults(func=cmd_replay)
    ls = sub.add_parser("listen", help="print the messages a RealHands publisher sends")
    ls.add_argument("--endpoint", default="tcp://127.0.0.1:5555")
    ls.add_argument("--count", type=int, help="stop after this many messages")
    ls.add_argument("--timeout", type=float, default=10.0, help="stop after this many quiet seconds")
    ls.set_defaults(func=cmd_listen)
    k = sub.add_parser("keys", help="make CURVE key pairs (server, client) for LAN mode")
    k.add_argument("folder")
    k.add_argument("--force", action="store_true", help="replace keys already in the folder")
    k.set_defaults(func=cmd_keys)

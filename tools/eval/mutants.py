#!/usr/bin/env python3
"""Mutation check: run the test suite with known-broken stages swapped in and report which tests catch each.

Every mutant must be caught by at least one test, else the suite cannot tell a working product from that broken
one. The mutants are applied from outside the product code (no test-only branches in it): a ``sitecustomize``
on PYTHONPATH patches the package in every Python process of the run, the test process and the command-line
subprocesses it starts alike, when REALHANDS_MUTANT names a mutant.

    python -m tools.eval.mutants                    # every mutant, the whole suite each time (~25 min here)
    python -m tools.eval.mutants --mutants mean_pose --tests tests/test_perception_fit.py
    python -m tools.eval.mutants --markdown docs/testing.md   # also write the table into that file

Prints a table (mutant, what it breaks, tests that failed) and exits 1 when a mutant survives.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "mutant_site"
MARK_BEGIN, MARK_END = "<!-- mutants:begin -->", "<!-- mutants:end -->"


def _mean_pose():
    """The fit stage ignores the image's pose: every hand gets the model's mean pose and mean shape (placement
    kept)."""
    import torch

    from realhands.reconstruct import Reconstructor

    fit = Reconstructor.fit

    def mutant(self, st, *args, **kwargs):
        ran = fit(self, st, *args, **kwargs)
        p = dict(st.params)
        dt = p["hand_pose"].dtype
        p["hand_pose"] = torch.as_tensor(st.model.data.hands_mean, dtype=dt)[None]
        p["betas"] = torch.zeros_like(p["betas"])
        st.set_params(p)
        return ran

    Reconstructor.fit = mutant


def _wrong_side():
    """Each hand is fitted with the other side's model."""
    from realhands.reconstruct import Reconstructor

    assign = Reconstructor.assign_sides

    def mutant(self, *args, **kwargs):
        return [("left" if side == "right" else "right", *rest) for side, *rest in assign(self, *args, **kwargs)]

    Reconstructor.assign_sides = mutant


def _zero_depth():
    """Placement loses its depth: the hand's translation has z = 0."""
    from realhands.reconstruct import Reconstructor

    fit = Reconstructor.fit

    def mutant(self, st, *args, **kwargs):
        ran = fit(self, st, *args, **kwargs)
        p = dict(st.params)
        p["transl"] = p["transl"].clone()
        p["transl"][:, 2] = 0.0
        st.set_params(p)
        return ran

    Reconstructor.fit = mutant


def _dropped_offsets():
    """The wire's per-vertex offsets are dropped (zeros): engines skin the bare rig, without pose correctives,
    shape changes since the rig or refinement's detail."""
    import numpy as np

    from realhands.streaming import messages

    def mutant(model, full_pose, betas, rig_rest, vertex_offsets=None):
        return np.zeros_like(np.asarray(rig_rest))

    messages.bind_offsets = mutant


def _no_refinement():
    """Refinement runs and reports success but leaves the hand as it was."""
    from realhands.reconstruct import Reconstructor

    def mutant(self, st):
        if not self.cfg.refine_iterations or st.mask is None:
            return False
        st.refined = True
        return True

    Reconstructor.refine = mutant


def _no_frame_dropping():
    """The real-time pipeline queues every frame instead of dropping what a slow stage cannot take."""
    from realhands.live import pipeline

    init = pipeline._Slot.__init__

    def mutant(self, drop, *args, **kwargs):
        init(self, False, *args, **kwargs)

    pipeline._Slot.__init__ = mutant


def _one_view():
    """Stereo sources are tracked from the reference view alone: the second view's image and detections are
    ignored (no multi-view fit, no second view for the texture)."""
    from realhands.reconstruct import Reconstructor

    solve = Reconstructor.solve

    def mutant(self, image, detections, camera=None, timestamp=None, detect_ms=0.0, second_view=None):
        return solve(self, image, detections, camera, timestamp, detect_ms, None)

    Reconstructor.solve = mutant


def _shape_not_held():
    """Two views never hold the user's shape: it is fitted afresh on every frame (bone lengths breathe, the rig
    is re-sent)."""
    from realhands.reconstruct import Reconstructor

    Reconstructor.calibrate_shape = lambda self, st: False


def _no_smoothing():
    """Video mode's temporal filter is off: every frame's fit goes out as fitted."""
    from realhands.reconstruct import Reconstructor

    Reconstructor.smooth = lambda self, st, timestamp: False


def _newest_texture():
    """The texture fusion takes every view's colour outright: a later, worse view overwrites a better one."""
    import numpy as np

    from realhands.texture.fusion import TextureFusion

    def mutant(self, obs):
        q = np.nan_to_num(np.asarray(obs.weight, np.float32), nan=0.0)
        c = np.asarray(obs.colour, np.float32)
        use = (q >= self.min_weight) & np.isfinite(c).all(-1)
        if not use.any():
            return
        self.colour[use] = c[use]
        self.confidence[use] = q[use] ** 2
        self.alternate_weight[use] = 0.0
        self.best = np.where(use, np.maximum(self.best, q), self.best)
        self.seen |= use
        self.version += 1

    TextureFusion.update = mutant


def _handnet_every_frame():
    """HandNet runs on every tracked frame in video (pose and mask), not only when a frame uses it."""
    from realhands.reconstruct import Reconstructor

    estimate = Reconstructor.estimate

    def mutant(self, st, image, when_needed=False):
        return estimate(self, st, image, False)

    Reconstructor.estimate = mutant


def _unbounded_extrapolation():
    """The pose extrapolation to the publish time has no bound on the hand's travel and turn."""
    from realhands.streaming import extrapolation

    extrapolation.MAX_SHIFT_M = float("inf")
    extrapolation.MAX_TURN_RAD = float("inf")


def _no_texture_budget():
    """The live texture stage ignores its CPU share: on a slow CPU it takes views at its full cadence."""
    from realhands.live import pipeline

    pipeline.LivePipeline._budget = lambda self, *args, **kwargs: None


#: name -> what it breaks, and the patch
MUTANTS = {"mean_pose": _mean_pose, "wrong_side": _wrong_side, "zero_depth": _zero_depth,
           "dropped_offsets": _dropped_offsets, "no_refinement": _no_refinement,
           "no_frame_dropping": _no_frame_dropping, "one_view": _one_view, "shape_not_held": _shape_not_held,
           "no_smoothing": _no_smoothing, "newest_texture": _newest_texture,
           "handnet_every_frame": _handnet_every_frame, "unbounded_extrapolation": _unbounded_extrapolation,
           "no_texture_budget": _no_texture_budget}


def apply(name: str) -> None:
    """Patch the package with the mutant ``name`` (called by mutant_site/sitecustomize.py)."""
    if name not in MUTANTS:
        raise SystemExit(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    MUTANTS[name]()


def run_suite(mutant: str | None, tests: list[str]) -> tuple[list[str], int, float]:
    """(failed test ids, tests run, seconds) of one pytest run with ``mutant`` applied (None: the real product)."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        # this checkout's package first (the installed one may be another checkout's, in editable mode)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SITE), str(ROOT), str(ROOT / "python_backend")]),
                   REALHANDS_REQUIRE_MONO="1")
        env.pop("REALHANDS_MUTANT", None)
        if mutant:
            env["REALHANDS_MUTANT"] = mutant
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *tests],
                       cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.time() - t0
        if not xml.is_file():
            return ["(pytest did not run)"], 0, seconds
        failed, total = [], 0
        for case in ET.parse(xml).getroot().iter("testcase"):
            total += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname').split('.')[-1]}::{case.get('name')}")
        return failed, total, seconds


def _row_name(line: str) -> str | None:
    """The mutant a table row is about (None for the control), from its first cell."""
    cell = line.split("|")[1].strip()
    return None if cell.startswith("none") else cell.strip("`")


def merged_table(block: str, lines: list[str], ran: list[str | None]) -> tuple[str, list[str]]:
    """The table of this run (``lines``: header, rule, a row per run in ``ran``) with the rows of the earlier table
    in ``block`` for known mutants this run did not take, in MUTANTS' order; and the names of those kept rows."""
    earlier = {_row_name(ln): ln for ln in block.strip().splitlines() if ln.startswith("| ") and "---" not in ln
               and not ln.startswith("| mutant |")}
    now = dict(zip(ran, lines[2:], strict=True))
    out, kept = lines[:2], []
    for name in [None, *MUTANTS]:
        if name in now:
            out.append(now[name])
        elif name in earlier:
            out.append(earlier[name])
            kept.append(name)
    return "\n".join(out), [k for k in kept if k is not None]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mutants", nargs="+", default=list(MUTANTS), choices=list(MUTANTS))
    ap.add_argument("--tests", nargs="+", default=["tests"], help="pytest paths (default: the whole suite)")
    ap.add_argument("--markdown", help="write the table between the mutants markers of this file")
    args = ap.parse_args()
    from tqdm import tqdm

    rows = []
    runs = [None] + args.mutants
    for name in tqdm(runs, desc="mutation check", unit="run"):
        failed, total, seconds = run_suite(name, args.tests)
        rows.append((name, failed, total, seconds))
    lines = ["| mutant | what it breaks | tests that fail |", "| --- | --- | --- |"]
    survived = []
    for name, failed, total, seconds in rows:
        what = "the product as it is" if name is None else MUTANTS[name].__doc__.strip().replace("\n", " ")
        what = " ".join(what.split())
        label = "none (control)" if name is None else f"`{name}`"
        caught = ", ".join(f"`{f}`" for f in failed) or "none"
        if name is not None and not failed:
            survived.append(name)
            caught = "**none: survives**"
        lines.append(f"| {label} | {what} | {caught} ({len(failed)} of {total}, {seconds / 60:.1f} min) |")
    table = "\n".join(lines)
    print(table)
    control_failed = rows[0][1]
    if args.markdown:
        path = Path(args.markdown)
        text = path.read_text()
        if MARK_BEGIN not in text or MARK_END not in text:
            raise SystemExit(f"{path} has no {MARK_BEGIN} ... {MARK_END} block to fill")
        head, rest = text.split(MARK_BEGIN, 1)
        block, tail = rest.split(MARK_END, 1)
        cmd = "python -m tools.eval.mutants" + (f" --mutants {' '.join(args.mutants)}" if args.mutants != list(MUTANTS)
                                                else "") + (f" --tests {' '.join(args.tests)}"
                                                           if args.tests != ["tests"] else "")
        stamp = f"Command: `{cmd}`, {time.strftime('%Y-%m-%d')}."
        table, kept = merged_table(block, lines, [name for name, *_ in rows])
        if kept:  # rows of mutants this run did not take stay, with the run they came from
            earlier = [ln for ln in block.strip().splitlines() if ln and not ln.startswith("|")]
            stamp += (f" The rows of {', '.join(f'`{k}`' for k in kept)} are from an earlier run: "
                      + " ".join(earlier))
        path.write_text(f"{head}{MARK_BEGIN}\n{table}\n\n{stamp}\n{MARK_END}{tail}")
        print(f"wrote the table into {path}")
    if control_failed:
        print(f"the unmutated suite fails ({len(control_failed)} tests): fix that first", file=sys.stderr)
        return 1
    if survived:
        print(f"mutants not caught by any test: {', '.join(survived)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

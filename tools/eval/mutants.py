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


#: name -> what it breaks, and the patch
MUTANTS = {"mean_pose": _mean_pose, "wrong_side": _wrong_side, "zero_depth": _zero_depth,
           "dropped_offsets": _dropped_offsets, "no_refinement": _no_refinement,
           "no_frame_dropping": _no_frame_dropping}


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
        _, tail = rest.split(MARK_END, 1)
        cmd = "python -m tools.eval.mutants" + (f" --tests {' '.join(args.tests)}" if args.tests != ["tests"] else "")
        stamp = f"Command: `{cmd}`, {time.strftime('%Y-%m-%d')}."
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

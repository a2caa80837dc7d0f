"""Applies the mutant named by REALHANDS_MUTANT in every Python process of a mutation-check run
(tools/eval/mutants.py puts this folder on PYTHONPATH; nothing else does)."""
import os

if os.environ.get("REALHANDS_MUTANT"):
    from tools.eval.mutants import apply

    apply(os.environ["REALHANDS_MUTANT"])

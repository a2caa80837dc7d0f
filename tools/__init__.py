"""Developer tools, run from the repository root as modules (``python -m tools.bench.live``); they import the installed
``realhands`` package and each other through this package, never by editing ``sys.path``.

    bootstrap.sh, install_mono.sh   set-up (make setup / make test)
    bench/    benchmarks: each prints a table, MediaPipe alone beside the pipeline where it applies
    build/    builders of committed assets: the hand model (and its data), pose-library renders, shared schema,
              golden wire vectors
    eval/     evaluations behind the docs: docs/RESULTS.md (make_results), the HandNet model card, the realism check
    unity/    the Unity package's harness: mono build and NUnit tests, .meta files, the C# probe and benchmark, the
              UnityEngine stand-in for type checks
    gpu/      jobs run on a lent GPU machine (HandNet training), and the snapshot they start from
"""

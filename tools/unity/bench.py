#!/usr/bin/env python3
"""Time the Unity package's C# core (mono here; Unity's Mono/IL2CPP are comparable or faster): message decoding,
skinning, XR joints, interpolation, per hand-frame, and the bytes each allocates per call in steady state (the
garbage a 30 fps stream makes the engine collect). Prints a markdown table.

    python -m tools.unity.bench
"""
import platform
import subprocess
import sys
from pathlib import Path

from tools.unity import harness as unity_core

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    out = unity_core.DEFAULT_OUT
    paths = unity_core.build(out)
    exe = out / "RealHandsBench.exe"
    unity_core._mcs([f"-out:{exe}", f"-r:{paths['core']}", "-r:System.Core.dll",
                     str(ROOT / "tools/unity/probe/RealHandsBench.cs"),
                     str(ROOT / "unity_package/Tests/Core/ReplayPeer.cs")])  # the tests' replayed ZMTP peer
    r = subprocess.run(["mono", "--optimize=all", str(exe), str(ROOT / "shared_schema")], capture_output=True,
                       text=True, check=True)
    mono = subprocess.run(["mono", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"C# core on {platform.processor() or platform.machine()}, {mono}\n")
    print("| step | median ms | max ms | bytes allocated per call |\n| --- | ---: | ---: | ---: |")
    for line in r.stdout.strip().splitlines():
        name, med, mx, alloc = line.split("\t")
        print(f"| {name} | {med} | {mx} | {int(alloc):,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build and test the Unity package's plain C# core with Debian's mono (no Unity needed).

    python -m tools.unity.harness build [--out DIR]      # RealHands.Core.dll, the NUnit tests, realhands-probe
    python -m tools.unity.harness test  [--out DIR]      # build, then run the NUnit tests (nunit-console)
    python -m tools.unity.harness probe -- --endpoint tcp://127.0.0.1:5555 --frames 100

The core is C# 7 (mono's mcs accepts up to 7.2; Unity 2021.3 compiles it as C# 9). `tools/install_mono.sh`
installs mcs, mono and nunit-console from Debian when they are missing. The Unity layer (MonoBehaviours) is
type-checked against a stand-in of the UnityEngine API it uses (tools/unity/stubs), not against Unity itself.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "unity_package"
DEFAULT_OUT = ROOT / "build" / "unity_core"
NUNIT_FRAMEWORK = Path("/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll")
LANG = "-langversion:7.2"


class ToolMissing(RuntimeError):
    """mcs, mono or nunit-console is not installed (tools/install_mono.sh installs them)."""


def tools_present() -> bool:
    return all(shutil.which(t) for t in ("mcs", "mono", "nunit-console")) and NUNIT_FRAMEWORK.is_file()


def _sources(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.cs"))


def _mcs(args: list[str]) -> None:
    if not shutil.which("mcs"):
        raise ToolMissing("mcs (Debian's mono C# compiler) is not installed: run tools/install_mono.sh")
    r = subprocess.run(["mcs", LANG, "-nologo", "-warnaserror+", "-nowarn:1591", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("mcs failed:\n" + r.stdout + r.stderr)


def build(out: Path = DEFAULT_OUT) -> dict[str, Path]:
    """Compile the core library, its NUnit tests, the probe and the Unity-layer type check into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    core = out / "RealHands.Core.dll"
    tests = out / "RealHands.Core.Tests.dll"
    probe = out / "RealHandsProbe.exe"
    _mcs(["-target:library", f"-out:{core}", "-doc:" + str(out / "RealHands.Core.xml"),
          *_sources(PKG / "Runtime/Core")])
    _mcs(["-target:library", f"-out:{tests}", f"-r:{core}", f"-r:{NUNIT_FRAMEWORK}", "-r:System.Core.dll",
          *_sources(PKG / "Tests/Core")])
    _mcs([f"-out:{probe}", f"-r:{core}", str(ROOT / "tools/unity/probe/RealHandsProbe.cs")])
    shutil.copy(NUNIT_FRAMEWORK, out / NUNIT_FRAMEWORK.name)
    return {"core": core, "tests": tests, "probe": probe}


#: The XR Hands versions the XR Hands layer is compiled against: (the stand-in's defines, the package's defines as
#: its asmdef's versionDefines set them for that version). 1.6 also without the mesh define (the layer must build
#: whatever the defines say).
XR_HANDS_VERSIONS = {
    "1.1": ([], ["REALHANDS_XR_HANDS"]),
    "1.5": (["XR_HANDS_1_5"], ["REALHANDS_XR_HANDS"]),
    "1.6": (["XR_HANDS_1_5", "XR_HANDS_1_6"], ["REALHANDS_XR_HANDS", "REALHANDS_XR_HANDS_MESH"]),
    "1.6, no mesh define": (["XR_HANDS_1_5", "XR_HANDS_1_6"], ["REALHANDS_XR_HANDS"]),
}


def _defines(names: list[str]) -> list[str]:
    return [f"-define:{';'.join(names)}"] if names else []


def check_unity_layer(out: Path = DEFAULT_OUT) -> Path:
    """Type-check Runtime/Unity, Runtime/XRHands, the XR Hands sample, Editor and Tests/Runtime against the UnityEngine
    stand-in (tools/unity/stubs), the XR Hands layer and sample once per XR_HANDS_VERSIONS entry (each in its own
    folder, the stand-in built with that version's declarations). Returns the Runtime layer built against the newest
    stand-in."""
    core = out / "RealHands.Core.dll"
    stub_sources = _sources(ROOT / "tools/unity/stubs")
    runtime = None
    for i, (version, (stub_defines, package_defines)) in enumerate(XR_HANDS_VERSIONS.items()):
        where = out / f"xr_hands_{i}"
        where.mkdir(parents=True, exist_ok=True)
        stubs, rt = where / "UnityStubs.dll", where / "RealHands.Runtime.dll"
        try:
            _mcs(["-target:library", f"-out:{stubs}", "-nowarn:0067,0649,0169,0414", *_defines(stub_defines),
                  *stub_sources])
            _mcs(["-target:library", f"-out:{rt}", f"-r:{core}", f"-r:{stubs}", *_sources(PKG / "Runtime/Unity")])
            _mcs(["-target:library", f"-out:{where / 'RealHands.XRHands.dll'}", *_defines(package_defines),
                  f"-r:{core}", f"-r:{stubs}", f"-r:{rt}", *_sources(PKG / "Runtime/XRHands")])
        except RuntimeError as e:
            raise RuntimeError(f"against XR Hands {version}: {e}") from e
        runtime = (stubs, rt)
        # the XR Hands sample's script, with the define its asmdef gets from an installed XR Hands
        _mcs(["-target:library", f"-out:{where / 'RealHands.Samples.XRHands.dll'}", "-define:REALHANDS_XR_HANDS",
              f"-r:{stubs}", *_sources(PKG / "Samples~/XRHands")])
    stubs, rt = runtime
    _mcs(["-target:library", f"-out:{out / 'RealHands.Editor.dll'}", "-define:UNITY_EDITOR", f"-r:{core}",
          f"-r:{stubs}", f"-r:{rt}", *_sources(PKG / "Editor")])
    _mcs(["-target:library", f"-out:{out / 'RealHands.Runtime.Tests.dll'}", f"-r:{core}", f"-r:{stubs}",
          f"-r:{rt}", f"-r:{NUNIT_FRAMEWORK}", *_sources(PKG / "Tests/Runtime")])
    return rt


def run_tests(out: Path = DEFAULT_OUT) -> dict:
    """Run the NUnit tests; returns {'total', 'failures', 'errors', 'ignored', 'output', 'failed': [names]}."""
    if not tools_present():
        raise ToolMissing("nunit-console/mono are not installed: run tools/install_mono.sh")
    paths = build(out)
    xml = out / "TestResult.xml"
    # the test data the package ships (what the tests read in a user's project), not the repository's shared_schema
    env = dict(os.environ, REALHANDS_TEST_DATA=str(ROOT / "unity_package" / "Tests" / "Core" / "Data~"))
    env.pop("REALHANDS_SHARED_SCHEMA", None)
    r = subprocess.run(["nunit-console", "-nologo", str(paths["tests"]), f"-xml={xml}"], capture_output=True, text=True,
                       env=env, cwd=out, timeout=600)
    root = ET.parse(xml).getroot()
    failed = [c.get("name") for c in root.iter("test-case") if c.get("success") == "False"]
    return {"total": int(root.get("total")), "failures": int(root.get("failures")), "errors": int(root.get("errors")),
            "ignored": int(root.get("ignored", 0)), "not_run": int(root.get("not-run", 0)),
            "output": r.stdout + r.stderr, "failed": failed,
            "returncode": r.returncode}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["build", "test", "probe", "check-unity"])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # the probe's own arguments follow "--"
    args = ap.parse_args(argv[:cut])
    args.rest = argv[cut + 1:]
    try:
        if args.command == "build":
            for k, p in build(args.out).items():
                print(f"{k:6s} {p}")
            return 0
        if args.command == "check-unity":
            build(args.out)
            check_unity_layer(args.out)
            print("Unity layer type-checks against tools/unity/stubs")
            return 0
        if args.command == "probe":
            paths = build(args.out)
            return subprocess.call(["mono", str(paths["probe"]), *args.rest])
        res = run_tests(args.out)
        print(res["output"])
        print(f"{res['total']} tests, {res['failures']} failures, {res['errors']} errors, {res['not_run']} not run")
        return 0 if res["returncode"] == 0 and not res["failures"] and not res["errors"] else 1
    except (ToolMissing, RuntimeError) as e:
        print(f"unity_core: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Write (or --check) the Unity .meta files of unity_package/: every asset and folder Unity imports needs one, with
a GUID that never changes (scenes and prefabs refer to scripts by it). GUIDs are derived from the package name and
the path, so they are stable across machines and re-runs.

    python -m tools.unity.meta [--check]

Folders ending in '~' are not imported by Unity, but the samples in Samples~ are copied into a user's project with
their .meta files, so Samples~ gets them too; Documentation~ does not.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "unity_package"
PACKAGE = "com.realhands.unity"
NO_META_DIRS = {"Documentation~", "Data~"}  # Data~: the tests' golden files, read from disk, never imported


def guid(rel: str) -> str:
    return hashlib.md5(f"{PACKAGE}/{rel}".encode()).hexdigest()


def _common(g: str, importer: str, extra: str = "") -> str:
    return (f"fileFormatVersion: 2\nguid: {g}\n{extra}{importer}:\n  externalObjects: {{}}\n  userData: \n"
            "  assetBundleName: \n  assetBundleVariant: \n")


def meta_text(path: Path) -> str:
    rel = path.relative_to(PKG).as_posix()
    g = guid(rel)
    if path.is_dir():
        return _common(g, "DefaultImporter", "folderAsset: yes\n")
    suffix = path.suffix
    if suffix == ".cs":
        return (f"fileFormatVersion: 2\nguid: {g}\nMonoImporter:\n  externalObjects: {{}}\n  serializedVersion: 2\n"
                "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n"
                "  assetBundleName: \n  assetBundleVariant: \n")
    if suffix == ".asmdef":
        return _common(g, "AssemblyDefinitionImporter")
    if path.name == "package.json":
        return _common(g, "PackageManifestImporter")
    if suffix in (".md", ".json", ".txt"):
        return _common(g, "TextScriptImporter")
    if suffix == ".shader":
        return (f"fileFormatVersion: 2\nguid: {g}\nShaderImporter:\n  externalObjects: {{}}\n  defaultTextures: []\n"
                "  nonModifiableTextures: []\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n")
    if suffix in (".hlsl", ".cginc"):
        return _common(g, "ShaderIncludeImporter")
    return _common(g, "DefaultImporter")


def wanted() -> dict[Path, str]:
    """Meta path -> text, for every file and folder under the package that Unity (or a sample import) sees."""
    out = {}
    for p in sorted(PKG.rglob("*")):
        rel = p.relative_to(PKG)
        if p.suffix == ".meta" or any(part in NO_META_DIRS for part in rel.parts) or p.name.startswith("."):
            continue
        if p == PKG / "Samples~":
            continue  # the ~ folder itself is not an asset; its contents are once imported
        out[p.with_name(p.name + ".meta")] = meta_text(p)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 when a .meta file is missing, stale or orphaned")
    args = ap.parse_args()
    want = wanted()
    have = set(PKG.rglob("*.meta"))
    stale = [p for p, t in want.items() if not p.is_file() or p.read_text() != t]
    orphans = sorted(have - set(want))
    if args.check:
        for p in stale:
            print(f"missing or stale: {p.relative_to(ROOT)}")
        for p in orphans:
            print(f"orphaned: {p.relative_to(ROOT)}")
        print("meta files " + ("need `python -m tools.unity.meta`" if stale or orphans else "current"))
        return 1 if stale or orphans else 0
    for p in stale:
        p.write_text(want[p])
    for p in orphans:
        p.unlink()
    print(f"wrote {len(stale)} .meta files, removed {len(orphans)} orphans")
    return 0


if __name__ == "__main__":
    sys.exit(main())

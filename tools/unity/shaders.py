#!/usr/bin/env python3
"""Compile the Unity package's shaders' HLSL programs with glslang (Debian's glslang-tools) against stand-ins of the
pipelines' includes (tools/unity/shader_stubs), so that syntax and type errors in our shader code show here, where
Unity cannot run. Every HLSLPROGRAM / CGPROGRAM block of every .shader under unity_package/, each vertex and
fragment entry point, with no keyword and with each keyword its multi_compile lines list, alone. The built-in
pipeline's shortcut pragmas (multi_compile_fwdbase, _fog, _instancing, _shadowcaster, ...) list no keywords: their
macros compile in the one form the stand-ins give them (instancing and single-pass stereo on). What it cannot check:
Unity's own compiler's platform rules, how the shader looks, and that the stand-ins' signatures match the real
includes (they were written from URP 12 and Unity 2021.3's built-in shaders).

    python -m tools.unity.shaders          # prints one line per program and variant; exit 1 on any error
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.unity.harness import ToolMissing

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "unity_package"
STUBS = Path(__file__).resolve().parent / "shader_stubs"
GLSLANG = "glslangValidator"

_BLOCK = re.compile(r"(HLSLPROGRAM|CGPROGRAM)(.*?)(ENDHLSL|ENDCG)", re.S)
_PRAGMA = re.compile(r"^[ \t]*#pragma[ \t]+(\w+)[ \t]*(.*)$", re.M)


def glslang_present() -> bool:
    return shutil.which(GLSLANG) is not None


@dataclass
class Program:
    """One HLSL program block of a .shader file: its source, entry points and keyword variants."""

    shader: Path
    index: int
    source: str
    vertex: str
    fragment: str
    keywords: list[list[str]]  # per multi_compile line, its keywords ("_" = none)

    def variants(self) -> list[tuple[str, ...]]:
        """All keywords off, then each keyword alone."""
        out = [()]
        for line in self.keywords:
            out += [(k,) for k in line if k != "_" and (k,) not in out]
        return out


def programs(shader: Path) -> list[Program]:
    text = shader.read_text()
    out = []
    for i, m in enumerate(_BLOCK.finditer(text)):
        body = m.group(2)
        pragmas = _PRAGMA.findall(body)
        entry = {name: value.split()[0] for name, value in pragmas if name in ("vertex", "fragment")}
        if set(entry) != {"vertex", "fragment"}:
            raise ValueError(f"{shader.name}: program {i} lacks #pragma vertex / fragment")
        keywords = [value.split() for name, value in pragmas if name.startswith("multi_compile") and value.split()]
        out.append(Program(shader, i, body, entry["vertex"], entry["fragment"], keywords))
    return out


def compile_program(p: Program, variant: tuple[str, ...]) -> list[str]:
    """glslang's errors for both entry points of ``p`` with ``variant``'s keywords defined ([] when it compiles)."""
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"{p.shader.stem}_{p.index}.hlsl"
        src.write_text("".join(f"#define {k} 1\n" for k in variant) + p.source)
        for stage, entry in (("vert", p.vertex), ("frag", p.fragment)):
            r = subprocess.run([GLSLANG, "-D", "-V", "-S", stage, "-e", entry, f"-I{STUBS}", f"-I{p.shader.parent}",
                                "-o", str(Path(tmp) / f"{stage}.spv"), str(src)],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                lines = [ln for ln in (r.stdout + r.stderr).splitlines() if "ERROR" in ln] or [r.stdout + r.stderr]
                errors += [f"{stage} {entry}: {ln.strip()}" for ln in lines]
    return errors


def check(shaders: list[Path] | None = None, verbose: bool = False) -> dict:
    """Compile every program of ``shaders`` (default: every .shader in the package) in every variant. Returns
    {"compiled": n, "errors": {"File.shader #i [keywords]": [messages]}}."""
    if not glslang_present():
        raise ToolMissing(f"{GLSLANG} not found: install Debian's glslang-tools (tools/install_mono.sh does)")
    shaders = sorted(PACKAGE.rglob("*.shader")) if shaders is None else shaders
    done, errors = 0, {}
    for shader in shaders:
        for p in programs(shader):
            for v in p.variants():
                name = f"{shader.name} #{p.index} [{' '.join(v) or 'no keywords'}]"
                errs = compile_program(p, v)
                done += 1
                if errs:
                    errors[name] = errs
                if verbose:
                    print(f"{'FAIL' if errs else 'ok  '} {name}")
    return {"compiled": done, "errors": errors}


def main() -> int:
    try:
        res = check(verbose=True)
    except ToolMissing as e:
        print(f"shaders: {e}", file=sys.stderr)
        return 2
    for name, errs in res["errors"].items():
        print(f"\n{name}:\n  " + "\n  ".join(errs))
    print(f"{res['compiled']} program variants compiled, {len(res['errors'])} with errors")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Install Debian's mono C# compiler, runtime and NUnit 2.6 console when missing (for the Unity package's core tests),
# and glslang (the shaders' HLSL programs compiled against stand-ins of the pipelines' includes: tools/unity/shaders.py).
# ZeroMQ on the other side of the live test is real libzmq: the one pyzmq's wheel carries (no Debian libzmq needed).
set -euo pipefail
need=()
command -v mcs >/dev/null || need+=(mono-mcs)
command -v mono >/dev/null || need+=(mono-runtime)
command -v nunit-console >/dev/null || need+=(nunit-console)
[ -f /usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll ] || need+=(libnunit-framework2.6.3-cil)
command -v glslangValidator >/dev/null || need+=(glslang-tools)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing ${need[*]} (Debian) for the Unity package's C# tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${need[@]}" >/dev/null
}
command -v mcs >/dev/null && command -v nunit-console >/dev/null || { echo "mono/nunit-console install failed" >&2; exit 1; }
command -v glslangValidator >/dev/null || { echo "glslang-tools install failed" >&2; exit 1; }

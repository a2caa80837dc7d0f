#!/usr/bin/env bash
# Create .venv and install realhands (editable) with the extras given as $1 (e.g. "dev,perception").
# Idempotent: re-installs only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))'; then
  echo "[bootstrap] error: RealHands needs Python 3.10-3.12 (mediapipe 0.10.21 has no wheels for others);" \
       "set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
stamp=".venv/.installed-${extras//,/-}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[bootstrap] installing realhands[$extras] into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/python -m pip install -q -e ".[$extras]" 2> >(grep -v "is ignored: it is neither" >&2)
  touch "$stamp"
fi

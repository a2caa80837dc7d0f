#!/usr/bin/env bash
# Create .venv and install realhands (editable) with the extras given as $1 (e.g. "dev,perception").
# Idempotent: re-installs only when pyproject.toml changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
py="${PYTHON:-python3}"
stamp=".venv/.installed-${extras//,/-}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "[bootstrap] installing realhands[$extras] into .venv (first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e ".[$extras]"
  touch "$stamp"
fi

# Quick start (see README): `make demo` and `make test`. Both set everything up first (idempotent).
EXTRAS ?= dev,perception,streaming,training
PY := .venv/bin/python

.PHONY: setup demo test model

setup:
	@bash tools/bootstrap.sh $(EXTRAS)

demo: setup
	$(PY) -m realhands.cli demo

test: setup
	@bash tools/install_mono.sh
	$(PY) -m ruff check .
	REALHANDS_REQUIRE_MONO=1 $(PY) -m pytest -q

# Rebuild the shipped hand model and its docs renders (deterministic). Tools run as modules from the repository root.
model: setup
	$(PY) -m tools.build.hand_model
	$(PY) -m tools.build.pose_library
	$(PY) -m tools.build.pose_library --side left --out docs/images/pose_library_left.png

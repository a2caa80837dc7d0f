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
	REALHANDS_REQUIRE_MONO=1 $(PY) -m pytest -q

# Rebuild the shipped hand model and its docs renders (deterministic).
model: setup
	$(PY) tools/build_hand_model.py
	$(PY) tools/render_pose_library.py
	$(PY) tools/render_pose_library.py --side left --out docs/images/pose_library_left.png

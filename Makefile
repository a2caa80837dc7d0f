# Quick start (see README): `make demo` and `make test`. Both set everything up first (idempotent).
EXTRAS ?= dev,perception,streaming,training
PY := .venv/bin/python

.PHONY: setup demo test test-gpu model

setup:
	@bash tools/bootstrap.sh $(EXTRAS)

demo: setup
	$(PY) -m realhands.cli demo

test: setup
	@bash tools/install_mono.sh
	$(PY) -m ruff check .
	REALHANDS_REQUIRE_MONO=1 $(PY) -m pytest -q -rs

# On a machine with an NVIDIA GPU and the CUDA toolkit: the CUDA extra (nvdiffrast), then the CUDA-marked tests.
test-gpu:
	@bash tools/bootstrap.sh $(EXTRAS),cuda
	@$(PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'make test-gpu: torch sees no CUDA device')"
	$(PY) -m pytest -q -rs -m cuda

# Rebuild the shipped hand model and its docs renders (deterministic). Tools run as modules from the repository root.
model: setup
	$(PY) -m tools.build.hand_model
	$(PY) -m tools.build.pose_library
	$(PY) -m tools.build.pose_library --side left --out docs/images/pose_library_left.png

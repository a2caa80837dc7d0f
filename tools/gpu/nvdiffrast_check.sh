#!/usr/bin/env bash
# The nvdiffrast path on a lent GPU (issue 22): build its CUDA plugin for this chip only, run the CUDA tests, time
# refinement iterations at 128^2 and 256^2 with nvdiffrast and with the soft rasteriser.
#   tools/gpu/nvdiffrast_check.sh WHEEL OUT      (WHEEL: a diffrp-nvdiffrast wheel carried to the machine)
WHEEL=${1:?diffrp-nvdiffrast wheel}; OUT=${2:?output folder}
export PYTHONPATH="$PWD/python_backend:$PWD:/tmp/site" PYTHONUNBUFFERED=1 TORCH_CUDA_ARCH_LIST=9.0 MAX_JOBS=16
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site --upgrade "$WHEEL"
t0=$(date +%s)
python3 -c "import torch; from realhands.render import nvdiff; nvdiff._context(torch.device('cuda')); print('plugin ok')" \
  > "$OUT/nvd_build.log" 2>&1
echo "plugin build: exit $?, $(( $(date +%s) - t0 )) s" | tee -a "$OUT/nvd_build.log"
timeout 40 python3 -m pytest -q -p no:cacheprovider -m cuda tests/test_silhouette_backends.py -rs 2>&1 | tail -5
timeout 60 python3 -m tools.bench.refine --timing-only --device cuda --backend nvdiffrast --sizes 128,256 2>&1 | tail -4

#!/usr/bin/env bash
# One lent-GPU run (docs/handnet.md, "Training on a GPU"): continue the shipped HandNet on renders whose heatmaps are
# MediaPipe's own detections. The GPU machine has no MediaPipe and takes a small tree, so the detections travel
# (tools/gpu/detections.py extract, here) and the renders are made there again with the same seed and attached.
# Every phase is bounded so that the results come back inside one call:
#   tools/gpu/detected_job.sh CARRIED.npz OUT [WORK]
# Environment: SYNTH_S (seconds of rendering, 110), TRAIN_S (seconds of training, 300), DEVICE (cuda), WORKERS,
# NVD_WHEEL (a diffrp-nvdiffrast wheel: its CUDA plugin is built while the data renders, then the CUDA tests and the
# refinement timing run on it at the end).
set -u
CARRIED=${1:?detections npz}; OUT=${2:?output folder}; W=${3:-/tmp/job}
SYNTH_S=${SYNTH_S:-110}; TRAIN_S=${TRAIN_S:-300}; DEVICE=${DEVICE:-cuda}
mkdir -p "$W" "$OUT"
export PYTHONPATH="$PWD/python_backend${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TQDM_MININTERVAL=20
rh() { python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' "$@"; }
stamp() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/job.log"; }
cores=$(nproc); WORKERS=${WORKERS:-$((cores > 2 ? cores - 2 : 1))}
stamp "machine: $cores cores; $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"
stamp "python $(python3 -c 'import torch, numpy; print(torch.__version__, numpy.__version__, torch.cuda.is_available())')"

if [ -n "${NVD_WHEEL:-}" ] && [ "$DEVICE" = cuda ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$NVD_WHEEL" >> "$OUT/job.log" 2>&1 \
    && export PYTHONPATH="$PYTHONPATH:/tmp/site"
  (export TORCH_CUDA_ARCH_LIST=9.0 MAX_JOBS=4; nice python3 -c "import time, torch; t=time.time(); \
import nvdiffrast.torch as dr; dr.RasterizeCudaContext(device='cuda'); print(f'nvdiffrast plugin built in {time.time()-t:.0f} s')" \
    > "$W/nvd_build.log" 2>&1; echo "exit $?" >> "$W/nvd_build.log") &
  NVD_PID=$!
fi

read -r COUNT SEED SHARD RIG RES < <(python3 -c "import json,numpy as np; m=json.loads(str(np.load('$CARRIED')['meta']));\
print(m['count'], m['seed'], m['shard_size'], m['config']['rig'], m['config']['resolution'])")
stamp "synth: seed $SEED, up to $COUNT samples, $SYNTH_S s on $cores processes"
# one process per core; BLAS and OpenMP pools of one thread each (16 processes x 16 threads rendered 8 samples/s)
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout -s TERM "$SYNTH_S" python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' synth \
  --out "$W/synth" --count "$COUNT" --seed "$SEED" --rig "$RIG" --resolution "$RES" --shard-size "$SHARD" \
  --jobs "$cores" > "$W/synth.log" 2>&1
stamp "synth stopped: $(ls "$W"/synth/shard_*.npz 2>/dev/null | wc -l) shards"
python3 -m tools.gpu.detections attach "$CARRIED" "$W/synth" 2>&1 | tee -a "$OUT/job.log"

U=$W/unpacked
[ "$(df --output=avail -B1G /dev/shm | tail -1)" -gt 40 ] && U=/dev/shm/realhands_unpacked
python3 -c "from realhands.synth.dataset import unpack_dataset as u; u(['$W/synth'], '$U', partial=True, threads=$cores)" \
  >> "$OUT/job.log" 2>&1 || { stamp "unpacking failed"; exit 1; }
stamp "unpacked to $U; training $TRAIN_S s"
timeout -s INT "$TRAIN_S" python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' train \
  --recipe gpu_rt18_detected --init python_backend/realhands/assets/handnet_cpu.onnx --data "$W/synth" --partial \
  --unpacked "$U" --views both --device "$DEVICE" --workers "$WORKERS" --time-budget-min "$(python3 -c "print($TRAIN_S/60*0.85)")" \
  --out "$W/run" > "$W/train.log" 2>&1
stamp "training stopped (exit $?)"
tr '\r' '\n' < "$W/train.log" | grep -v '^ *$' | grep -v 'batch/s\]$' | tail -40 >> "$OUT/job.log"
if [ -f "$W/run/checkpoint.pt" ]; then
  rh export-onnx "$W/run/checkpoint.pt" "$W/handnet_detected.onnx" >> "$OUT/job.log" 2>&1
  (cd "$W" && split -b 15M -a 1 handnet_detected.onnx "$OUT/handnet_detected.onnx.")
  [ -f "$W/handnet_detected_stereo.npz" ] && cp "$W/handnet_detected_stereo.npz" "$OUT/"
  cp "$W/run/train_log.jsonl" "$W/run/loss.png" "$OUT/" 2>/dev/null
fi
stamp "exported"
if [ -n "${NVD_PID:-}" ]; then wait "$NVD_PID"; cp "$W/nvd_build.log" "$OUT/"; fi
[ "${SKIP_CHECKS:-0}" = 1 ] && { stamp "done (checks skipped)"; exit 0; }
stamp "CUDA tests"
timeout 70 python3 -m pytest -q -p no:cacheprovider -m cuda tests/test_lbs.py tests/test_synth.py \
  tests/test_silhouette_backends.py -rs >> "$OUT/job.log" 2>&1
stamp "refinement timing on $DEVICE"
for b in nvdiffrast soft; do
  timeout 45 python3 -m tools.bench.refine --timing-only --device "$DEVICE" --backend $b --sizes 128,256 \
    >> "$OUT/job.log" 2>&1
done
stamp "done"

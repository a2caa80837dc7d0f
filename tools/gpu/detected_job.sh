#!/usr/bin/env bash
# One lent-GPU run (docs/handnet.md, "Training on a GPU"): continue the shipped HandNet on renders whose heatmaps are
# MediaPipe's own detections. The GPU machine has no MediaPipe and takes a small tree, so the detections travel
# (tools/gpu/detections.py extract, here) and the renders are made there again with the same seed and attached.
# Every phase is bounded so that the results come back inside one call:
#   tools/gpu/detected_job.sh CARRIED.npz OUT [WORK]
# Environment: JOB_S (the whole job's seconds: training gets what rendering leaves, less 30 s to save the weights;
# without it TRAIN_S), SYNTH_S (at most this many seconds of rendering, 110; it stops once the carried shards are
# rendered), SYNTH_DEVICE (where the renderer rasterises: cuda, or cpu; a
# CUDA render that fails falls back to the CPU for the time left), TRAIN_S (seconds of training, 300), DEVICE (cuda),
# WORKERS, INIT (the start: the shipped ONNX, or a checkpoint of an earlier run), NVD_WHEEL (a diffrp-nvdiffrast
# wheel: its CUDA plugin is built while the data renders, then the CUDA tests and the refinement timing run on it at
# the end), SKIP_CHECKS=1 (no CUDA tests or timing). What comes back in OUT: job.log, train_log.jsonl, loss.png and
# the trained weights (float32, model only, in 15 MB parts: `cat handnet_detected.pt.* > handnet_detected.pt`, then
# `realhands export-onnx` here).
set -u
CARRIED=${1:?detections npz}; OUT=${2:?output folder}; W=${3:-/tmp/job}
SYNTH_S=${SYNTH_S:-110}; TRAIN_S=${TRAIN_S:-300}; DEVICE=${DEVICE:-cuda}; SYNTH_DEVICE=${SYNTH_DEVICE:-$DEVICE}
INIT=${INIT:-python_backend/realhands/assets/handnet_cpu.onnx}
mkdir -p "$W" "$OUT"
job_t0=$(date +%s)
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

read -r SEED SHARD RIG RES < <(python3 -c "import json,numpy as np; m=json.loads(str(np.load('$CARRIED')['meta']));\
print(m['seed'], m['shard_size'], m['config']['rig'], m['config']['resolution'])")
COUNT=$(python3 -m tools.gpu.detections count "$CARRIED")
stamp "synth: seed $SEED, up to $COUNT samples, $SYNTH_S s on $cores processes, rasterising on $SYNTH_DEVICE"
synth() {  # device seconds: one process per core; BLAS and OpenMP pools of one thread each
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout -s TERM "$2" python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' synth \
    --out "$W/synth" --count "$COUNT" --seed "$SEED" --rig "$RIG" --resolution "$RES" --shard-size "$SHARD" \
    --jobs "$cores" --device "$1" >> "$W/synth.log" 2>&1
}
t0=$(date +%s)
synth "$SYNTH_DEVICE" "$SYNTH_S"; rc=$?
left=$((SYNTH_S - $(date +%s) + t0))
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$SYNTH_DEVICE" != cpu ] && [ "$left" -gt 15 ]; then
  stamp "synth on $SYNTH_DEVICE failed (exit $rc): the CPU renders for the $left s left"
  tr '\r' '\n' < "$W/synth.log" | grep -v 'sample/s\]$' | tail -8 >> "$OUT/job.log"
  synth cpu "$left"
fi
n=$(ls "$W"/synth/shard_*.npz 2>/dev/null | wc -l)
stamp "synth stopped: $n shards ($(python3 -c "print(f'{$n * $SHARD / max($(date +%s) - $t0, 1):.1f}')") samples/s)"
python3 -m tools.gpu.detections attach "$CARRIED" "$W/synth" 2>&1 | tee -a "$OUT/job.log"

U=$W/unpacked
[ "$(df --output=avail -B1G /dev/shm | tail -1)" -gt 40 ] && U=/dev/shm/realhands_unpacked
python3 -c "from realhands.synth.dataset import unpack_dataset as u; u(['$W/synth'], '$U', partial=True, threads=$cores)" \
  >> "$OUT/job.log" 2>&1 || { stamp "unpacking failed"; exit 1; }
[ -n "${JOB_S:-}" ] && TRAIN_S=$((JOB_S - 30 - $(date +%s) + job_t0))
[ "$TRAIN_S" -lt 30 ] && TRAIN_S=30  # rendering or unpacking overran: train a little rather than not at all
stamp "unpacked to $U; training $TRAIN_S s"
timeout -s INT "$TRAIN_S" python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' train \
  --recipe gpu_rt18_detected --init "$INIT" --data "$W/synth" --partial \
  --unpacked "$U" --views both --device "$DEVICE" --workers "$WORKERS" --time-budget-min "$(python3 -c "print($TRAIN_S/60*0.85)")" \
  --out "$W/run" > "$W/train.log" 2>&1
stamp "training stopped (exit $?)"
tr '\r' '\n' < "$W/train.log" | grep -v '^ *$' | grep -v 'batch/s\]$' | tail -40 >> "$OUT/job.log"
if [ -f "$W/run/checkpoint.pt" ]; then  # the weights travel (float32, model only); the ONNX export is made here
  python3 -c "import sys, torch; st = torch.load(sys.argv[1], map_location='cpu', weights_only=True); \
st['optimizer'] = None; torch.save(st, sys.argv[2])" "$W/run/checkpoint.pt" "$W/handnet_detected.pt" >> "$OUT/job.log" 2>&1
  (cd "$W" && split -b 15M -a 1 handnet_detected.pt "$OUT/handnet_detected.pt.")
  cp "$W/run/train_log.jsonl" "$W/run/loss.png" "$OUT/" 2>/dev/null
fi
stamp "weights saved"
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

#!/usr/bin/env bash
# HandNet training on a lent GPU machine (docs/handnet.md, "Training on a GPU"): render synthetic data with every
# core, unpack it once into shared memory, then train the shipped model (gpu_rt18), its two Table 2 ablations
# (without keypoints; single-stage) and the paper's ResNet-50 side by side under one time budget; then time the
# networks on the GPU. Run detached from the repository root, and collect results with tools/gpu/snapshot.sh:
#   setsid nohup tools/gpu/handnet_job.sh /tmp/job >/tmp/job.log 2>&1 < /dev/null &
# Environment: SYNTH_S (seconds of rendering, 290), COUNT (samples asked for; the run uses what is finished),
# BUDGET_MIN (training minutes per run, 14), SEED (1), DEVICE (cuda), DETECT (1: MediaPipe's detections stored with
# every render, HandNet's keypoints as at run time; 0: the true keypoints with noise).
set -u
W=${1:-/tmp/job}
SYNTH_S=${SYNTH_S:-290}; COUNT=${COUNT:-30000}; BUDGET_MIN=${BUDGET_MIN:-14}; SEED=${SEED:-1}; DEVICE=${DEVICE:-cuda}
DETECT=${DETECT:-1}; detect_flag=""; [ "$DETECT" = 1 ] && detect_flag="--detect"
mkdir -p "$W/runs"
export PYTHONPATH="$PWD/python_backend${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TQDM_MININTERVAL=15
rh() { python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' "$@"; }
stamp() { echo "[$(date +%H:%M:%S)] $*"; }
cores=$(nproc)

stamp "machine: $cores cores, $(free -g | awk '/Mem/{print $2}') GB; $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader)"
stamp "synth: $SYNTH_S s on $cores processes"
timeout -s TERM "$SYNTH_S" python3 -c 'import sys; from realhands.cli import main; sys.exit(main())' synth \
  --out "$W/synth" --count "$COUNT" --seed "$SEED" --rig zedm --resolution 640x480 --shard-size 100 --jobs "$cores" $detect_flag
stamp "synth stopped: $(ls "$W"/synth/shard_*.npz | wc -l) shards of 100"

U=$W/unpacked
if [ "$(df --output=avail -B1G /dev/shm | tail -1)" -gt 60 ]; then U=/dev/shm/realhands_unpacked; fi
python3 -c "from realhands.synth.dataset import unpack_dataset as u; u(['$W/synth'], '$U', partial=True, threads=$cores)" \
  || { stamp "unpacking failed"; touch "$W/FAILED"; exit 1; }
stamp "unpacked to $U"

train() {  # name recipe workers views
  rh train --recipe "$2" --data "$W/synth" --partial --unpacked "$U" --views "$4" --device "$DEVICE" --workers "$3" \
    --time-budget-min "$BUDGET_MIN" --out "$W/runs/$1" > "$W/runs/$1.log" 2>&1
  stamp "$1 finished (exit $?)"
}
train gpu_rt18 gpu_rt18 5 both &
train gpu_rt18_nokp gpu_rt18_nokp 3 both &
train gpu_rt18_single gpu_rt18_single 3 both &
train paper_resnet50 paper_resnet50 3 left &
wait
stamp "training done"
python3 -m tools.bench.handnet --repeats 50 --configs resnet18:0.5:160 resnet50:1:224 > "$W/bench_gpu.md" 2>&1
stamp "benchmark done"
touch "$W/DONE"

#!/usr/bin/env bash
# Copy what a tools/gpu/handnet_job.sh run has so far into OUT (the device tool's $OUT: at most 8 files of 16 MiB):
# logs.tgz (logs, loss plots, benchmark), the shipped model's checkpoint (float32, model only, split in 15 MB
# parts: join with `cat gpu_rt18.pt.* > gpu_rt18.pt`) and the ablations (float16, model only).
W=${1:-/tmp/job}; OUT=${2:?OUT folder}
export PYTHONPATH="$PWD/python_backend${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$W/slim"
for run in gpu_rt18 gpu_rt18_nokp gpu_rt18_single; do
  [ -f "$W/runs/$run/checkpoint.pt" ] || continue
  half=1; [ "$run" = gpu_rt18 ] && half=0
  python3 - "$W/runs/$run/checkpoint.pt" "$W/slim/$run.pt" "$half" <<'PY'
import sys, torch
st = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
st["optimizer"] = None
if sys.argv[3] == "1":
    st["model"] = {k: v.half() if v.is_floating_point() else v for k, v in st["model"].items()}
torch.save(st, sys.argv[2])
PY
done
if [ -f "$W/slim/gpu_rt18.pt" ]; then (cd "$W/slim" && split -b 15M -a 2 gpu_rt18.pt gpu_rt18.pt. && cp gpu_rt18.pt.* "$OUT/"); fi
for run in gpu_rt18_nokp gpu_rt18_single; do [ -f "$W/slim/$run.pt" ] && cp "$W/slim/$run.pt" "$OUT/$run.half.pt"; done
(cd "$W" && tar czf "$OUT/logs.tgz" --exclude='*.pt' --exclude='*.npz' --exclude='*.npy' \
  $(ls -d runs bench_gpu.md synth/meta.json DONE 2>/dev/null) ../job.log 2>/dev/null)
ls -la "$OUT"

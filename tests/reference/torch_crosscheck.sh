#!/usr/bin/env bash
# Whole-model gradients against an independent reference (PyTorch, Debian's python3-torch):
# gflow trains a little, saves its weights, computes one document's loss and gradients in
# gradient mode; torch_names.py recomputes both with torch.autograd and compares.
# Skipped (exit 77) when /usr/bin/python3 cannot import torch.
#   torch_crosscheck.sh NAMES_EXE DATA_FILE WORK_DIR
set -u
names=$1; data=$2; work=$3/torch_crosscheck
here=$(dirname "$0")
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "python3-torch is not installed: skipped"
    exit 77
fi
rm -rf "$work"; mkdir -p "$work"
status=0
for mixer in grassmann attention; do
    for layers in 1 2; do
        w=$work/$mixer$layers.safetensors; g=$work/$mixer$layers.grads.safetensors
        "$names" --data "$data" --mixer "$mixer" --layers "$layers" --steps 200 --dtype f64 --save "$w" >/dev/null || { echo "training failed"; exit 1; }
        for doc in emma christopher mariaelizabethanne; do   # the last one is longer than the block
            out=$("$names" --data "$data" --mixer "$mixer" --layers "$layers" --dtype f64 --load "$w" --grad-doc "$doc" --save-grads "$g") || { echo "gradient mode failed"; exit 1; }
            /usr/bin/python3 "$here/torch_names.py" "$w" "$g" "$doc" "$mixer" "$layers" "${out#loss }" || status=1
        done
    done
done
exit $status

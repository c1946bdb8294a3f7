#!/usr/bin/env bash
# --save writes what a PyTorch user expects of a model.safetensors: the weights alone, under the
# benchmark's parameter names, which load_state_dict(strict=True) takes as they are; the training
# state (Adam's moments, the step) goes beside them. torch_names.py --strict-load checks both
# files against an nn.Module declared on the Python side (both mixers, 1 and 2 layers, f32 and f64).
# Skipped (exit 77) when /usr/bin/python3 cannot import torch.
#   torch_strict_load.sh NAMES_EXE DATA_FILE WORK_DIR
set -u
names=$1; data=$2; work=$3/torch_strict_load
here=$(dirname "$0")
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
    echo "python3-torch is not installed: skipped"
    exit 77
fi
rm -rf "$work"; mkdir -p "$work"
status=0
for mixer in grassmann attention; do
    for layers in 1 2; do
        dtype=$([[ $layers == 1 ]] && echo f32 || echo f64)
        w=$work/$mixer$layers.safetensors
        "$names" --data "$data" --mixer "$mixer" --layers "$layers" --steps 20 --dtype "$dtype" --save "$w" >/dev/null || { echo "training failed"; exit 1; }
        /usr/bin/python3 "$here/torch_names.py" --strict-load "$w" "$work/$mixer$layers.train.safetensors" "$mixer" "$layers" || status=1
    done
done
exit $status

#!/usr/bin/env bash
# On a GPU machine with no Node.js and no registry, from the repository root, with the
# .device/ folder that tools/gpu-check/device-bundle.sh made: unpacks node and node_modules,
# the Vulkan loader when the machine has none, and runs tools/hf-parity (our models against the
# machine's transformers and peft; HF_PARITY_TIMEOUT seconds per half, default 120) and then
# tools/gpu-check (--quick unless GPU_CHECK_FULL=1; GPU_CHECK_TIMEOUT seconds, default 400).
# Results go to $OUT (default /tmp/gpu-check-out): hf-parity.json, gpu-check.json, its
# gpu-check-<provider>/ folders (benchmark and conformance JSON, also inside gpu-check.json),
# and log.txt. The whole run fits a device call of timeout_s 580.
#
#   bash tools/gpu-check/device-run.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEVICE="$ROOT/.device"
RESULTS="${OUT:-/tmp/gpu-check-out}"
BIN=/tmp/refine-af-device/bin
mkdir -p "$RESULTS" "$BIN"
[ -f "$DEVICE/node.xz" ] && [ -f "$DEVICE/node_modules.tar.xz" ] || { echo "device-run: $DEVICE/node.xz or node_modules.tar.xz missing: run tools/gpu-check/device-bundle.sh here first and carry .device" >&2; exit 2; }

unxz() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi; }
unxz "$DEVICE/node.xz" > "$BIN/node" && chmod +x "$BIN/node"
rm -rf "$ROOT/node_modules"
unxz "$DEVICE/node_modules.tar.xz" | tar -C "$ROOT" -xf -
# gpu-check starts its steps with `npx <tool>`: the tools in node_modules/.bin.
printf '#!/bin/sh\ntool=$1; shift; exec "%s/node_modules/.bin/$tool" "$@"\n' "$ROOT" > "$BIN/npx" && chmod +x "$BIN/npx"
export PATH="$BIN:$PATH"
# The llama benchmark's PyTorch baseline: the python that has torch there (its image's venv is first on PATH).
export REFINE_AF_TORCH_PYTHON="${REFINE_AF_TORCH_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}"

# WebGPU (Dawn) dlopens libvulkan.so.1 and finds the NVIDIA driver through its ICD file.
# A loader the machine lacks is unpacked into a private folder, not over the system's.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  for deb in "$DEVICE"/debs/*.deb; do [ -f "$deb" ] && dpkg-deb -x "$deb" /tmp/refine-af-device/root; done
  export LD_LIBRARY_PATH="/tmp/refine-af-device/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$icd"; fi
done

{
  echo "node $(node --version); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | head -n 1); VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  cd "$ROOT" || exit
  # First, needing no GPU: our models, tokenizer, PEFT adapters and merged folders against the
  # machine's transformers and peft (tools/hf-parity; ~30 s on the CPU), into hf-parity.json.
  PARITY=/tmp/refine-af-device/hf-parity
  timeout "${HF_PARITY_TIMEOUT:-120}" node --import tsx tools/hf-parity/export.ts --out "$PARITY" \
    && timeout "${HF_PARITY_TIMEOUT:-120}" "$REFINE_AF_TORCH_PYTHON" tools/hf-parity/check.py "$PARITY" --out "$RESULTS/hf-parity.json"
  echo "hf-parity exit $?"
  # Then the GPU providers; gpu-check.json is rewritten after every step, so a timeout keeps what finished.
  timeout "${GPU_CHECK_TIMEOUT:-400}" node --import tsx tools/gpu-check/gpu-check.ts --out "$RESULTS/gpu-check.json" $([ "${GPU_CHECK_FULL:-0}" = 1 ] || echo --quick)
  echo "gpu-check exit $?"
} 2>&1 | tee "$RESULTS/log.txt"
exit 0

#!/usr/bin/env bash
# Runs backend-onnx's WebGPU tests (conformance suite + device-resident tensors) on Mesa
# lavapipe, the Vulkan driver that runs on the CPU: no GPU needed.
# Usage (from the repo root): tools/lavapipe/run-webgpu-conformance.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/.cache/lavapipe"
"$ROOT/tools/lavapipe/get-lavapipe.sh" "$CACHE"
# shellcheck disable=SC1091
source "$CACHE/env.sh"
cd "$ROOT/plugins/backend-onnx"
REFINE_AF_WEBGPU=1 exec npx vitest run test/webgpu.test.ts "$@"

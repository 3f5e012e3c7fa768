/**
 * Everything that needs a GPU, in one command, with one JSON result:
 *
 *   npx tsx tools/gpu-check/gpu-check.ts [--out bench-results/gpu-check.json] [--quick]
 *
 * On an NVIDIA machine: for each of cuda and webgpu, whether the provider starts (and if not,
 * what is missing and how to install it), the backend conformance suite on it, the llama model's
 * generation, scoring, LoRA training and reference pass on it against the CPU, the llama
 * and compute benchmarks on it, and the LLaMA 2-7B paper recipes at toy scale through the CLI (their own JSON files are kept next to the result; the result is
 * rewritten after every step, with `"result": "incomplete"` until the last). On a
 * machine without an NVIDIA GPU it completes at once with `"result": "no GPU"` and the reason.
 * Exit code 0 in both cases; 1 when a check that could run failed.
 *
 * CUDA needs onnxruntime's CUDA libraries: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { checkProvider, type ProviderProblem } from "@refine-af/backend-onnx"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const argValue = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : undefined
}
const out = path.resolve(argValue("out") ?? path.join(repoRoot, "bench-results/gpu-check.json"))
const quick = process.argv.includes("--quick")

/** The NVIDIA GPUs `nvidia-smi` reports, or why there are none. */
const nvidiaGpus = (smi = process.env["REFINE_AF_NVIDIA_SMI"] ?? "nvidia-smi"): { gpus: Array<string> } | { reason: string } => {
  const result = spawnSync(smi, ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], { encoding: "utf8", timeout: 30_000 })
  if (result.error !== undefined) return { reason: `${smi} not found: no NVIDIA driver on this machine` }
  if (result.status !== 0) return { reason: `${smi} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().split("\n")[0]}` }
  const gpus = result.stdout.trim().split("\n").filter((line) => line.trim() !== "")
  return gpus.length > 0 ? { gpus } : { reason: `${smi} lists no GPU` }
}

interface Step {
  readonly name: string
  readonly ok: boolean
  readonly seconds: number
  readonly output?: unknown
  readonly tail?: string
}

const step = (name: string, command: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd: string, resultFile?: string): Step => {
  const start = performance.now()
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 1_800_000 })
  const seconds = (performance.now() - start) / 1000
  const tail = `${result.stdout ?? ""}${result.stderr ?? ""}`.split("\n").slice(-15).join("\n")
  const output = resultFile !== undefined && fs.existsSync(resultFile) ? JSON.parse(fs.readFileSync(resultFile, "utf8")) as unknown : undefined
  console.log(`${result.status === 0 ? "ok  " : "FAIL"} ${name} (${seconds.toFixed(0)} s)`)
  return { name, ok: result.status === 0, seconds, ...(output !== undefined ? { output } : {}), ...(result.status === 0 ? {} : { tail }) }
}

interface ProviderResult {
  readonly provider: "cuda" | "webgpu"
  readonly available: boolean
  readonly problem?: ProviderProblem
  readonly steps: Array<Step>
}

/** Runs one provider's checks in order; `progress` sees the result after each step (the report is saved then). */
const providerChecks = async (provider: "cuda" | "webgpu", progress: (partial: ProviderResult) => void): Promise<ProviderResult> => {
  const problem: ProviderProblem | undefined = await checkProvider(provider)
  if (problem !== undefined) {
    console.log(`${provider}: not available: missing ${problem.missing}\n  install: ${problem.install}`)
    return { provider, available: false, problem, steps: [] }
  }
  const dir = path.join(path.dirname(out), `gpu-check-${provider}`)
  fs.mkdirSync(dir, { recursive: true })
  const gate: Record<string, string> = provider === "cuda" ? { REFINE_AF_CUDA: "1" } : { REFINE_AF_WEBGPU: "1" }
  const npx = process.platform === "win32" ? "npx.cmd" : "npx"
  const planned: Array<() => Step> = [
    () => step(`${provider} conformance`, npx, ["vitest", "run", `test/${provider}.test.ts`, "--reporter=json", `--outputFile=${path.join(dir, "conformance.json")}`], gate, path.join(repoRoot, "plugins/backend-onnx"), path.join(dir, "conformance.json")),
    () => step(`${provider} model against the CPU`, npx, ["vitest", "run", "test/gpu-providers.test.ts", "--reporter=json", `--outputFile=${path.join(dir, "model.json")}`], gate, path.join(repoRoot, "plugins/model-llama"), path.join(dir, "model.json")),
    () => step(`${provider} llama benchmark`, npx, ["tsx", "tools/bench-llama/bench-llama.ts", ...(quick ? ["--quick"] : [])], { REFINE_AF_BENCH_PROVIDER: provider, REFINE_AF_BENCH_OUT: path.join(dir, "llama.json") }, repoRoot, path.join(dir, "llama.json")),
    () => step(`${provider} compute benchmark`, npx, ["tsx", "tools/bench-compute/run.ts", "--threads", String(Math.min(16, os.cpus().length)), "--rounds", quick ? "2" : "4"], { REFINE_AF_BENCH_PROVIDER: provider, REFINE_AF_BENCH_OUT: path.join(dir, "compute.json") }, repoRoot, path.join(dir, "compute.json")),
    // Last, the paper recipes themselves at toy scale on this provider (tests/e2e/paper-recipes-toy.test.ts): the whole loop through the CLI.
    () => step(`${provider} paper recipes at toy scale`, npx, ["vitest", "run", "e2e/paper-recipes-toy.test.ts", "--reporter=json", `--outputFile=${path.join(dir, "paper-toy.json")}`], { REFINE_AF_E2E_PROVIDER: provider }, path.join(repoRoot, "tests"), path.join(dir, "paper-toy.json"))
  ]
  const steps: Array<Step> = []
  for (const run of planned) {
    steps.push(run())
    progress({ provider, available: true, steps })
  }
  return { provider, available: true, steps }
}

const writeReport = (report: Record<string, unknown>) => {
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
}

const gpus = nvidiaGpus()
const base = { date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version }
let report: Record<string, unknown>
let failed = false
if ("reason" in gpus) {
  report = { ...base, result: "no GPU", reason: gpus.reason }
  console.log(`no GPU: ${gpus.reason}; nothing to check (the CPU is covered by npm test)`)
} else {
  console.log(`GPUs: ${gpus.gpus.join("; ")}`)
  const providers: Array<ProviderResult> = []
  // Saved after every step with result "incomplete": a run killed by a time limit keeps what finished.
  const progress = (partial: ProviderResult) => writeReport({ ...base, result: "incomplete", gpus: gpus.gpus, providers: [...providers, partial] })
  for (const provider of ["cuda", "webgpu"] as const) providers.push(await providerChecks(provider, progress))
  failed = providers.some((p) => p.steps.some((s) => !s.ok))
  report = { ...base, result: failed ? "failed" : "ok", gpus: gpus.gpus, providers }
}
writeReport(report)
console.log(`wrote ${path.relative(process.cwd(), out)}`)
process.exitCode = failed ? 1 : 0

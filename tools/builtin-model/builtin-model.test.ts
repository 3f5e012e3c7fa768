/**
 * The committed built-in model is reproducible: re-running the tool's first
 * training steps from the committed settings and seed writes the same
 * tokenizer and gives the recorded losses. And it speaks: on the fixed prompt
 * set, most replies are in the pipeline's formats.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { bundledTaskSet, loadTasks } from "@refine-af/eval-superni"
import { builtinSeedPath, readSeedFile } from "@refine-af/generator-self-instruct"
import { loadLlama, speakerModelFolder } from "@refine-af/model-llama"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { measureWellFormedness } from "./check/wellformed.ts"
import { trainBuiltin, type CurvePoint } from "./make-builtin-model.ts"
import { LOSS_CURVE, SEED, TRAIN } from "./settings.ts"

const scratch = mkdtempSync(nodePath.join(tmpdir(), "refine-af-builtin-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const recorded = JSON.parse(readFileSync(fileURLToPath(LOSS_CURVE), "utf8")) as { seed: number; settings: typeof TRAIN; steps: Array<CurvePoint> }

describe("built-in speaker model", () => {
  it("re-runs the first training steps from the committed seed with the recorded losses", { timeout: 300_000 }, async () => {
    expect(recorded.seed).toBe(SEED)
    expect(recorded.settings).toEqual(TRAIN)
    const { curve } = await Effect.runPromise(trainBuiltin({ steps: 3, threads: 1, folder: scratch }))
    // Same corpus and BPE training → byte-identical tokenizer.
    expect(readFileSync(nodePath.join(scratch, "tokenizer.json"), "utf8")).toBe(readFileSync(nodePath.join(speakerModelFolder(), "tokenizer.json"), "utf8"))
    curve.forEach((point, i) => {
      const want = recorded.steps[i]!
      expect(point.tokens).toBe(want.tokens)
      expect(Math.abs(point.loss - want.loss)).toBeLessThan(1e-3 * want.loss)
      expect(Math.abs(point.gradNorm - want.gradNorm)).toBeLessThan(1e-2 * want.gradNorm)
    })
    // Learning happened: the committed run ends far below where it started.
    const last = recorded.steps.at(-1)!
    expect(last.loss).toBeLessThan(recorded.steps[0]!.loss / 4)
  })

  it("answers most prompts of the fixed set in the pipeline's formats", { timeout: 300_000 }, async () => {
    const result = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false })
      const { service } = yield* loadLlama(speakerModelFolder(), backend, { contextLength: 1024, maxBatch: 8 })
      const seeds = yield* readSeedFile(builtinSeedPath)
      const tasks = yield* loadTasks({ tasks: bundledTaskSet, maxInstances: 1 })
      return yield* measureWellFormedness(service, seeds, tasks, 4)
    })))
    // A margin below the measured shares in wellformed.json (README): a majority of each format.
    expect(result.classify.share).toBeGreaterThan(0.75)
    expect(result.inputFirst.share).toBeGreaterThan(0.5)
    expect(result.outputFirst.share).toBeGreaterThan(0.5)
    expect(result.superni.share).toBeGreaterThan(0.75)
    expect(result.bootstrap.share).toBeGreaterThan(0.5)
  })
})

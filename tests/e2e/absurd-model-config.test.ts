/**
 * A model folder whose config.json has absurd sizes (`num_hidden_layers: 1e9`) once ran Node
 * out of heap (exit 134, native stack); then it failed at run time (exit 1). It is a problem
 * of what the recipe names, so `validate` and `run` refuse it before allocating (exit 2), at
 * the option's line, with the memory estimate.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { runCli, tempDir } from "./cli.ts"

const config = { model_type: "llama", vocab_size: 32000, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 1e9, num_attention_heads: 4, num_key_value_heads: 2 }

const recipeWith = (modelDir: string) => `name: absurd
plugins: ["@refine-af/backend-onnx", "@refine-af/model-llama", "@refine-af/eval-superni"]
resources:
  compute: { _component_: backend-onnx/onnx }
  policy:
    _component_: llama/hf
    backend: compute
    path: ${modelDir}
stages:
  evaluation: { _component_: superni/evaluate, model: policy, maxInstances: 1, maxNewTokens: 2 }
`

describe("absurd model config sizes", () => {
  it("validate and run refuse them with exit 2 at the path option, naming the sizes and the memory", async () => {
    const dir = tempDir("absurd")
    const model = path.join(dir, "model")
    fs.mkdirSync(model)
    fs.writeFileSync(path.join(model, "config.json"), JSON.stringify(config))
    for (const file of ["model.safetensors", "tokenizer.json"]) fs.writeFileSync(path.join(model, file), "")
    const recipe = path.join(dir, "absurd.yaml")
    fs.writeFileSync(recipe, recipeWith("./model"))
    const validate = await runCli(["validate", recipe])
    expect(validate.code, validate.stdout + validate.stderr).toBe(2)
    const output = validate.stdout + validate.stderr
    expect(output).toContain(`${recipe}:8:11`)
    expect(output).toMatch(/option "path": .*config\.json is not a usable llama config: the sizes \(num_hidden_layers 1000000000, .*\) imply 3\.\d+e\+13 parameters, .* GiB even as int4, more than this machine's/)
    const runsDir = tempDir("absurd-runs")
    const run = await runCli(["run", recipe, "--runs-dir", runsDir])
    expect(run.code, run.stdout + run.stderr).toBe(2)
    expect(run.stderr).not.toContain("heap out of memory")
    // A folder without the model's files is a recipe problem too, named before a run starts.
    fs.rmSync(path.join(model, "tokenizer.json"))
    const incomplete = await runCli(["validate", recipe])
    expect(incomplete.code).toBe(2)
    expect(incomplete.stdout + incomplete.stderr).toContain("is not a Hugging Face model folder: it has no tokenizer.json")
  })
})

/**
 * What each recipe under `recipes/paper/` and `recipes/small/` reads from disk
 * before it validates: the folders and files its header tells a user to
 * download, relative to the recipe's own folder (`models pull … --dir
 * recipes/<paper|small>/<folder>`, `data pull superni --dir
 * recipes/<paper|small>/data/superni`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot } from "./cli.ts"

/** One path a paper recipe needs: where it is relative to the recipe, whether a folder or a file, and the files `validate` looks for in it. */
export interface NeededPath {
  readonly relative: string
  readonly kind: "dir" | "file"
  readonly files?: ReadonlyArray<string>
}

const modelFolders: Readonly<Record<string, string>> = {
  "llama2-7b": "models/llama-2-7b-hf",
  "llama2-13b": "models/llama-2-13b-hf",
  "mistral-7b": "models/mistral-7b-v0.1"
}

const scorerFolders: ReadonlyArray<NeededPath> = [
  { relative: "models/oasst-rm-2.1-pythia-1.4b", kind: "dir", files: ["config.json", "model.safetensors", "tokenizer.json"] },
  { relative: "models/unieval-dialog", kind: "dir", files: ["config.json", "pytorch_model.bin", "tokenizer.json"] }
]

const superniSplit: ReadonlyArray<NeededPath> = [
  { relative: "data/superni/tasks", kind: "dir" },
  { relative: "data/superni/splits/default/test_tasks.txt", kind: "file" }
]

/** The recipes under `recipes/small/`: their model folder and the other folders they read. */
const smallRecipes: Readonly<Record<string, { readonly model: string; readonly others: ReadonlyArray<NeededPath> }>> = {
  "refine-af-qwen3-0.6b": {
    model: "models/qwen3-0.6b-base",
    others: [
      { relative: "models/skywork-reward-v2-qwen3-0.6b", kind: "dir", files: ["config.json", "model.safetensors", "tokenizer.json"] },
      scorerFolders[1]!,
      ...superniSplit
    ]
  }
}

/** The recipes that need downloads first (their headers list them): `recipes/paper/` and `recipes/small/`. */
export const needsDownloads = (recipe: string): boolean => /^recipes\/(paper|small)\//.test(recipe)

/** The paths a recipe of `recipes/paper/` (by its name: `self-instruct-data-*`, `self-instruct-*` or `refine-af-*`) or `recipes/small/` needs. */
export const neededPaths = (recipeFile: string): { readonly model: NeededPath; readonly others: ReadonlyArray<NeededPath> } => {
  const name = path.basename(recipeFile, ".yaml")
  const small = smallRecipes[name]
  if (path.basename(path.dirname(recipeFile)) === "small") {
    if (small === undefined) throw new Error(`unknown small recipe ${recipeFile}: add it to tests/e2e/paper-layout.ts`)
    return { model: { relative: small.model, kind: "dir" }, others: small.others }
  }
  const match = /^(self-instruct-data|self-instruct|refine-af)-(.+)$/.exec(name)
  const folder = match === null ? undefined : modelFolders[match[2]!]
  if (match === null || folder === undefined) throw new Error(`unknown paper recipe ${recipeFile}: add it to tests/e2e/paper-layout.ts`)
  const model: NeededPath = { relative: folder, kind: "dir" }
  if (match[1] === "self-instruct-data") return { model, others: [] }
  if (match[1] === "self-instruct") return { model, others: superniSplit }
  return { model, others: [...scorerFolders, ...superniSplit] }
}

/** Creates `needed` under `root`: folders holding the files `validate` looks for (empty), empty files. */
export const createPaths = (root: string, needed: ReadonlyArray<NeededPath>): void => {
  for (const entry of needed) {
    const full = path.join(root, entry.relative)
    if (entry.kind === "dir") {
      fs.mkdirSync(full, { recursive: true })
      for (const file of entry.files ?? []) fs.writeFileSync(path.join(full, file), "")
    } else {
      fs.mkdirSync(path.dirname(full), { recursive: true })
      fs.writeFileSync(full, "")
    }
  }
}

/**
 * A stand-in Llama model folder that passes `validate`'s look inside (`config.json` with small
 * sizes, a well-formed but empty weight file and a JSON tokenizer file) — not loadable: for validate and for runs that
 * must stop before any model is made.
 */
export const writeStandInModel = (dir: string): void => {
  fs.mkdirSync(dir, { recursive: true })
  const config = { model_type: "llama", vocab_size: 32000, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4 }
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config))
  // A safetensors file with no tensors (8-byte header length, then "{}") and a JSON tokenizer: whole files, no content.
  fs.writeFileSync(path.join(dir, "model.safetensors"), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]))
  fs.writeFileSync(path.join(dir, "tokenizer.json"), "{}")
}

/**
 * The bundled 8-task SuperNI-format set in `data pull superni`'s layout under `dir`:
 * tasks/<name>.json (a natural-instructions task object) and the split's task list.
 */
export const writeSuperniLayout = (dir: string): void => {
  fs.mkdirSync(path.join(dir, "tasks"), { recursive: true })
  fs.mkdirSync(path.join(dir, "splits/default"), { recursive: true })
  const names: Array<string> = []
  for (const line of fs.readFileSync(path.join(repoRoot, "plugins/eval-superni/data/mini-superni.jsonl"), "utf8").split("\n")) {
    if (line.trim() === "") continue
    const { Task: name, ...task } = JSON.parse(line) as { Task: string }
    names.push(name)
    fs.writeFileSync(path.join(dir, "tasks", `${name}.json`), JSON.stringify(task))
  }
  fs.writeFileSync(path.join(dir, "splits/default/test_tasks.txt"), `${names.join("\n")}\n`)
}

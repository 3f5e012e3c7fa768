/**
 * What each recipe under `recipes/paper/` reads from disk before it validates:
 * the folders and files its header tells a user to download, relative to the
 * recipe's own folder (`models pull … --dir recipes/paper/<folder>`,
 * `data pull superni --dir recipes/paper/data/superni`).
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** One path a paper recipe needs: where it is relative to the recipe, and whether a folder or a file. */
export interface NeededPath {
  readonly relative: string
  readonly kind: "dir" | "file"
}

const modelFolders: Readonly<Record<string, string>> = {
  "llama2-7b": "models/llama-2-7b-hf",
  "llama2-13b": "models/llama-2-13b-hf",
  "mistral-7b": "models/mistral-7b-v0.1"
}

const scorerFolders: ReadonlyArray<NeededPath> = [
  { relative: "models/oasst-rm-2.1-pythia-1.4b", kind: "dir" },
  { relative: "models/unieval-dialog", kind: "dir" }
]

const superniSplit: ReadonlyArray<NeededPath> = [
  { relative: "data/superni/tasks", kind: "dir" },
  { relative: "data/superni/splits/default/test_tasks.txt", kind: "file" }
]

/** The paths `recipes/paper/<file>` needs, by its name: `self-instruct-data-*`, `self-instruct-*` or `refine-af-*`. */
export const neededPaths = (recipeFile: string): { readonly model: NeededPath; readonly others: ReadonlyArray<NeededPath> } => {
  const name = path.basename(recipeFile, ".yaml")
  const match = /^(self-instruct-data|self-instruct|refine-af)-(.+)$/.exec(name)
  const folder = match === null ? undefined : modelFolders[match[2]!]
  if (match === null || folder === undefined) throw new Error(`unknown paper recipe ${recipeFile}: add it to tests/e2e/paper-layout.ts`)
  const model: NeededPath = { relative: folder, kind: "dir" }
  if (match[1] === "self-instruct-data") return { model, others: [] }
  if (match[1] === "self-instruct") return { model, others: superniSplit }
  return { model, others: [...scorerFolders, ...superniSplit] }
}

/** Creates `needed` under `root` (empty folders, empty files). */
export const createPaths = (root: string, needed: ReadonlyArray<NeededPath>): void => {
  for (const entry of needed) {
    const full = path.join(root, entry.relative)
    if (entry.kind === "dir") fs.mkdirSync(full, { recursive: true })
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true })
      fs.writeFileSync(full, "")
    }
  }
}

#!/usr/bin/env node
// Copies the repository's stock recipes (../../recipes) into <package>/recipes
// so an installed CLI can list and copy them (`refine-af recipes ls`). tools/pack runs it on the
// staged package folder it packs (the package folder itself is left alone).
// Usage: node scripts/bundle-recipes.mjs [package folder]   (default: this package)
//        node scripts/bundle-recipes.mjs --clean [package folder]
import { cpSync, existsSync, rmSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const clean = args[0] === "--clean"
const target = path.join(path.resolve(clean ? args[1] ?? packageDir : args[0] ?? packageDir), "recipes")
const source = path.resolve(packageDir, "../../recipes")

if (clean) {
  rmSync(target, { recursive: true, force: true })
} else {
  if (!existsSync(source)) {
    console.error(`bundle-recipes: no recipes folder at ${source}; run this from a refine-af checkout`)
    process.exit(1)
  }
  rmSync(target, { recursive: true, force: true })
  // Model folders and data the paper recipes' headers download next to them (git-ignored) stay out.
  const downloads = ["paper/models", "paper/data"].map((folder) => path.join(source, folder))
  cpSync(source, target, { recursive: true, filter: (file) => !path.basename(file).startsWith(".") && !downloads.includes(file) })
  console.log(`bundle-recipes: copied ${source} to ${target}`)
}

/**
 * A plugin in its own folder with its own `effect` (or `@refine-af/core`) used to fail deep in
 * a run with "Cannot convert a Symbol value to a number". It is refused at load, naming both
 * copies and the fix (peer dependencies, npm dedupe), before its code runs.
 */
import { Effect, Result } from "effect"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadPlugin } from "../../src/index.ts"

/** A plugin package at `dir` whose entry would throw if imported; `ownCopies` get a node_modules folder of their own. */
const pluginWith = (ownCopies: ReadonlyArray<string>) => {
  const dir = mkdtempSync(path.join(tmpdir(), "refine-af-two-copies-"))
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "my-plugin", version: "1.0.0", type: "module", exports: { ".": "./index.js" } }))
  writeFileSync(path.join(dir, "index.js"), `throw new Error("imported although its dependencies are duplicated")\n`)
  for (const name of ownCopies) {
    mkdirSync(path.join(dir, "node_modules", name), { recursive: true })
    writeFileSync(path.join(dir, "node_modules", name, "package.json"), JSON.stringify({ name, version: "4.0.0-other" }))
  }
  return dir
}

describe("a plugin with its own copy of a shared dependency", () => {
  it.each(["effect", "@refine-af/core"])("is refused at load when it has its own %s, naming both copies and the fix", async (name) => {
    const dir = pluginWith([name])
    const result = await Effect.runPromise(Effect.result(loadPlugin(dir, { searchFrom: [dir] })))
    expect(Result.isFailure(result)).toBe(true)
    const error = Result.isFailure(result) ? result.failure : undefined
    expect(error?._tag).toBe("PluginDuplicateDependency")
    expect(error?.message).toContain(`would load its own copy of ${name} (4.0.0-other at ${path.join(dir, "node_modules", name)})`)
    expect(error?.message).toMatch(/instead of refine-af's \(\d[^ ]* at \//)
    expect(error && "fix" in error ? error.fix : "").toMatch(/"peerDependencies".*npm dedupe/)
  })

  it("loads when it resolves refine-af's copies (nothing of its own): the plugin's import runs", async () => {
    const result = await Effect.runPromise(Effect.result(loadPlugin(pluginWith([]), { searchFrom: [tmpdir()] })))
    expect(Result.isFailure(result) && result.failure._tag).toBe("PluginImportFailed")
  })
})

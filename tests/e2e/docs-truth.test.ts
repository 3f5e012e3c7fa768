/**
 * The docs say what is true: the paper recipes' comments give a download line whose target is
 * the folder the recipe's `path` resolves to (recipe-relative, not cwd-relative), and state
 * memory needs, gating and where SuperNI test data comes from; the README states the Node
 * engine the dependencies declare next to the version CI tests.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { repoRoot } from "./cli.ts"

const paperDir = path.join(repoRoot, "recipes/paper")
const paperRecipes = fs.readdirSync(paperDir).filter((name) => name.endsWith(".yaml"))

describe("paper recipe comments", () => {
  it.each(paperRecipes)("%s: the download line fills the folder its path resolves to, and the needs are stated", (name) => {
    const text = fs.readFileSync(path.join(paperDir, name), "utf8")
    const comment = text.split("\n").filter((line) => line.startsWith("#")).join("\n")
    const recipe = parse(text) as { resources: Record<string, { path?: string }> }
    const modelPath = Object.values(recipe.resources).find((resource) => typeof resource.path === "string")!.path!
    const resolved = path.resolve(paperDir, modelPath)
    const download = /models pull \S+ --dir (\S+?)`/.exec(comment)?.[1]
    expect(download, "a download line with --dir").toBeDefined()
    // The command runs from the repository root (README); its --dir must be where the recipe looks.
    expect(path.resolve(repoRoot, download!)).toBe(resolved)
    expect(comment).toContain("resolve next to the")
    expect(comment).toMatch(/\d+ GiB as float32/)
    expect(comment).toContain("gated")
    expect(comment).toContain("data pull superni")
  })
})

describe("README", () => {
  it("states the Node engine the dependencies declare and the version that is tested", () => {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8")
    const declared = (JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/@effect/platform-node/package.json"), "utf8")) as { engines?: { node?: string } }).engines?.node
    expect(declared).toBeDefined()
    expect(readme).toContain(`"node": "${declared}"`)
    expect(readme).toContain("**Node 20**")
  })
})

import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { findCycles } from "./cycles.ts"
import { lintWorkspace, MAX_FILE_LINES } from "./lint.ts"

const roots: string[] = []
afterEach(() => {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true })
})

/** Writes a workspace of projects: { "packages/core": { deps, files: { "src/a.ts": "..." } } } */
const makeWorkspace = (
  projects: Record<string, { name: string; deps?: string[]; devDeps?: string[]; exports?: Record<string, string>; files: Record<string, string> }>
): string => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lint-"))
  roots.push(root)
  for (const [dir, spec] of Object.entries(projects)) {
    const manifest = {
      name: spec.name,
      dependencies: Object.fromEntries((spec.deps ?? []).map((dep) => [dep, "*"])),
      devDependencies: Object.fromEntries((spec.devDeps ?? []).map((dep) => [dep, "*"])),
      exports: spec.exports ?? { ".": "./src/index.ts" }
    }
    fs.mkdirSync(path.join(root, dir), { recursive: true })
    fs.writeFileSync(path.join(root, dir, "package.json"), JSON.stringify(manifest))
    for (const [file, text] of Object.entries(spec.files)) {
      fs.mkdirSync(path.dirname(path.join(root, dir, file)), { recursive: true })
      fs.writeFileSync(path.join(root, dir, file), text)
    }
  }
  return root
}

const messages = (root: string) => lintWorkspace(root).violations.map((violation) => violation.message)

describe("lint rules", () => {
  it("accepts a clean workspace", () => {
    const root = makeWorkspace({
      "packages/core": { name: "@x/core", files: { "src/index.ts": 'export * from "./a.ts"\n', "src/a.ts": "export const a = 1\n" } },
      "plugins/p": { name: "@x/p", deps: ["@x/core"], files: { "src/index.ts": 'import { a } from "@x/core"\nexport const b = a\n' } }
    })
    expect(messages(root)).toEqual([])
  })

  it("rejects a package importing a plugin, and a plugin importing a plugin", () => {
    const root = makeWorkspace({
      "packages/core": { name: "@x/core", deps: ["@x/p"], files: { "src/index.ts": 'import "@x/p"\n' } },
      "plugins/p": { name: "@x/p", files: { "src/index.ts": "export {}\n" } },
      "plugins/q": { name: "@x/q", deps: ["@x/p"], files: { "src/index.ts": 'export { b } from "@x/p"\n' } }
    })
    const found = messages(root)
    expect(found.some((m) => m.includes("@x/core is a package and may not import the plugin @x/p"))).toBe(true)
    expect(found.some((m) => m.includes("plugin @x/q may not import another plugin (@x/p)"))).toBe(true)
  })

  it("rejects undeclared workspace dependencies, deep imports and escaping relative imports", () => {
    const root = makeWorkspace({
      "packages/core": { name: "@x/core", files: { "src/index.ts": "export {}\n", "src/internal/x.ts": "export {}\n" } },
      "plugins/p": {
        name: "@x/p",
        files: { "src/index.ts": 'import "@x/core"\nimport "../../../packages/core/src/index.ts"\n' }
      },
      "plugins/q": { name: "@x/q", deps: ["@x/core"], files: { "src/index.ts": 'import "@x/core/src/internal/x.ts"\n' } }
    })
    const found = messages(root)
    expect(found.filter((m) => m.includes("without declaring it")).length).toBe(1)
    expect(found.some((m) => m.includes("is not in @x/core's exports map"))).toBe(true)
    expect(found.some((m) => m.includes("leaves @x/p"))).toBe(true)
  })

  it("lets tests and benchmarks use a plugin declared in devDependencies, never src/", () => {
    const root = makeWorkspace({
      "plugins/p": { name: "@x/p", files: { "src/index.ts": "export {}\n" } },
      "plugins/q": {
        name: "@x/q",
        devDeps: ["@x/p"],
        files: { "test/a.test.ts": 'import "@x/p"\n', "bench/b.ts": 'import "@x/p"\n', "src/index.ts": 'import "@x/p"\n' }
      }
    })
    const violations = lintWorkspace(root).violations
    expect(violations).toHaveLength(1)
    expect(violations[0]!.file).toContain(path.join("q", "src", "index.ts"))
  })

  it("restricts onnxruntime-node to the backend plugin", () => {
    const root = makeWorkspace({
      "plugins/model": { name: "@refine-af/model-llama", files: { "src/index.ts": 'import * as ort from "onnxruntime-node"\n' } },
      "plugins/backend": { name: "@refine-af/backend-onnx", files: { "src/index.ts": 'import * as ort from "onnxruntime-node"\n' } }
    })
    const violations = lintWorkspace(root).violations
    expect(violations).toHaveLength(1)
    expect(violations[0]!.file).toContain(path.join("plugins", "model"))
    expect(violations[0]!.line).toBe(1)
  })

  it("reports value and type-only import cycles, not dynamic imports", () => {
    const root = makeWorkspace({
      "packages/core": {
        name: "@x/core",
        files: {
          "src/a.ts": 'import { b } from "./b.ts"\nexport const a = () => b\n',
          "src/b.ts": 'import { a } from "./a.ts"\nexport const b = () => a\n',
          // the planted type-only cycle: c ↔ d through `import type` and an inline `type` specifier
          "src/c.ts": 'import type { D } from "./d.ts"\nexport type C = D\n',
          "src/d.ts": 'import { type C } from "./c.ts"\nexport type D = C | 1\n',
          // a type-only cycle through `export type … from` and `import("…")` types
          "src/e.ts": 'export type { F } from "./f.ts"\nexport type E = 1\n',
          "src/f.ts": 'export type F = import("./e.ts").E\n',
          // dynamic imports load later: g ↔ h is not an import cycle
          "src/g.ts": 'export const g = () => import("./h.ts")\n',
          "src/h.ts": 'import { g } from "./g.ts"\nexport const h = g\n'
        }
      }
    })
    const cycles = messages(root).filter((m) => m.startsWith("import cycle"))
    expect(cycles).toHaveLength(3)
    expect(cycles.some((m) => /a\.ts → .*b\.ts → .*a\.ts/.test(m))).toBe(true)
    expect(cycles.some((m) => /c\.ts → .*d\.ts → .*c\.ts/.test(m))).toBe(true)
    expect(cycles.some((m) => /e\.ts → .*f\.ts → .*e\.ts/.test(m))).toBe(true)
    expect(cycles.some((m) => /[gh]\.ts/.test(m))).toBe(false)
  })

  it("finds no import cycle, type-only ones included, in this workspace", () => {
    const root = path.resolve(import.meta.dirname, "..", "..")
    const report = lintWorkspace(root)
    expect(report.fileCount).toBeGreaterThan(100)
    expect(report.violations.filter((v) => v.message.includes("cycle")).map((v) => v.message)).toEqual([])
  })

  it("reports package dependency cycles", () => {
    const root = makeWorkspace({
      "packages/a": { name: "@x/a", deps: ["@x/b"], files: { "src/index.ts": "export {}\n" } },
      "packages/b": { name: "@x/b", deps: ["@x/a"], files: { "src/index.ts": "export {}\n" } }
    })
    expect(messages(root).some((m) => m.startsWith("package dependency cycle"))).toBe(true)
  })

  it("enforces the file-size budget", () => {
    const long = "export const x = 1\n".repeat(MAX_FILE_LINES + 1)
    const root = makeWorkspace({ "packages/core": { name: "@x/core", files: { "src/big.ts": long } } })
    expect(messages(root).some((m) => m.includes(`budget ${MAX_FILE_LINES}`))).toBe(true)
  })
})

describe("findCycles", () => {
  it("finds self loops and nested components, not DAG edges", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["c", ["a"]],
      ["d", ["d"]],
      ["e", ["a"]]
    ])
    const cycles = findCycles(graph).map((cycle) => [...cycle].sort())
    expect(cycles).toContainEqual(["a", "b", "c"])
    expect(cycles).toContainEqual(["d"])
    expect(cycles).toHaveLength(2)
  })
})

/**
 * `npm run lint` for the whole workspace: module boundaries, import cycles
 * (between files — value and type-only imports alike, since a type-only cycle
 * still ties the modules' designs together; only dynamic `import()` is left
 * out — and between packages), and the file-size budget
 * (STYLE.md §14: median under 150 lines, none over 600).
 *
 * Usage: `tsx tools/lint/lint.ts [workspace-root]` — prints one line per
 * problem (`file:line error: ...`) and exits 1 when there is any.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { findCycles } from "./cycles.ts"
import { importsOf } from "./imports.ts"
import { checkImport, type Violation } from "./rules.ts"
import { readWorkspace } from "./workspace.ts"

export const MAX_FILE_LINES = 600

export interface LintReport {
  readonly violations: ReadonlyArray<Violation>
  readonly fileCount: number
  readonly medianLines: number
}

export const lintWorkspace = (root: string): LintReport => {
  const projects = readWorkspace(root)
  const projectsByName = new Map(projects.map((project) => [project.name, project]))
  const violations: Violation[] = []
  const fileGraph = new Map<string, string[]>()
  const lineCounts: number[] = []

  for (const project of projects) {
    for (const file of project.files) {
      const text = fs.readFileSync(file, "utf8")
      const lines = text.split("\n").length
      lineCounts.push(lines)
      if (lines > MAX_FILE_LINES) {
        violations.push({ file, line: 1, message: `${lines} lines (budget ${MAX_FILE_LINES}): split it by concept` })
      }
      const edges: string[] = []
      for (const ref of importsOf(file, text)) {
        const violation = checkImport(project, file, ref, projectsByName)
        if (violation) violations.push(violation)
        if (ref.kind !== "dynamic" && ref.specifier.startsWith(".")) edges.push(path.resolve(path.dirname(file), ref.specifier))
      }
      fileGraph.set(file, edges)
    }
  }

  for (const cycle of findCycles(fileGraph)) {
    const names = cycle.map((file) => path.relative(root, file))
    violations.push({ file: cycle[0]!, line: 1, message: `import cycle: ${[...names, names[0]].join(" → ")}` })
  }
  const packageGraph = new Map(
    projects.map((project) => [project.name, [...project.dependencies].filter((dep) => projectsByName.has(dep))])
  )
  for (const cycle of findCycles(packageGraph)) {
    const manifest = path.join(projectsByName.get(cycle[0]!)!.dir, "package.json")
    violations.push({ file: manifest, line: 1, message: `package dependency cycle: ${[...cycle, cycle[0]].join(" → ")}` })
  }

  const sorted = [...lineCounts].sort((a, b) => a - b)
  const medianLines = sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!
  return { violations, fileCount: lineCounts.length, medianLines }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)
if (isMain) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, "..", ".."))
  const report = lintWorkspace(root)
  for (const violation of report.violations) {
    console.error(`${path.relative(root, violation.file)}:${violation.line} error: ${violation.message}`)
  }
  console.log(
    `lint: ${report.fileCount} TypeScript files, median ${report.medianLines} lines, ${report.violations.length} problem(s)`
  )
  process.exitCode = report.violations.length > 0 ? 1 : 0
}

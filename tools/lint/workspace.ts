/**
 * The workspace as the linter sees it: projects (their folder, kind and
 * package.json) and the TypeScript files that belong to each.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export type ProjectKind = "package" | "plugin" | "tools" | "tests"

export interface Project {
  readonly name: string
  readonly dir: string
  readonly kind: ProjectKind
  /** Runtime dependencies (`dependencies` and `peerDependencies`). */
  readonly dependencies: ReadonlySet<string>
  /** Test/benchmark-only dependencies (`devDependencies`). */
  readonly devDependencies: ReadonlySet<string>
  /** Subpaths of the package's `exports` map (".", "./conformance", ...). */
  readonly exportedSubpaths: ReadonlySet<string>
  readonly files: ReadonlyArray<string>
}

const IGNORED_DIRS = new Set(["node_modules", "dist", ".nx", "runs", ".cache", ".refine-af", "fixtures"])

const tsFilesUnder = (dir: string): string[] => {
  const found: string[] = []
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!IGNORED_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(path.join(current, entry.name))
      } else if (/\.(m?ts|tsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        found.push(path.join(current, entry.name))
      }
    }
  }
  walk(dir)
  return found.sort()
}

const readProject = (dir: string, kind: ProjectKind): Project | undefined => {
  const manifestPath = path.join(dir, "package.json")
  if (!fs.existsSync(manifestPath)) return undefined
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"))
  const exportsField = manifest.exports
  const subpaths =
    typeof exportsField === "object" && exportsField !== null && Object.keys(exportsField).some((k) => k.startsWith("."))
      ? Object.keys(exportsField)
      : ["."]
  return {
    name: manifest.name,
    dir,
    kind,
    dependencies: new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]),
    devDependencies: new Set(Object.keys(manifest.devDependencies ?? {})),
    exportedSubpaths: new Set(subpaths),
    files: tsFilesUnder(dir)
  }
}

export const readWorkspace = (root: string): Project[] => {
  const projects: Project[] = []
  for (const [group, kind] of [["packages", "package"], ["plugins", "plugin"]] as const) {
    const groupDir = path.join(root, group)
    if (!fs.existsSync(groupDir)) continue
    for (const entry of fs.readdirSync(groupDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const project = readProject(path.join(groupDir, entry.name), kind)
      if (project) projects.push(project)
    }
  }
  for (const [folder, kind] of [["tools", "tools"], ["tests", "tests"]] as const) {
    const project = readProject(path.join(root, folder), kind)
    if (project) projects.push(project)
  }
  return projects
}

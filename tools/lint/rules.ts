/**
 * The workspace's architecture rules (ARCHITECTURE.md, "Dependency directions"):
 * core imports no plugin; plugins import no other plugin; only named projects may
 * import heavy runtimes; workspace imports go through declared dependencies and
 * the target's `exports` map; relative imports stay inside their project.
 *
 * Test and benchmark files (under `test/` or `bench/`) may also use what the
 * project declares in `devDependencies` — e.g. a model plugin's integration
 * tests run it on the real backend plugin — because that is not part of the
 * runtime dependency graph the rules protect.
 */
import * as path from "node:path"
import type { ImportRef } from "./imports.ts"
import type { Project } from "./workspace.ts"

export interface Violation {
  readonly file: string
  readonly line: number
  readonly message: string
}

/** Third-party modules that only some projects may import, by project name. */
export const RESTRICTED_MODULES: Readonly<Record<string, ReadonlyArray<string>>> = {
  "onnxruntime-node": ["@refine-af/backend-onnx", "@refine-af/tools"],
  "@huggingface/transformers": ["@refine-af/models", "@refine-af/tools"]
}

const packageNameOf = (specifier: string): string => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!
}

export const checkImport = (
  project: Project,
  file: string,
  ref: ImportRef,
  projectsByName: ReadonlyMap<string, Project>
): Violation | undefined => {
  const at = (message: string): Violation => ({ file, line: ref.line, message })
  const { specifier } = ref
  if (specifier.startsWith(".")) {
    const target = path.resolve(path.dirname(file), specifier)
    const relative = path.relative(project.dir, target)
    if (relative.startsWith("..") || path.isAbsolute(relative)) {
      return at(`relative import "${specifier}" leaves ${project.name}; import the other package by its name instead`)
    }
    return undefined
  }
  if (specifier.startsWith("node:")) return undefined
  const targetName = packageNameOf(specifier)
  const allowed = RESTRICTED_MODULES[targetName]
  if (allowed && !allowed.includes(project.name)) {
    return at(`${project.name} may not import "${targetName}" (only ${allowed.join(", ")}); ask for the service it provides instead`)
  }
  const target = projectsByName.get(targetName)
  if (!target || target === project) return undefined
  const devOnly = isTestOrBench(project, file) && project.devDependencies.has(targetName)
  if (!devOnly && project.kind === "package" && target.kind === "plugin") {
    return at(`${project.name} is a package and may not import the plugin ${target.name}; define a core service and let recipes supply the plugin`)
  }
  if (!devOnly && project.kind === "plugin" && target.kind === "plugin") {
    return at(`plugin ${project.name} may not import another plugin (${target.name}); depend on a core service instead`)
  }
  if (project.kind !== "tests" && !devOnly && !project.dependencies.has(targetName)) {
    return at(`${project.name} imports ${targetName} without declaring it in package.json dependencies`)
  }
  const subpath = "." + specifier.slice(targetName.length)
  if (!target.exportedSubpaths.has(subpath)) {
    return at(`"${specifier}" is not in ${target.name}'s exports map (${[...target.exportedSubpaths].join(", ")}); use its public API`)
  }
  return undefined
}

const isTestOrBench = (project: Project, file: string): boolean => {
  const top = path.relative(project.dir, file).split(path.sep)[0]
  return top === "test" || top === "bench"
}

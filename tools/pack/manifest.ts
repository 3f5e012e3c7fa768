/**
 * The package.json a workspace package is published with. In the repository every package
 * points at its TypeScript sources (`exports: "./src/index.ts"`, run by tsx and vitest with no
 * build step); the published one points at `dist/`:
 * - `exports` entries `./src/X.ts` become `{ types: ./dist/X.d.ts, import: ./dist/X.js }`;
 *   a `bin` `./bin/N.js` becomes `./dist/bin/N.js` (compiled from `src/bin/N.ts`);
 * - `files` lists `dist`, the README and the package's extra folders;
 * - libraries take `effect` and the other `@refine-af/*` packages as **peer dependencies**
 *   (one copy in a project: services, Schemas and tagged errors are identified by module
 *   identity); the CLI, the program that owns those copies, keeps them as dependencies;
 * - workspace ranges (`*`) become `^<version>`; scripts and devDependencies are dropped.
 *
 * @example
 * ```ts
 * import { publishedManifest } from "./manifest.ts"
 * const pkg = publishedManifest({ name: "@refine-af/x", version: "0.1.0", exports: { ".": "./src/index.ts" } }, { role: "library", versions: {}, extraFiles: [] })
 * ```
 */

/** A package.json, loosely typed. */
export type PackageJson = Record<string, unknown> & { readonly name: string; readonly version: string }

/** How to publish one package. */
export interface PublishOptions {
  /** `library`: effect and @refine-af/* are peers; `program`: they are dependencies (the CLI). */
  readonly role: "library" | "program"
  /** Versions of the workspace packages, by name. */
  readonly versions: Readonly<Record<string, string>>
  /** Folders besides `dist` that ship (the CLI's `recipes`). */
  readonly extraFiles: ReadonlyArray<string>
  /** The Node range the workspace declares. */
  readonly engines?: Readonly<Record<string, string>>
}

const distTarget = (target: string): { types: string; import: string } => {
  const match = /^\.\/src\/(.+)\.ts$/.exec(target)
  if (match === null) throw new Error(`export target ${target} is not under ./src/*.ts`)
  return { types: `./dist/${match[1]}.d.ts`, import: `./dist/${match[1]}.js` }
}

const mapExports = (exportsField: unknown): Record<string, unknown> => {
  const entries = typeof exportsField === "string" ? { ".": exportsField } : (exportsField ?? {}) as Record<string, unknown>
  return Object.fromEntries(Object.entries(entries).map(([key, target]) => {
    if (typeof target !== "string") throw new Error(`export "${key}" must be a plain ./src/*.ts path`)
    return [key, distTarget(target)]
  }))
}

const mapBin = (bin: unknown): Record<string, string> | undefined => {
  if (bin === undefined) return undefined
  return Object.fromEntries(Object.entries(bin as Record<string, string>).map(([command, target]) => {
    const match = /^\.\/bin\/(.+)\.js$/.exec(target)
    if (match === null) throw new Error(`bin "${command}" must be ./bin/<name>.js (compiled from src/bin/<name>.ts)`)
    return [command, `./dist/bin/${match[1]}.js`]
  }))
}

const isShared = (name: string) => name === "effect" || name.startsWith("@refine-af/")

/** The manifest to publish `pkg` with. */
export const publishedManifest = (pkg: PackageJson, options: PublishOptions): PackageJson => {
  const range = (name: string, declared: string) => options.versions[name] !== undefined && declared === "*" ? `^${options.versions[name]}` : declared
  const declared = Object.entries((pkg["dependencies"] ?? {}) as Record<string, string>).map(([name, spec]) => [name, range(name, spec)] as const)
  const peers = options.role === "library" ? declared.filter(([name]) => isShared(name)) : []
  const dependencies = declared.filter(([name]) => !peers.some(([peer]) => peer === name))
  const exportsMap = mapExports(pkg["exports"])
  const bin = mapBin(pkg["bin"])
  const main = exportsMap["."] as { types: string; import: string } | undefined
  const out: Record<string, unknown> = {
    name: pkg.name,
    version: pkg.version,
    description: pkg["description"],
    type: pkg["type"] ?? "module",
    license: pkg["license"],
    ...(pkg["keywords"] === undefined ? {} : { keywords: pkg["keywords"] }),
    ...(pkg["refine-af"] === undefined ? {} : { "refine-af": pkg["refine-af"] }),
    ...(options.engines === undefined ? {} : { engines: options.engines }),
    exports: exportsMap,
    ...(main === undefined ? {} : { types: main.types }),
    ...(bin === undefined ? {} : { bin }),
    files: ["dist", "README.md", ...options.extraFiles],
    ...(dependencies.length === 0 ? {} : { dependencies: Object.fromEntries(dependencies) }),
    ...(peers.length === 0 ? {} : { peerDependencies: Object.fromEntries(peers) })
  }
  return out as PackageJson
}

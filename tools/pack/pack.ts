/**
 * Builds workspace packages to `dist/` and packs each into an installable npm tarball, without
 * touching the package folders (the repository keeps running its TypeScript sources): each
 * package is staged as `<stage>/<folder>/` — `dist/`, the published package.json (see
 * `manifest.ts`), README, and for the CLI the stock recipes — then `npm pack`ed.
 *
 * Run:   npx tsx tools/pack/pack.ts --out <folder> [--stage <folder>] [packages/core packages/cli ...]
 * (default: every package under packages/ and plugins/). Prints one JSON line per tarball
 * (`{ name, version, file }`); `npm publish <file>` publishes one.
 *
 * @example
 * ```ts
 * import { packWorkspace } from "./pack.ts"
 * const tarballs = packWorkspace({ repoRoot: "/repo", folders: ["packages/core"], out: "/tmp/tgz" })
 * ```
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { compilePackages } from "./build.ts"
import { publishedManifest, type PackageJson } from "./manifest.ts"
import { npmEnv } from "./npm-env.ts"

/** One packed package. */
export interface Tarball {
  readonly name: string
  readonly version: string
  readonly file: string
}

/** What to pack and where. */
export interface PackOptions {
  readonly repoRoot: string
  /** Workspace folders, e.g. `packages/core`. */
  readonly folders: ReadonlyArray<string>
  /** Where the .tgz files go. */
  readonly out: string
  /** Where the staged package folders go (default: a temporary folder, removed afterwards). */
  readonly stage?: string
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as PackageJson

/** Runtime data folders next to `src/` that ship when present (bundled seed tasks, the built-in model). */
const dataFolders = ["data", "models"]

/** Folders besides dist/ a package ships: its data folders; the CLI also the repository's recipes (`refine-af recipes ls` / `cp`). */
const extraFolders = (pkg: PackageJson, dir: string): ReadonlyArray<string> => [
  ...dataFolders.filter((folder) => fs.existsSync(path.join(dir, folder))),
  ...(pkg.name === "@refine-af/cli" ? ["recipes"] : [])
]

const stageExtras = (repoRoot: string, folder: string, target: string, pkg: PackageJson) => {
  for (const extra of extraFolders(pkg, path.join(repoRoot, folder))) {
    if (extra !== "recipes") {
      fs.cpSync(path.join(repoRoot, folder, extra), path.join(target, extra), { recursive: true, filter: (file) => !path.basename(file).startsWith(".") })
      continue
    }
    const bundle = spawnSync(process.execPath, [path.join(repoRoot, folder, "scripts/bundle-recipes.mjs"), target], { encoding: "utf8" })
    if (bundle.status !== 0) throw new Error(`bundling recipes failed: ${bundle.stderr}`)
  }
}

/** Every package folder under packages/ and plugins/. */
const workspaceFolders = (repoRoot: string): ReadonlyArray<string> =>
  ["packages", "plugins"].flatMap((parent) =>
    fs.readdirSync(path.join(repoRoot, parent)).sort().map((name) => `${parent}/${name}`).filter((folder) => fs.existsSync(path.join(repoRoot, folder, "package.json")))
  )

/** Builds, stages and packs `folders`; returns the tarballs in the order given. */
export const packWorkspace = (options: PackOptions): ReadonlyArray<Tarball> => {
  const { repoRoot, folders } = options
  const stage = options.stage ?? fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-stage-"))
  fs.mkdirSync(options.out, { recursive: true })
  try {
    const versions = Object.fromEntries(workspaceFolders(repoRoot).flatMap((folder) => {
      const file = path.join(repoRoot, folder, "package.json")
      if (!fs.existsSync(file)) return []
      const pkg = readJson(file)
      return [[pkg.name, pkg.version]]
    }))
    const engines = readJson(path.join(repoRoot, "package.json"))["engines"] as Record<string, string> | undefined
    compilePackages(repoRoot, folders, stage)
    const staged = folders.map((folder) => {
      const pkg = readJson(path.join(repoRoot, folder, "package.json"))
      const target = path.join(stage, folder)
      const manifest = publishedManifest(pkg, {
        role: pkg["bin"] === undefined ? "library" : "program",
        versions,
        extraFiles: extraFolders(pkg, path.join(repoRoot, folder)),
        ...(engines === undefined ? {} : { engines })
      })
      fs.writeFileSync(path.join(target, "package.json"), JSON.stringify(manifest, null, 2) + "\n")
      if (fs.existsSync(path.join(repoRoot, folder, "README.md"))) fs.cpSync(path.join(repoRoot, folder, "README.md"), path.join(target, "README.md"))
      stageExtras(repoRoot, folder, target, pkg)
      return { target, manifest }
    })
    // One npm process for all of them (npm's own start-up is most of a small pack).
    const packed = spawnSync("npm", ["pack", ...staged.map(({ target }) => target), "--pack-destination", options.out, "--ignore-scripts", "--json"], { encoding: "utf8", cwd: options.out, env: npmEnv() })
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`)
    const infos = JSON.parse(packed.stdout) as Array<{ name: string; filename: string }>
    return staged.map(({ manifest }) => {
      const info = infos.find((candidate) => candidate.name === manifest.name)
      if (info === undefined) throw new Error(`npm pack wrote no tarball for ${manifest.name}`)
      return { name: manifest.name, version: manifest.version, file: path.join(options.out, info.filename) }
    })
  } finally {
    if (options.stage === undefined) fs.rmSync(stage, { recursive: true, force: true })
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const args = process.argv.slice(2)
  const flag = (name: string) => {
    const at = args.indexOf(name)
    if (at < 0) return undefined
    const value = args[at + 1]
    args.splice(at, 2)
    return value
  }
  const out = flag("--out")
  const stage = flag("--stage")
  if (out === undefined) {
    console.error("usage: npx tsx tools/pack/pack.ts --out <folder> [--stage <folder>] [packages/core ...]")
    process.exit(2)
  }
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
  const folders = args.length > 0 ? args : workspaceFolders(repoRoot)
  const tarballs = packWorkspace({ repoRoot, folders, out: path.resolve(out), ...(stage === undefined ? {} : { stage: path.resolve(stage) }) })
  for (const tarball of tarballs) console.log(JSON.stringify(tarball))
}

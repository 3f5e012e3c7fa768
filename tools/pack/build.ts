/**
 * Compiles workspace packages to JavaScript plus declarations with one `tsc` program (one type
 * check for all of them; imports between them stay package names), then lays each out as a
 * publishable folder: `<stage>/<folder>/dist/` mirrors `src/` file for file (so
 * `import.meta.url`-relative paths such as `../package.json` keep working), relative `.ts`
 * specifiers become `.js` in both `.js` and `.d.ts` files, and non-TypeScript runtime files
 * under `src/` (a worker's `.mjs` entry) are copied as they are.
 *
 * @example
 * ```ts
 * import { compilePackages } from "./build.ts"
 * compilePackages("/repo", ["packages/core", "packages/testing"], "/tmp/stage")
 * ```
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** `tsc` failed: its diagnostics, verbatim. */
export class BuildFailed extends Error {
  override readonly name = "BuildFailed"
}

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]
  )

/** Relative specifiers ending in `.ts` (in import/export/import() positions) become `.js`: tsc rewrites them in `.js` output, not in declarations. */
const rewriteDeclarationSpecifiers = (text: string): string =>
  text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.(m|c)?ts(["'])/g, (_all, head: string, stem: string, flavour: string | undefined, quote: string) =>
    `${head}${stem}.${flavour ?? ""}js${quote}`)

/** Runtime files that live next to the sources and are not compiled. */
const isAsset = (file: string) => /\.(mjs|cjs|json)$/.test(file)

/** Compiles `folders` (workspace-relative, each with `src/`) and writes `<stage>/<folder>/dist/`. Returns the seconds tsc took. */
export const compilePackages = (repoRoot: string, folders: ReadonlyArray<string>, stage: string): number => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-build-"))
  try {
    const entries = folders.flatMap((folder) =>
      walk(path.join(repoRoot, folder, "src")).filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
    )
    const tsconfig = {
      extends: path.join(repoRoot, "tsconfig.base.json"),
      compilerOptions: {
        noEmit: false,
        declaration: true,
        // `npm test` type-checks every project; the build only emits (declarations still infer types).
        noCheck: true,
        rewriteRelativeImportExtensions: true,
        rootDir: repoRoot,
        outDir: path.join(work, "out"),
        types: ["node"],
        typeRoots: [path.join(repoRoot, "node_modules/@types")]
      },
      files: entries
    }
    fs.writeFileSync(path.join(work, "tsconfig.json"), JSON.stringify(tsconfig))
    const started = performance.now()
    const tsc = spawnSync(process.execPath, [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", path.join(work, "tsconfig.json")], { encoding: "utf8" })
    const seconds = (performance.now() - started) / 1000
    if (tsc.status !== 0) throw new BuildFailed(`tsc failed (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`)
    for (const folder of folders) {
      const emitted = path.join(work, "out", folder, "src")
      const dist = path.join(stage, folder, "dist")
      fs.rmSync(dist, { recursive: true, force: true })
      fs.mkdirSync(path.dirname(dist), { recursive: true })
      fs.cpSync(emitted, dist, { recursive: true })
      for (const file of walk(dist).filter((file) => file.endsWith(".d.ts"))) {
        fs.writeFileSync(file, rewriteDeclarationSpecifiers(fs.readFileSync(file, "utf8")))
      }
      const source = path.join(repoRoot, folder, "src")
      for (const file of walk(source).filter(isAsset)) fs.cpSync(file, path.join(dist, path.relative(source, file)))
    }
    return seconds
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

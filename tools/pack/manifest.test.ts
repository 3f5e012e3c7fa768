import { describe, expect, it } from "vitest"
import { publishedManifest } from "./manifest.ts"

const versions = { "@refine-af/core": "0.1.0", "@refine-af/tensor": "0.2.0" }

describe("publishedManifest", () => {
  it("points a library at dist/ with types and import conditions, and makes effect and @refine-af/* peers", () => {
    const pkg = publishedManifest({
      name: "@refine-af/testing",
      version: "0.1.0",
      type: "module",
      exports: { ".": "./src/index.ts", "./extra": "./src/extra/index.ts" },
      scripts: { test: "vitest run" },
      dependencies: { "@refine-af/core": "*", "@refine-af/tensor": "*", effect: "^4.1.0", yaml: "^2.9.1" },
      devDependencies: { ajv: "^8.20.0" }
    }, { role: "library", versions, extraFiles: [], engines: { node: ">=20.19.0" } })
    expect(pkg["exports"]).toEqual({
      ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
      "./extra": { types: "./dist/extra/index.d.ts", import: "./dist/extra/index.js" }
    })
    expect(pkg["types"]).toBe("./dist/index.d.ts")
    expect(pkg["files"]).toEqual(["dist", "README.md"])
    expect(pkg["dependencies"]).toEqual({ yaml: "^2.9.1" })
    expect(pkg["peerDependencies"]).toEqual({ "@refine-af/core": "^0.1.0", "@refine-af/tensor": "^0.2.0", effect: "^4.1.0" })
    expect(pkg["engines"]).toEqual({ node: ">=20.19.0" })
    expect(pkg["scripts"]).toBeUndefined()
    expect(pkg["devDependencies"]).toBeUndefined()
  })

  it("keeps a program's shared packages as dependencies and moves its bin to dist/bin", () => {
    const pkg = publishedManifest({
      name: "@refine-af/cli",
      version: "0.1.0",
      exports: { ".": "./src/index.ts" },
      bin: { "refine-af": "./bin/refine-af.js" },
      dependencies: { "@refine-af/core": "*", effect: "^4.1.0", tsx: "^4.23.15" }
    }, { role: "program", versions, extraFiles: ["recipes"] })
    expect(pkg["bin"]).toEqual({ "refine-af": "./dist/bin/refine-af.js" })
    expect(pkg["dependencies"]).toEqual({ "@refine-af/core": "^0.1.0", effect: "^4.1.0", tsx: "^4.23.15" })
    expect(pkg["peerDependencies"]).toBeUndefined()
    expect(pkg["files"]).toEqual(["dist", "README.md", "recipes"])
  })

  it("refuses exports and bins it cannot map to dist/", () => {
    const options = { role: "library" as const, versions, extraFiles: [] }
    expect(() => publishedManifest({ name: "x", version: "1.0.0", exports: { ".": "./lib/index.js" } }, options)).toThrow("not under ./src/*.ts")
    expect(() => publishedManifest({ name: "x", version: "1.0.0", exports: "./src/index.ts", bin: { x: "./cli.js" } }, options)).toThrow("must be ./bin/<name>.js")
  })
})

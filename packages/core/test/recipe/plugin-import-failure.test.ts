/**
 * A plugin whose modules fail to import: the message keeps where the error is (a syntax
 * error's file:line:column, which its transformer puts on the second line; for an error
 * thrown while the plugin's modules run, the first place in the plugin's folder).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { importFailure } from "../../src/plugin/loader.ts"

const root = mkdtempSync(path.join(tmpdir(), "plugin-import-failure-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("importFailure", () => {
  it("keeps a transform error's location line, joined onto one line", () => {
    const error = new Error(`Transform failed with 1 error:\n${root}/shout/src/index.ts:12:18: ERROR: Unexpected ";"`)
    expect(importFailure(error, path.join(root, "shout"))).toBe(`Transform failed with 1 error: ${root}/shout/src/index.ts:12:18: ERROR: Unexpected ";"`)
  })

  it("names the place in the plugin's folder where an import-time throw happened", async () => {
    const dir = path.join(root, "thrower")
    mkdirSync(path.join(dir, "src"), { recursive: true })
    writeFileSync(path.join(dir, "src/helper.mjs"), "export const check = () => {\n  throw new Error(\"SHOUT_KEY is not set\")\n}\n")
    writeFileSync(path.join(dir, "src/index.mjs"), "import { check } from \"./helper.mjs\"\ncheck()\nexport default {}\n")
    const thrown = await import(pathToFileURL(path.join(dir, "src/index.mjs")).href).then(() => undefined, (error: unknown) => error)
    expect(importFailure(thrown, dir)).toBe(`SHOUT_KEY is not set (at ${path.join(dir, "src/helper.mjs")}:2:9)`)
    // A frame outside the plugin's folder is not named.
    expect(importFailure(thrown, path.join(root, "elsewhere"))).toBe("SHOUT_KEY is not set")
  })

  it("keeps a message that is not an Error as it is", () => {
    expect(importFailure("boom", root)).toBe("boom")
  })
})

/** The command our messages suggest: `npx refine-af` when npm started the CLI (its local install is not on PATH), else `refine-af`. */
import { describe, expect, it } from "vitest"
import { cliCommand } from "../src/invocation.ts"

describe("cliCommand", () => {
  it("is npx refine-af under npx, npm exec or an npm script, refine-af otherwise", () => {
    expect(cliCommand({ npm_command: "exec" })).toBe("npx refine-af")
    expect(cliCommand({ npm_command: "run-script" })).toBe("npx refine-af")
    expect(cliCommand({})).toBe("refine-af")
    expect(cliCommand({ npm_command: "" })).toBe("refine-af")
  })
})

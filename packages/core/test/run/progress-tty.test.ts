import { describe, expect, it } from "vitest"
import { ttyProgress } from "../../src/index.ts"

const fakeTerminal = () => {
  let written = ""
  const stream = { columns: 80, write: (text: string) => ((written += text), true) } as unknown as NodeJS.WriteStream
  return { stream, output: () => written }
}

describe("terminal progress bar", () => {
  it("redraws one line in place and clears it before other output", () => {
    const { stream, output } = fakeTerminal()
    const display = ttyProgress(stream)
    display.stageStart("gen", 1, 3)
    display.progress("gen", 50, 100)
    expect(output()).toContain("[1/3] gen\n")
    expect(output()).toMatch(/\r\x1b\[K {2}gen \[#{12}\.{12}\] 50\/100 \(50%\)/)
    display.stageEnd("gen", "done")
    expect(output().endsWith("\r\x1b[K  gen: done\n")).toBe(true)
    for (const line of output().split(/[\r\n]/)) expect(line.replace("\x1b[K", "").length).toBeLessThan(80)
  })
})

import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { collectRunReport, decodeRunReport, readManifestFile, writeRunReport } from "@refine-af/core"
import { longInstruction, syntheticRun } from "./synthetic-run.ts"

const svgsOf = (html: string) => [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((match) => match[0])

/** Checks XML well-formedness of an SVG fragment: balanced tags, quoted attributes, escaped text. */
const xmlProblems = (xml: string): Array<string> => {
  const problems: Array<string> = []
  const stack: Array<string> = []
  const tokens = xml.split(/(<[^>]*>)/)
  for (const token of tokens) {
    if (token.startsWith("<")) {
      const closing = /^<\/([A-Za-z][\w-]*)\s*>$/.exec(token)
      if (closing) {
        if (stack.pop() !== closing[1]) problems.push(`unbalanced ${token}`)
        continue
      }
      const opening = /^<([A-Za-z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token)
      if (!opening) problems.push(`malformed tag ${token}`)
      else if (opening[3] !== "/") stack.push(opening[1]!)
    } else if (/[<>]|&(?!(amp|lt|gt|quot|#39);)/.test(token)) problems.push(`unescaped text ${JSON.stringify(token)}`)
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join(", ")}`)
  return problems
}

describe("run report builder", () => {
  it("writes report.md, report.html and report.json whose JSON decodes with its Schema", () => {
    const { runDir, manifest } = syntheticRun()
    const written = writeRunReport(runDir, manifest)
    const decoded = decodeRunReport(JSON.parse(fs.readFileSync(written.json, "utf8")))
    expect(decoded).toEqual(collectRunReport(runDir, readManifestFile(runDir)))
    expect(decoded.stages.map((stage) => [stage.name, stage.status, stage.cacheHit, stage.records])).toEqual([
      ["instructions", "cached", true, 4],
      ["ppo", "completed", false, 5],
      ["evaluate", "completed", false, 4],
      ["classify", "completed", false, 4],
      ["sft", "failed", false, 2],
      ["compare", "pending", false, null]
    ])
    expect(decoded.outputs).toContainEqual({ kind: "adapter", stage: "ppo", path: "stages/ppo/adapter" })
    expect(decoded.warnings).toEqual([{ stage: "evaluate", message: "8 of 16 generations hit maxNewTokens=16" }])
    expect(() => decodeRunReport({ ...decoded, stages: [{ name: "x" }] })).toThrow()
  })

  it("has a section for each kind of material a stage left, and none for material it did not", () => {
    const { runDir, manifest } = syntheticRun()
    const report = collectRunReport(runDir, manifest)
    const byName = Object.fromEntries(report.stages.map((stage) => [stage.name, stage]))
    expect(byName["ppo"]!.curves.map((curve) => curve.name)).toEqual(["reward_mean", "kl", "loss"])
    expect(byName["ppo"]!.curves[1]!.points[2]).toEqual({ step: 2, value: null })
    expect(byName["ppo"]!.samples[0]!.samples[0]).toContainEqual({ name: "parts", value: { Nat: 0.5, Coh: 0.4, Und: 0.3, Pass: 1 } })
    expect(byName["instructions"]!.samples.map((group) => [group.group, group.samples.length])).toEqual([["accepted", 2], ["rejected", 1]])
    expect(byName["instructions"]!.tables[0]!.title).toBe("Filter statistics")
    expect(byName["evaluate"]!.tables.map((table) => table.title)).toEqual(["Scores per task", "Wide table"])
    expect(byName["classify"]!.curves.length + byName["classify"]!.samples.length + byName["classify"]!.tables.length).toBe(0)
    const { markdown, html } = writeRunReport(runDir, manifest)
    const md = fs.readFileSync(markdown, "utf8")
    const page = fs.readFileSync(html, "utf8")
    for (const heading of ["## Stages", "## Resources", "### ppo (ppo/train)", "**Curves (per step; charts in report.html)**", "**Samples: rejected** (1)", "**Filter statistics**", "## Warnings"]) {
      if (heading === "## Resources") expect(md).not.toContain(heading) // the synthetic manifest records no resources
      else expect(md).toContain(heading)
    }
    expect(md).toContain("Error: step 2: PolicyError (NonFinite): the loss is NaN")
    expect(md).not.toContain("### compare") // pending, nothing to show
    expect(svgsOf(page)).toHaveLength(3)
    expect(page).toContain("Samples: accepted (2)")

    const bare = syntheticRun({ withMaterial: false })
    const bareReport = collectRunReport(bare.runDir, bare.manifest)
    expect(bareReport.stages.every((stage) => stage.curves.length === 0 && stage.samples.length === 0 && stage.tables.length === 0)).toBe(true)
    const bareFiles = writeRunReport(bare.runDir, bare.manifest)
    expect(svgsOf(fs.readFileSync(bareFiles.html, "utf8"))).toHaveLength(0)
    expect(fs.readFileSync(bareFiles.markdown, "utf8")).not.toContain("Curves")
  })

  it("draws well-formed, self-contained SVG: one line per unbroken run of points, text escaped", () => {
    const { runDir, manifest } = syntheticRun()
    const page = fs.readFileSync(writeRunReport(runDir, manifest).html, "utf8")
    const svgs = svgsOf(page)
    for (const svg of svgs) expect(xmlProblems(svg)).toEqual([])
    // kl has a gap at step 2: two polylines; reward_mean and loss one each.
    expect(svgs.map((svg) => (svg.match(/<polyline/g) ?? []).length)).toEqual([1, 2, 1])
    expect((svgs[0]!.match(/<circle/g) ?? []).length).toBe(5)
    expect(page).not.toMatch(/<script|<link|<img|@import|url\(/i)
    expect(page.match(/https?:\/\/[^"\s]*/g)?.every((url) => url === "http://www.w3.org/2000/svg")).toBe(true)
    expect(page).toContain("blue &lt;b&gt;&amp;&lt;/b&gt;")
  })

  it("keeps every Markdown line within 100 columns: long text wraps, wide tables are cut", () => {
    const { runDir, manifest } = syntheticRun()
    const md = fs.readFileSync(writeRunReport(runDir, manifest).markdown, "utf8")
    const lines = md.split("\n")
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(100)
    // Wrapped, not cut: every word of the long instruction is there.
    const text = lines.join(" ").replace(/\s+/g, " ")
    for (const word of longInstruction.split(" ")) expect(text).toContain(word)
    // Many rows too wide: cut cells, pipes escaped; one row too wide: "column: value" lines.
    expect(md).toContain("task002\\|pipes")
    expect(md).toMatch(/\| task001_kitchen_entailment\S*… \|/)
    expect(md).toContain("1. column_0: 0\n   column_1: 1000.1\n")
    expect(md).toContain("   column_13: 13001.6\n")
  })

  it("moves a run id too long for the heading (a comparison run names both runs) into the facts, wrapped", () => {
    const { runDir, manifest } = syntheticRun()
    const longId = `compare-${"quickstart-20261206-154520-27d3-".repeat(3)}vs-seed-7`
    const md = fs.readFileSync(writeRunReport(runDir, { ...manifest, runId: longId }).markdown, "utf8")
    expect(Math.max(...md.split("\n").map((line) => line.length))).toBeLessThanOrEqual(100)
    expect(md.startsWith("# Run report\n")).toBe(true)
    expect(md.split("\n").join(" ").replace(/\s+/g, "")).toContain(`run:${longId}`)
  })

  it("lists damaged material under problems and keeps the rest", () => {
    const { runDir, manifest } = syntheticRun()
    fs.appendFileSync(`${runDir}/stages/ppo/curves.jsonl`, "{not json\n")
    fs.writeFileSync(`${runDir}/stages/evaluate/tables.json`, JSON.stringify({ tables: [{ title: 3 }] }))
    const report = collectRunReport(runDir, manifest)
    expect(report.problems).toHaveLength(2)
    expect(report.problems[0]).toMatch(/curves\.jsonl:6: not JSON/)
    expect(report.problems[1]).toMatch(/tables\.json: unexpected shape/)
    expect(report.stages.find((stage) => stage.name === "ppo")!.curves).toHaveLength(3)
    expect(fs.readFileSync(writeRunReport(runDir, manifest).markdown, "utf8")).toContain("## Report problems")
  })
})

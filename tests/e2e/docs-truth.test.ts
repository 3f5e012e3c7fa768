/**
 * The docs say what is true: the paper recipes' comments give a download line whose target is
 * the folder the recipe's `path` resolves to (recipe-relative, not cwd-relative), and state
 * memory needs, gating and where SuperNI test data comes from; in the full-loop and baseline
 * paper recipes every value says where it comes from; the README states the Node engine the
 * dependencies declare next to the version CI tests; the quickstart's outcome and other measured
 * figures in the docs equal the committed bench-results/ JSON they come from.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { repoRoot } from "./cli.ts"

const paperDir = path.join(repoRoot, "recipes/paper")
const paperRecipes = fs.readdirSync(paperDir).filter((name) => name.endsWith(".yaml"))

describe("paper recipe comments", () => {
  it.each(paperRecipes)("%s: the download line fills the folder its path resolves to, and the needs are stated", (name) => {
    const text = fs.readFileSync(path.join(paperDir, name), "utf8")
    const comment = text.split("\n").filter((line) => line.startsWith("#")).join("\n")
    const recipe = parse(text) as { resources: Record<string, { path?: string }> }
    const modelPath = Object.values(recipe.resources).find((resource) => typeof resource.path === "string")!.path!
    const resolved = path.resolve(paperDir, modelPath)
    const download = /models pull \S+ --dir (\S+?)`/.exec(comment)?.[1]
    expect(download, "a download line with --dir").toBeDefined()
    // The command runs from the repository root (README); its --dir must be where the recipe looks.
    expect(path.resolve(repoRoot, download!)).toBe(resolved)
    expect(comment).toContain("resolve next to the")
    expect(comment).toMatch(/\d+ GiB as float32/)
    expect(comment).toContain("gated")
    expect(comment).toContain("data pull superni")
  })
})

// A value line (`key: value` under resources/stages) is marked when its own comment, the comment
// block just above it, its parent key's comment, or its node's `_component_` comment ("every value
// as …") names a source. Wiring (a value that names a resource or stage, or a list of them) and `_component_` are not values.
const source = /#.*\b(paper|SI|inferred|ours)\b|every value as/
const unmarkedValues = (text: string): Array<string> => {
  const recipe = parse(text) as { resources: Record<string, unknown>; stages: Record<string, unknown> }
  const names = new Set([...Object.keys(recipe.resources), ...Object.keys(recipe.stages)])
  const lines = text.split("\n")
  const body = lines.findIndex((line) => line === "resources:")
  const unmarked: Array<string> = []
  let nodeComment = ""
  const parents: Array<{ indent: number; line: string }> = []
  for (let index = body + 1; index < lines.length; index++) {
    const line = lines[index]!
    const entry = /^( +)([A-Za-z_]+):(.*)$/.exec(line)
    if (entry === null) continue
    const indent = entry[1]!.length
    const value = entry[3]!.replace(/#.*$/, "").trim()
    while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop()
    parents.push({ indent, line })
    if (indent === 2) continue
    if (entry[2] === "_component_") {
      nodeComment = line
      continue
    }
    const listed = /^\[(.*)\]$/.exec(value)?.[1]?.split(",").map((item) => item.trim())
    if (value === "" || names.has(value) || (listed !== undefined && listed.length > 0 && listed.every((item) => names.has(item)))) continue
    let above = ""
    for (let back = index - 1; back > body && lines[back]!.trim().startsWith("#"); back--) above += lines[back]!
    const parent = parents.length > 1 ? parents[parents.length - 2]!.line : ""
    const node = /every value as/.test(nodeComment) ? nodeComment : ""
    if (![line, above, parent, node].some((candidate) => source.test(candidate))) unmarked.push(`line ${index + 1}: ${line.trim()}`)
  }
  return unmarked
}

describe("full-loop and baseline paper recipes", () => {
  const trainingRecipes = paperRecipes.filter((name) => /^(refine-af|self-instruct-(?!data-))/.test(name))

  it("are the six of REFINE-AF and the Self-Instruct baseline for three models", () => {
    expect(trainingRecipes.sort()).toEqual([
      "refine-af-llama2-13b.yaml", "refine-af-llama2-7b.yaml", "refine-af-mistral-7b.yaml",
      "self-instruct-llama2-13b.yaml", "self-instruct-llama2-7b.yaml", "self-instruct-mistral-7b.yaml"
    ])
  })

  it.each(trainingRecipes)("%s: every value is marked as the paper's, Self-Instruct's, inferred or ours", (name) => {
    expect(unmarkedValues(fs.readFileSync(path.join(paperDir, name), "utf8"))).toEqual([])
  })

  // A stage's cache key is its component, options, upstream outputs, stage seed (recipe seed +
  // stage name) and the identities of the resources it uses (their options, recursively): equal
  // nodes under equal names with the same seed are what lets the two recipes share a cache.
  it.each(["llama2-7b", "llama2-13b", "mistral-7b"].map((model) => [model, model]))("self-instruct-%s is the baseline arm of refine-af-%s, node for node", (model) => {
    type Recipe = { seed: number; resources: Record<string, Record<string, unknown>>; stages: Record<string, Record<string, unknown>> }
    const read = (name: string) => parse(fs.readFileSync(path.join(paperDir, name), "utf8")) as Recipe
    const baseline = read(`self-instruct-${model}.yaml`)
    const full = read(`refine-af-${model}.yaml`)
    expect(baseline.seed).toBe(full.seed)
    expect(Object.keys(baseline.stages)).toEqual(["instructions", "classified", "dataset_base", "sft_base", "eval_base"])
    for (const [name, node] of Object.entries(baseline.stages)) expect(node, name).toEqual(full.stages[name])
    for (const [name, node] of Object.entries(baseline.resources)) expect(node, name).toEqual(full.resources[name])
  })

  it("the check finds an unmarked value", () => {
    const text = fs.readFileSync(path.join(paperDir, "refine-af-llama2-7b.yaml"), "utf8").replace(/( {4}batchSize: 64) +# ours/, "$1")
    expect(unmarkedValues(text)).toEqual([expect.stringContaining("batchSize: 64")])
  })
})

describe("README", () => {
  it("states the Node engine the dependencies declare and the version that is tested", () => {
    const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8")
    const declared = (JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/@effect/platform-node/package.json"), "utf8")) as { engines?: { node?: string } }).engines?.node
    expect(declared).toBeDefined()
    expect(readme).toContain(`"node": "${declared}"`)
    expect(readme).toContain("**Node 20**")
  })
})

/** The outcome of the last `tools/bench-quickstart` run, as its JSON holds it. */
interface QuickstartRow {
  readonly name: string
  readonly wallSeconds: number
  readonly stageSeconds?: Readonly<Record<string, number>>
  readonly outcome?: {
    readonly rewardFirstThird: number
    readonly rewardLastThird: number
    readonly sftLoss: Readonly<Record<"sft_rlaf" | "sft_base", { readonly firstHalf: number; readonly lastHalf: number }>>
    readonly datasetRows: Readonly<Record<"dataset_rlaf" | "dataset_base", number>>
    readonly comparison: string
  }
}

/** The figures a text states for the quickstart, each found by the phrase around it (undefined where the phrase is missing). */
const statedFigures = (text: string) => {
  const flat = text.replace(/\n#? ?/g, " ").replace(/\*\*/g, "")
  const pick = (pattern: RegExp) => pattern.exec(flat)?.slice(1)
  return {
    cold: pick(/(\d+) s cold/),
    ppo: pick(/PPO(?: is)? (\d+) s/),
    cached: pick(/([\d.]+) s (?:when every stage is a cache hit|all cache hits)/),
    reward: pick(/reward ([\d.]+)(?: over the first third[^→]*)? → ([\d.]+)/),
    sft: pick(/SFT loss ([\d.]+) → ([\d.]+)[^.]*? and ([\d.]+) → ([\d.]+)/),
    rows: pick(/(\d+) and (\d+) dataset rows/),
    tasks: pick(/improved (\d+) of (?:the )?8 tasks, tied (\d+), lost (\w+)/)
  }
}

describe("the quickstart's measured outcome", () => {
  // README.md and the recipe's header state what the deterministic quickstart run produces; the
  // numbers come from tools/bench-quickstart. After a change that moves them, rerun the benchmark
  // and update both texts: this test fails while either states another run's figures.
  const bench = JSON.parse(fs.readFileSync(path.join(repoRoot, "bench-results/quickstart.json"), "utf8")) as { readonly rows: ReadonlyArray<QuickstartRow> }
  const cold = bench.rows.find((row) => row.name === "cold")!
  const cached = bench.rows.find((row) => row.name === "cache hits")!
  const outcome = cold.outcome!
  const improved = /improved on (\d+) of 8 tasks/.exec(outcome.comparison)?.[1]
  const tied = /tied on (\d+)/.exec(outcome.comparison)?.[1]
  const worse = /worse on (\d+)/.exec(outcome.comparison)?.[1]
  const texts = {
    "README.md": fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"),
    "recipes/quickstart.yaml": fs.readFileSync(path.join(repoRoot, "recipes/quickstart.yaml"), "utf8")
  }
  it.each(Object.keys(texts))("%s states bench-results/quickstart.json's figures", (file) => {
    const stated = statedFigures(texts[file as keyof typeof texts])
    expect(stated.cold).toEqual([Math.round(cold.wallSeconds).toString()])
    expect(stated.ppo).toEqual([Math.round(cold.stageSeconds!.ppo!).toString()])
    expect(stated.cached).toEqual([cached.wallSeconds.toFixed(1)])
    expect(stated.reward).toEqual([outcome.rewardFirstThird, outcome.rewardLastThird].map((reward) => reward.toFixed(2)))
    const { sft_rlaf: rlaf, sft_base: base } = outcome.sftLoss
    expect(stated.sft).toEqual([rlaf.firstHalf, rlaf.lastHalf, base.firstHalf, base.lastHalf].map((loss) => loss.toFixed(1)))
    expect(stated.rows).toEqual([outcome.datasetRows.dataset_rlaf, outcome.datasetRows.dataset_base].map(String))
    expect(stated.tasks?.map((count) => (count === "none" ? "0" : count))).toEqual([improved, tied, worse])
  })
})

/** A committed benchmark JSON under bench-results/, parsed. */
const benchResult = (name: string): any => JSON.parse(fs.readFileSync(path.join(repoRoot, "bench-results", name), "utf8"))

/**
 * A figure a doc states and the committed measurement it comes from: `pattern` finds the figures in
 * the doc's text (newlines and bold markers flattened), `expected` gives them as the JSON says,
 * formatted as the doc writes them.
 */
interface MeasuredFigure {
  readonly what: string
  readonly files: ReadonlyArray<string>
  readonly pattern: RegExp
  readonly expected: () => ReadonlyArray<string>
}

const measuredFigures: ReadonlyArray<MeasuredFigure> = [
  {
    what: "a 120M LoRA step at 2 × 1024 tokens: MiB added checkpointed vs plain (checkpointing-120m.json)",
    files: ["README.md", "docs/performance.md"],
    pattern: /adds (\d+) MiB(?: above the loaded model)? instead of (\d+) MiB/,
    expected: () => {
      const row = benchResult("checkpointing-120m.json").table.find((entry: { length: number }) => entry.length === 1024)
      return [row.checkpointedAddedMiB, row.plainAddedMiB].map((mib: number) => Math.round(mib).toString())
    }
  },
  {
    what: "refine-af --help, installed vs tsx bin: median seconds and their ratio (cli-startup.json)",
    files: ["README.md", "packages/cli/README.md"],
    pattern: /([\d.]+) s (?:vs|against) ([\d.]+) s[^(]*\(([\d.]+)x/,
    expected: () => {
      const bench = benchResult("cli-startup.json")
      const median = (name: string) => bench.results.find((row: { name: string }) => row.name.startsWith(name)).medianSeconds as number
      return [median("built").toFixed(2), median("tsx").toFixed(2), bench.ratioBuiltToTsx.toFixed(2)]
    }
  },
  {
    what: "scorers against PyTorch: the smallest and largest speed-up (scorers.json)",
    files: ["README.md"],
    pattern: /scorers ([\d.]+)–([\d.]+)× PyTorch/,
    expected: () => {
      const speedups = benchResult("scorers.json").results.map((row: { speedup: number }) => row.speedup) as Array<number>
      return [Math.min(...speedups), Math.max(...speedups)].map((ratio) => ratio.toFixed(1))
    }
  },
  {
    what: "serve: 8 concurrent requests against one by one on the 30M model, best and median round (openai.json)",
    files: ["docs/performance.md"],
    pattern: /8 concurrent requests vs one by one\s+([\d.]+)× \(median of 7 rounds ([\d.]+)×\)/,
    expected: () => {
      const row = benchResult("openai.json").batching.find((entry: { model: string }) => entry.model === "random llama-30m")
      return [row.speedup.toFixed(2), row.medianSpeedup.toFixed(2)]
    }
  },
  {
    what: "7B int4 generation loop reading the pre-packed blobs, glibc malloc, PSS read every 250 ms: at rest and at its peak over the weight bytes, and the peak with the decode steps one session group (quant-7b-generate-cached-default-malloc-sampled.json)",
    files: ["README.md"],
    pattern: /at 7B ([\d.]+)× at\s+rest and ([\d.]+)× while onnxruntime makes a decode session, the whole process's PSS read every 250 ms,\s+against ([\d.]+)× when the decode steps shared a session group/,
    expected: () => {
      const bench = benchResult("quant-7b-generate-cached-default-malloc-sampled.json")
      expect(bench.settings.pssEveryMs).toBe(250)
      const row = (store: string) => bench.results.find((entry: { prepackedStore: string }) => entry.prepackedStore === store)
      const own = row("read")
      // What a decode step reads plus the embedding table (float32), in GiB; PSS by file is in MiB.
      const weightGiB = (own.weightBytesPerToken + bench.settings.config.vocab_size * bench.settings.config.hidden_size * 4) / 2 ** 30
      const restGiB = (Object.values(own.pssByFile.end) as Array<number>).reduce((a, b) => a + b, 0) / 1024
      return [restGiB / weightGiB, own.sampledPeakPssGiB / weightGiB, row("read-grouped").sampledPeakPssGiB / weightGiB].map((ratio) => ratio.toFixed(2))
    }
  },
  {
    what: "7B int4 generation loop with the decode steps' LM head mapped against pre-packed, PSS read every 250 ms: at rest and at the peak over the weight bytes (quant-7b-generate-cached-default-malloc-head-sampled.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /the 7B generation loop at ([\d.]+)× the weight bytes at rest and ([\d.]+)× at its peak against ([\d.]+)× and ([\d.]+)×/,
    expected: () => {
      const bench = benchResult("quant-7b-generate-cached-default-malloc-head-sampled.json")
      expect(bench.settings.pssEveryMs).toBe(250)
      const ratios = (store: string) => {
        const row = bench.results.find((entry: { prepackedStore: string }) => entry.prepackedStore === store)
        const weightGiB = (row.weightBytesPerToken + bench.settings.config.vocab_size * bench.settings.config.hidden_size * 4) / 2 ** 30
        const restGiB = (Object.values(row.pssByFile.end) as Array<number>).reduce((a, b) => a + b, 0) / 1024
        return [restGiB / weightGiB, row.sampledPeakPssGiB / weightGiB]
      }
      return [...ratios("read-head-mapped"), ...ratios("read")].map((ratio) => ratio.toFixed(2))
    }
  },
  {
    what: "7B int4, each new decode shape's PSS peak while it compiled above the process's PSS after it, the head pre-packed and mapped (decode-sessions-7b-int4-head-sampled.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /peaked ([\d.]+)–([\d.]+) GiB above its resting PSS while each session was made, ([\d.]+)–([\d.]+) GiB reading the head as it is/,
    expected: () => {
      const { runs, settings } = benchResult("decode-sessions-7b-int4-head-sampled.json")
      expect(settings.pssEveryMs).toBe(250)
      const above = (mode: string) => runs.find((r: { mode: string }) => r.mode === mode).shapes.map((s: { pss: number; sampled: { peak: { pss: number } } }) => (s.sampled.peak.pss - s.pss) / 2 ** 30)
      return [...[above("own"), above("own-head-mapped")].flatMap((gib: Array<number>) => [Math.min(...gib), Math.max(...gib)])].map((g) => g.toFixed(2))
    }
  },
  {
    what: "1.1B int4 workload (load, generate, score, train step, reference), PSS peak above the process baseline over the weights, the head mapped against pre-packed (made, read); and the decode step's median and best-round slowdown (weights-1.1b-quantised-default-malloc-head.json, head-speed-1.1b-int4.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /peaked at ([\d.]+)× the weights above the process baseline against ([\d.]+)× and ([\d.]+)×.*?the step was (\d+)% \(batch 1\) and (\d+)% \(batch 8\) slower by the median, (\d+)% and (\d+)% by the best round/,
    expected: () => {
      const { table, settings } = benchResult("weights-1.1b-quantised-default-malloc-head.json")
      expect(settings.pssEveryMs).toBe(250)
      const pss = (name: string) => table.find((r: { contender: string }) => r.contender === name).sampledPeakPssAboveBaselineOverWeights.toFixed(2)
      const { rows } = benchResult("head-speed-1.1b-int4.json")
      const slower = (batch: number, ratio: "medianRatio" | "bestRatio") => (100 * (rows.find((r: { batch: number }) => r.batch === batch)[ratio] - 1)).toFixed(0)
      return [pss("int4-auto-cached-headmapped"), pss("int4-auto-cached"), pss("int4-auto-cached-again"), slower(1, "medianRatio"), slower(8, "medianRatio"), slower(1, "bestRatio"), slower(8, "bestRatio")]
    }
  },
  {
    what: "7B int4 decode step with the LM head mapped against pre-packed, interleaved in one process: median ratio at batch 1 and 8 (head-speed-7b-int4.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /a decode step ([\d.]+)% \(batch 1\) and ([\d.]+)% \(batch 8\) slower, median of (\d+) interleaved rounds in one process, (\d+)% and (\d+)% by the best round/,
    expected: () => {
      const { rows, settings } = benchResult("head-speed-7b-int4.json")
      const slower = (batch: number, ratio: "medianRatio" | "bestRatio", digits: number) => (100 * (rows.find((r: { batch: number }) => r.batch === batch)[ratio] - 1)).toFixed(digits)
      return [slower(1, "medianRatio", 1), slower(8, "medianRatio", 1), String(settings.rounds), slower(1, "bestRatio", 0), slower(8, "bestRatio", 0)]
    }
  },
  {
    what: "7B int4 in blocks of 128 against 32: the generation loop at rest and at its peak (read, and head mapped), the workload above the baseline, and the decode step's time (quant-7b-generate-cached-default-malloc-b128.json, -b32-beside-b128.json, weights-7b-quantised-default-malloc-block128.json, block-speed-7b-int4.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /at ([\d.]+)× the weight bytes at rest and ([\d.]+)× at its peak against ([\d.]+)× and ([\d.]+)× at 32, and with `decode_head: mapped` at ([\d.]+)× and ([\d.]+)× against ([\d.]+)× and ([\d.]+)×;.*? at ([\d.]+)× with the head mapped against ([\d.]+)× at 32 \(([\d.]+)× with the head pre-packed\); a decode step taking (\d+)% \(batch 1\) and (\d+)% \(batch 8\) less time by the median of (\d+) interleaved rounds in one process, (\d+)% and (\d+)% by the best round/,
    expected: () => {
      const loop = (file: string, store: string) => {
        const bench = benchResult(file)
        expect(bench.settings.pssEveryMs).toBe(250)
        const row = bench.results.find((entry: { prepackedStore: string }) => entry.prepackedStore === store)
        const weightGiB = (row.weightBytesPerToken + bench.settings.config.vocab_size * bench.settings.config.hidden_size * 4) / 2 ** 30
        const restGiB = (Object.values(row.pssByFile.end) as Array<number>).reduce((a, b) => a + b, 0) / 1024
        return [restGiB / weightGiB, row.sampledPeakPssGiB / weightGiB].map((ratio) => ratio.toFixed(2))
      }
      const [b128, b32] = ["quant-7b-generate-cached-default-malloc-b128.json", "quant-7b-generate-cached-default-malloc-b32-beside-b128.json"]
      const { table, settings } = benchResult("weights-7b-quantised-default-malloc-block128.json")
      expect(settings.pssEveryMs).toBe(250)
      const workload = (name: string) => table.find((r: { contender: string }) => r.contender === name).sampledPeakPssAboveBaselineOverWeights.toFixed(2)
      const speed = benchResult("block-speed-7b-int4.json")
      const less = (batch: number, ratio: "medianRatio" | "bestRatio") => (100 * (1 - speed.rows.find((r: { batch: number }) => r.batch === batch)[ratio])).toFixed(0)
      return [...loop(b128, "read"), ...loop(b32, "read"), ...loop(b128, "read-head-mapped"), ...loop(b32, "read-head-mapped"), workload("int4-auto-cached-b128-headmapped"), workload("int4-auto-cached-headmapped"), workload("int4-auto-cached-b128-again"), less(1, "medianRatio"), less(8, "medianRatio"), String(speed.settings.rounds), less(1, "bestRatio"), less(8, "bestRatio")]
    }
  },
  {
    what: "1.1B int4 workload in blocks of 128 against 32: PSS peak above the process baseline over the weights, head mapped, made and read (weights-1.1b-quantised-default-malloc-block128.json)",
    files: ["plugins/model-llama/README.md"],
    pattern: /the workload peaked at ([\d.]+)× with the head mapped against ([\d.]+)×, and at ([\d.]+)× \/ ([\d.]+)× \(made \/ read the store\) against ([\d.]+)× \/ ([\d.]+)×/,
    expected: () => {
      const { table, settings } = benchResult("weights-1.1b-quantised-default-malloc-block128.json")
      expect(settings.pssEveryMs).toBe(250)
      const pss = (name: string) => table.find((r: { contender: string }) => r.contender === name).sampledPeakPssAboveBaselineOverWeights.toFixed(2)
      return ["int4-auto-cached-b128-headmapped", "int4-auto-cached-headmapped", "int4-auto-cached-b128", "int4-auto-cached-b128-again", "int4-auto-cached", "int4-auto-cached-again"].map(pss)
    }
  },
  ...(["1.1B", "7B"] as const).map((model) => ({
    what: `a new decode shape at ${model} int4 with the store read: joining a group of 1 and of 5, and each a session of its own (decode-sessions-${model.toLowerCase()}-int4.json)`,
    files: ["docs/performance.md"],
    pattern: new RegExp(`at ${model.replace(".", "\\.")} int4 (?:a shape joining a group of n took )?([\\d.]+) → ([\\d.]+) s(?: for n = 1…5)?, alone ([\\d.]+)–([\\d.]+) s`),
    expected: () => {
      const { runs } = benchResult(`decode-sessions-${model.toLowerCase()}-int4.json`)
      const seconds = (mode: string) => runs.filter((r: { mode: string; cacheAndStore: string }) => r.mode === mode && r.cacheAndStore === "read").at(-1).shapes.map((s: { seconds: number }) => s.seconds)
      const grouped = seconds("grouped")
      const own = seconds("own")
      return [grouped[0], grouped.at(-1), Math.min(...own), Math.max(...own)].map((s: number) => s.toFixed(1))
    }
  })),
  {
    what: "one SFT LoRA step, ours vs PyTorch: median ms and tokens/s (training-sft.json)",
    files: ["plugins/trainer-sft/README.md"],
    pattern: /ours (\d+) ms \((\d+) tokens\/s\) vs PyTorch (\d+) ms \((\d+) tokens\/s\)/,
    expected: () => {
      const { ours, pytorch } = benchResult("training-sft.json")
      return [ours.medianMs, ours.tokensPerSecond, pytorch.medianMs, pytorch.tokensPerSecond].map((value: number) => Math.round(value).toString())
    }
  }
]

/** The figures `pattern` finds in a doc's text, undefined where the phrase is missing. */
const statedMeasurement = (text: string, pattern: RegExp) => pattern.exec(text.replace(/\n\s*/g, " ").replace(/\*\*/g, ""))?.slice(1)

describe("doc figures state their committed measurement", () => {
  // Each figure below is what a benchmark's committed JSON holds. After a rerun that moves it,
  // update the doc (or, where the doc keeps an older run on purpose, point it at that run).
  const cases = measuredFigures.flatMap((figure) => figure.files.map((file) => [file, figure.what, figure] as const))
  it.each(cases)("%s: %s", (file, _what, figure) => {
    expect(statedMeasurement(fs.readFileSync(path.join(repoRoot, file), "utf8"), figure.pattern)).toEqual(figure.expected())
  })

  it("the check finds a changed figure", () => {
    const figure = measuredFigures[0]!
    const text = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8").replace(/adds (\d+) MiB/, (_, mib: string) => `adds ${Number(mib) + 1} MiB`)
    expect(statedMeasurement(text, figure.pattern)).not.toEqual(figure.expected())
  })
})

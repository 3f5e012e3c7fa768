import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { bundledTaskSet, loadTasks, parseSplit, parseTaskJsonl, readTaskDir, readTaskJsonl } from "../src/index.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))

const taskObject = (instances: number, overrides: Record<string, unknown> = {}) => ({
  Definition: ["Say the colour of the thing."],
  Categories: ["Question Answering"],
  "Positive Examples": [{ input: "grass", output: "green", explanation: "grass is green" }],
  "Negative Examples": [],
  Instances: Array.from({ length: instances }, (_, index) => ({ id: `i${index}`, input: `thing ${index}`, output: [`colour ${index}`] })),
  ...overrides
})

const tempDir = () => mkdtempSync(path.join(tmpdir(), "superni-data-"))

describe("bundled evaluation set", () => {
  it("has 8 tasks across categories with 20 instances each and unique ids", async () => {
    const tasks = await run(readTaskJsonl({ file: bundledTaskSet, maxInstances: 100 }))
    expect(tasks).toHaveLength(8)
    expect(new Set(tasks.map((task) => task.category)).size).toBe(8)
    for (const task of tasks) {
      expect(task.instances).toHaveLength(20)
      expect(task.positiveExamples.length).toBeGreaterThanOrEqual(2)
      expect(task.definition.length).toBeGreaterThan(20)
    }
    const ids = tasks.flatMap((task) => task.instances.map((instance) => instance.id))
    expect(new Set(ids).size).toBe(160)
  })

  it("keeps only the first N instances and the selected tasks", async () => {
    const tasks = await run(readTaskJsonl({ file: bundledTaskSet, maxInstances: 3, only: ["mini003_word_analogy_tools"] }))
    expect(tasks.map((task) => task.name)).toEqual(["mini003_word_analogy_tools"])
    expect(tasks[0]!.instances.map((instance) => instance.id)).toEqual([
      "mini003_word_analogy_tools-1",
      "mini003_word_analogy_tools-2",
      "mini003_word_analogy_tools-3"
    ])
  })
})

describe("task directory + split file", () => {
  it("reads tasks in split order, skipping comments and blank lines", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "task_b.json"), JSON.stringify(taskObject(5)))
    writeFileSync(path.join(dir, "task_a.json"), JSON.stringify(taskObject(150, { Categories: ["Word Analogy"] })))
    writeFileSync(path.join(dir, "task_unused.json"), JSON.stringify(taskObject(1)))
    const split = path.join(dir, "test_tasks.txt")
    writeFileSync(split, "# test split\ntask_b\n\ntask_a.json\n")
    const tasks = await run(readTaskDir({ dir, split, maxInstances: 100 }))
    expect(tasks.map((task) => [task.name, task.category, task.instances.length])).toEqual([
      ["task_b", "Question Answering", 5],
      ["task_a", "Word Analogy", 100]
    ])
  })

  it("reads every *.json sorted by name without a split", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "zeta.json"), JSON.stringify(taskObject(1)))
    writeFileSync(path.join(dir, "alpha.json"), JSON.stringify(taskObject(1)))
    writeFileSync(path.join(dir, "notes.txt"), "not a task")
    const tasks = await run(loadTasks({ tasks: dir, maxInstances: 10 }))
    expect(tasks.map((task) => task.name)).toEqual(["alpha", "zeta"])
  })

  it("names the missing task file when the split lists an absent task", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "split.txt"), "task_missing\n")
    const error = await failure(readTaskDir({ dir, split: path.join(dir, "split.txt"), maxInstances: 100 }))
    expect(error._tag).toBe("EvalDataMissing")
    expect(error.path).toBe(path.join(dir, "task_missing.json"))
    expect(error.fix).toContain("task_missing")
  })

  it("reports a missing split file and a missing directory", async () => {
    const dir = tempDir()
    const missingSplit = await failure(readTaskDir({ dir, split: path.join(dir, "nope.txt"), maxInstances: 1 }))
    expect(missingSplit._tag).toBe("EvalDataMissing")
    expect(missingSplit.message).toContain("split file")
    const missingDir = await failure(readTaskDir({ dir: path.join(dir, "absent"), maxInstances: 1 }))
    expect(missingDir._tag).toBe("EvalDataMissing")
  })

  it("reports invalid JSON with the file path", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "broken.json"), "{ \"Definition\": [")
    const error = await failure(readTaskDir({ dir, maxInstances: 1 }))
    expect(error._tag).toBe("EvalDataMalformed")
    expect(error.path).toBe(path.join(dir, "broken.json"))
    expect(error.message).toContain("not valid JSON")
  })

  it("parses split files", () => {
    expect(parseSplit("a\r\n  b.json \n# c\n\n")).toEqual(["a", "b"])
  })
})

describe("malformed tasks", () => {
  const jsonl = (...lines: Array<unknown>) => lines.map((line) => JSON.stringify(line)).join("\n")
  const parse = (text: string) => parseTaskJsonl(text, { file: "set.jsonl", maxInstances: 100 })

  it.each([
    ["a missing Instances field", { Task: "t", ...taskObject(1), Instances: undefined }, "not in the SuperNI task format"],
    ["a numeric Definition", { Task: "t", ...taskObject(1), Definition: 42 }, "not in the SuperNI task format"],
    ["an instance whose output is a number", { Task: "t", ...taskObject(1), Instances: [{ id: "x", input: "in", output: 3 }] }, "not in the SuperNI task format"],
    ["an empty Definition", { Task: "t", ...taskObject(1), Definition: [" "] }, "empty Definition"],
    ["an instance without references", { Task: "t", ...taskObject(1), Instances: [{ id: "x", input: "in", output: [] }] }, "no reference outputs"],
    ["duplicate instance ids", { Task: "t", ...taskObject(1), Instances: [{ id: "x", input: "a", output: ["1"] }, { id: "x", input: "b", output: ["2"] }] }, "appears twice"],
    ["no Task name", taskObject(1), "no \"Task\" name"]
  ])("rejects %s with the line number", async (_, bad, message) => {
    const error = await failure(parse(jsonl({ Task: "good", ...taskObject(1) }, bad)))
    expect(error._tag).toBe("EvalDataMalformed")
    expect(error.message).toContain(message)
    expect(error).toMatchObject({ path: "set.jsonl", line: 2 })
  })

  it("accepts the common loose variants: string fields, missing example lists and ids, other name keys", async () => {
    const loose = {
      name: "loose_task",
      Definition: "Answer the question.",
      Categories: "Question Answering",
      Instances: [{ input: "Capital of France?", output: "Paris" }, { input: "2 + 2?", output: ["4", "four"] }]
    }
    const [task] = await run(parse(jsonl(loose)))
    expect(task).toEqual({
      name: "loose_task",
      definition: "Answer the question.",
      category: "Question Answering",
      positiveExamples: [],
      instances: [
        { id: "loose_task-0", input: "Capital of France?", output: ["Paris"] },
        { id: "loose_task-1", input: "2 + 2?", output: ["4", "four"] }
      ]
    })
  })

  it("reads the instance-per-line layout of SuperNI reference files, grouped by task", async () => {
    const line = (task: string, id: string, output: Array<string>) => ({
      Task: task,
      Definition: [`Do ${task}.`],
      Categories: ["Word Analogy"],
      "Positive Examples": [],
      Instance: { id, input: `input ${id}`, output }
    })
    const tasks = await run(parse(jsonl(line("a", "a1", ["x"]), line("b", "b1", ["y"]), line("a", "a2", ["z", "w"]))))
    expect(tasks.map((task) => [task.name, task.instances.map((instance) => instance.id)])).toEqual([
      ["a", ["a1", "a2"]],
      ["b", ["b1"]]
    ])
    expect(tasks[0]!.instances[1]!.output).toEqual(["z", "w"])
    const mixed = await failure(parse(jsonl({ Task: "a", ...taskObject(1) }, line("a", "a9", ["x"]))))
    expect(mixed).toMatchObject({ _tag: "EvalDataMalformed", line: 2 })
  })

  it("rejects a duplicated task and a syntax error", async () => {
    const duplicated = await failure(parse(jsonl({ Task: "t", ...taskObject(1) }, { Task: "t", ...taskObject(1) })))
    expect(duplicated.message).toContain("appears twice")
    const syntax = await failure(parse(`${jsonl({ Task: "t", ...taskObject(1) })}\n{oops`))
    expect(syntax).toMatchObject({ _tag: "EvalDataMalformed", line: 2 })
  })

  it("rejects tasks requested but absent, and empty sets", async () => {
    const absent = await failure(parseTaskJsonl(jsonl({ Task: "t", ...taskObject(1) }), { file: "s.jsonl", maxInstances: 1, only: ["t", "u"] }))
    expect(absent).toMatchObject({ _tag: "EvalDataMissing" })
    expect(absent.message).toContain("u")
    const empty = await failure(parse("\n\n"))
    expect(empty._tag).toBe("EvalDataMissing")
  })

  it("reports a missing JSONL file", async () => {
    const error = await failure(readTaskJsonl({ file: "/nonexistent/set.jsonl", maxInstances: 1 }))
    expect(error).toMatchObject({ _tag: "EvalDataMissing", path: "/nonexistent/set.jsonl" })
  })
})

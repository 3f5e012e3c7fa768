/**
 * Typed input ports for stages run by `runStage`: the upstream records of a port
 * that declares a `schema` are read through the core's own `stageInputOf`, so
 * every record is checked as in a run (a mismatch fails the stage naming the
 * stage, port, record index and field) and reaches the stage as the runner
 * hands it over — a JSON round trip of the record as written, validated but
 * not transformed (a Schema default of the port is not filled in).
 */
import { Effect, Schema } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { recordsFileName, RecordStreamError, stageInputOf, type InputPort, type StageInput } from "@refine-af/core"

/** A temporary folder removed when the scope closes. */
const scopedTempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(path.join(tmpdir(), "refine-af-port-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** `input` read through the runner's port check: its records are written to a stage folder `stageInputOf` reads. */
const checkedInput = (input: StageInput, schema: Schema.Top, reader: string, port: string) =>
  Effect.gen(function*() {
    const records = yield* input.readAll()
    const dir = yield* scopedTempDir
    const file = path.join(dir, recordsFileName)
    yield* Effect.try({
      try: () => writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join("")),
      catch: (cause) => new RecordStreamError({ path: file, message: `input port "${port}": the records of stage "${input.stage}" cannot be written as JSON lines: ${String(cause)}` })
    })
    const checked = stageInputOf({ stage: input.stage, dir, hash: input.hash, count: records.length }, { schema, reader, port })
    // The stage still sees the upstream's own artifact folder.
    return { ...checked, dir: input.dir } satisfies StageInput
  })

/** `ctx.inputs` and `ctx.inputLists` with every port that declares a `schema` checked, as the runner reads them. */
export const checkedInputs = (
  stageName: string,
  ports: Readonly<Record<string, InputPort>> | undefined,
  inputs: Readonly<Record<string, StageInput>>,
  inputLists: Readonly<Record<string, ReadonlyArray<StageInput>>>
) =>
  Effect.gen(function*() {
    const reader = `stage "${stageName}"`
    const single: Record<string, StageInput> = { ...inputs }
    const lists: Record<string, ReadonlyArray<StageInput>> = { ...inputLists }
    for (const [port, spec] of Object.entries(ports ?? {})) {
      const schema = spec.schema
      if (schema === undefined) continue
      const one = inputs[port]
      if (one !== undefined) single[port] = yield* checkedInput(one, schema, reader, port)
      const many = inputLists[port]
      if (many !== undefined) lists[port] = yield* Effect.forEach(many, (input, index) => checkedInput(input, schema, reader, `${port}[${index}]`))
    }
    return { inputs: single, inputLists: lists }
  })

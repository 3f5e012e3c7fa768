/**
 * PyTorch parity: the tiny LM's loss and every parameter gradient through the
 * interpreter match tools/golden/tensor/block_golden.json (float64 torch) to 1e-4.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"
import { buildTinyLm, goldenFeeds, readGolden } from "./support/tiny-lm.ts"

const golden = readGolden()

describe("PyTorch parity (one-layer Llama block + LM head + masked CE)", () => {
  it("loss and every gradient match torch", () => {
    const { graph, loss } = buildTinyLm(golden)
    graph.output("loss", loss)
    const program = T.grad(graph.build(), "loss")
    const out = T.interpret(program, goldenFeeds(golden))
    expect(Math.abs(out["loss"]!.data[0]! - golden.loss) / golden.loss).toBeLessThanOrEqual(1e-4)
    const names = Object.keys(golden.grads)
    expect(program.parameters.map((p) => p.name).sort()).toEqual([...names].sort())
    for (const name of names) {
      const err = T.relativeError(out[T.gradName(name)]!.data, golden.grads[name]!)
      expect(err, name).toBeLessThanOrEqual(1e-4)
    }
  })
})

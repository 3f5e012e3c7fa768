/**
 * Feeds of one packed training batch for model-llama's loss program:
 * token ids, rotary tables at each token's position within its document, a
 * block-diagonal causal mask (a token sees the earlier tokens of its own
 * document only), next-token targets and a loss mask over real targets.
 */
import { rotaryTables, stepNames, type LlamaConfig, type RopeFrequencies } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import type { PackedRow } from "./pack.ts"

/** Host feeds for `rows` (each `length` tokens or fewer; the rest is padding). */
export const packedFeeds = (config: LlamaConfig, frequencies: RopeFrequencies, rows: ReadonlyArray<PackedRow>, length: number, padId: number): Record<string, HostTensor> => {
  const batch = rows.length
  const headDim = config.headDim
  const ids = new BigInt64Array(batch * length).fill(BigInt(padId))
  const targets = new BigInt64Array(batch * length).fill(BigInt(padId))
  const lossMask = new Float32Array(batch * length)
  const cos = new Float32Array(batch * length * headDim)
  const sin = new Float32Array(batch * length * headDim)
  const mask = new Uint8Array(batch * length * length)
  rows.forEach((row, r) => {
    const positions = Array.from({ length }, (_, i) => row.positions[i] ?? 0)
    const tables = rotaryTables(frequencies, positions)
    cos.set(tables.cos, r * length * headDim)
    sin.set(tables.sin, r * length * headDim)
    for (let i = 0; i < length; i++) {
      const doc = row.documents[i] ?? -1
      if (doc < 0) {
        mask[(r * length + i) * length + i] = 1 // padding attends to itself only (keeps softmax finite)
        continue
      }
      ids[r * length + i] = BigInt(row.tokens[i]!)
      if (row.documents[i + 1] === doc) {
        targets[r * length + i] = BigInt(row.tokens[i + 1]!)
        lossMask[r * length + i] = 1
      }
      for (let j = i - row.positions[i]!; j <= i; j++) mask[(r * length + i) * length + j] = 1
    }
  })
  const shape = [batch, length]
  return {
    [stepNames.inputIds]: { dtype: "int64", shape, data: ids },
    [stepNames.cos]: { dtype: "float32", shape: [batch, length, headDim], data: cos },
    [stepNames.sin]: { dtype: "float32", shape: [batch, length, headDim], data: sin },
    [stepNames.mask]: { dtype: "bool", shape: [batch, 1, length, length], data: mask },
    [stepNames.targets]: { dtype: "int64", shape, data: targets },
    [stepNames.lossMask]: { dtype: "float32", shape, data: lossMask }
  }
}

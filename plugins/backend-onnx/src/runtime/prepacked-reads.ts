/**
 * Programs that read stored int4 weights (`CompileOptions.readStored`) read
 * them from the decode steps' pre-packed blobs (`CompileOptions.readPrepacked`):
 * the weights such a program dequantises are given to the store as the
 * MatMulNBits weights a decode step of the same model computes (the same
 * file ranges and attributes, so the same store entries), which makes any
 * blob still missing, and the program then reads each weight from its blob
 * where the store found it in the layout `prepacked-layout.ts` knows. The
 * codes and scales in the quantised-weight cache are then read by no
 * session after it is made (onnxruntime pre-packs from them to check the
 * blob's hash, and releases them), so one copy of each int4 weight is
 * resident for every program.
 */
import { blocksPerRow, quantisedPartBytes, schemeBits, type BlockQuantisedWeight } from "@refine-af/tensor"
import type { OnnxModel, OnnxNode } from "../onnx/model.ts"
import { fileHolds, mappedInitializer, storedPartsHeld } from "../compile/mapped.ts"
import { matMulNBitsAttributes, MICROSOFT_DOMAIN, type TiledSource } from "../compile/quantised-weights.ts"
import { tiledApplies } from "./prepacked-layout.ts"
import type { StoreResult } from "./prepacked-store.ts"

/** The int4 weights of `given` such a program would dequantise from their stored copy in one folder, and that folder. */
const candidates = (given: Readonly<Record<string, BlockQuantisedWeight>>): { readonly folder: string; readonly weights: ReadonlyArray<readonly [string, BlockQuantisedWeight]> } | undefined => {
  const holds = fileHolds()
  const weights = Object.entries(given).filter(([, w]) => w.shape.length === 2 && tiledApplies(schemeBits(w.scheme), w.blockSize, w.shape[1]!) && storedPartsHeld(holds, w))
  const folder = weights[0]?.[1].stored?.folder
  return folder === undefined || weights.some(([, w]) => w.stored!.folder !== folder) ? undefined : { folder, weights }
}

/** A model of one MatMulNBits node per weight, exactly as a decode step computes it (int8 activations). */
const decodeModel = (weights: ReadonlyArray<readonly [string, BlockQuantisedWeight]>): OnnxModel => {
  const ks = [...new Set(weights.map(([, w]) => w.shape[1]!))]
  return {
    irVersion: 8,
    opsetVersion: 18,
    extraOpsets: [MICROSOFT_DOMAIN],
    producerName: "refine-af/backend-onnx prepacked reads",
    graph: {
      name: "reads",
      nodes: weights.map(([name, w], i): OnnxNode => ({
        opType: "MatMulNBits",
        domain: MICROSOFT_DOMAIN.domain,
        inputs: [`x${w.shape[1]}`, name, `${name}#scales`],
        outputs: [`y${i}`],
        attributes: matMulNBitsAttributes(w, 4)
      })),
      inputs: ks.map((k) => ({ name: `x${k}`, dataType: "float32" as const, dims: [1, k] })),
      outputs: weights.map(([, w], i) => ({ name: `y${i}`, dataType: "float32" as const, dims: [1, w.shape[0]!] })),
      initializers: weights.flatMap(([name, w]) => {
        const stored = w.stored!
        const parts = quantisedPartBytes(w)
        const [rows, cols] = w.shape as [number, number]
        return [
          mappedInitializer({ name, dataType: "uint8", dims: [rows, blocksPerRow(cols, w.blockSize), (w.blockSize * schemeBits(w.scheme)) / 8] }, { folder: stored.folder, file: stored.file, offset: stored.codesOffset }, parts.codes),
          mappedInitializer({ name: `${name}#scales`, dataType: "float32", dims: [rows, blocksPerRow(cols, w.blockSize)] }, { folder: stored.folder, file: stored.file, offset: stored.scalesOffset }, parts.scales)
        ]
      })
    }
  }
}

/**
 * Where the blobs of `given`'s stored int4 weights hold their codes and scales, by weight name (those the store
 * serves in the known layout), made first where missing by `store` (the backend's `withPrepackedStore` on one
 * model in the weights' folder). Never fails: a weight it cannot serve is left out; `problem` says why, when the
 * store said.
 */
export const tiledReads = async (given: Readonly<Record<string, BlockQuantisedWeight>>, store: (models: ReadonlyArray<OnnxModel>, folder: string) => Promise<StoreResult>): Promise<{ readonly sources: ReadonlyMap<string, TiledSource>; readonly problem?: string }> => {
  const found = candidates(given)
  if (found === undefined || found.weights.length === 0) return { sources: new Map() }
  const result = await store([decodeModel(found.weights)], found.folder)
  return { sources: result.tiled?.[0] ?? new Map(), ...(result.problem === undefined ? {} : { problem: result.problem }) }
}

import type { ShardQueryNeeds, ShardScores } from "../pool-shard.ts"

/** Main thread → shard worker. Messages are handled in order, so adds land before later queries. */
export type ToShardWorker =
  | { readonly kind: "add"; readonly poolIndices: ReadonlyArray<number>; readonly texts: ReadonlyArray<Uint32Array> }
  | {
    readonly kind: "score"
    readonly requestId: number
    readonly queries: ReadonlyArray<Uint32Array>
    readonly needs: ShardQueryNeeds
  }

/** Shard worker → main thread. */
export type FromShardWorker =
  | { readonly kind: "scores"; readonly requestId: number; readonly results: ReadonlyArray<ShardScores> }
  | { readonly kind: "failed"; readonly requestId: number; readonly message: string }

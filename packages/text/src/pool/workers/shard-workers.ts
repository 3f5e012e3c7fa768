import { Worker } from "node:worker_threads"
import { PoolWorkerError } from "../../errors.ts"
import { mergeNeighbours } from "../neighbours.ts"
import { type ShardQueryNeeds, type ShardScores, topKOf } from "../pool-shard.ts"
import type { FromShardWorker, ToShardWorker } from "./protocol.ts"

// A plain-JS entry that registers the TypeScript loader inside the thread, then loads shard-worker.ts.
const WORKER_SCRIPT = new URL("./shard-worker-entry.mjs", import.meta.url)

interface PendingRequest {
  readonly resolve: (results: ReadonlyArray<ShardScores>) => void
  readonly reject: (error: PoolWorkerError) => void
}

/** One worker thread holding one shard, with its in-flight requests. */
class ShardThread {
  readonly worker: Worker
  readonly pending = new Map<number, PendingRequest>()
  queuedIndices: Array<number> = []
  queuedTexts: Array<Uint32Array> = []
  size = 0
  failure: PoolWorkerError | undefined

  constructor() {
    this.worker = new Worker(WORKER_SCRIPT)
    // An idle pool must not keep the process alive; a pending request must.
    this.worker.unref()
    this.worker.on("message", (message: FromShardWorker) => {
      const request = this.pending.get(message.requestId)
      this.pending.delete(message.requestId)
      if (this.pending.size === 0) this.worker.unref()
      if (message.kind === "scores") request?.resolve(message.results)
      else request?.reject(new PoolWorkerError({ message: `RougePool worker failed: ${message.message}` }))
    })
    const fail = (reason: string): void => {
      this.failure = new PoolWorkerError({
        message: `RougePool worker stopped (${reason}); create a new pool, or use workers: 0 to stay on the main thread.`
      })
      for (const request of this.pending.values()) request.reject(this.failure)
      this.pending.clear()
    }
    this.worker.on("error", (error) => fail(String(error)))
    this.worker.on("exit", (code) => fail(`exit code ${code}`))
  }

  post(message: ToShardWorker): void {
    this.worker.postMessage(message)
  }
}

/**
 * The pool's entries split across worker threads (each new entry goes to the smallest shard).
 * A batch of queries is broadcast once; each worker scores it against its shard, and the
 * per-shard answers merge exactly: max of maxima, merged top-k, sum of sums.
 */
export class ShardWorkers {
  private readonly threads: Array<ShardThread>
  private nextRequestId = 0

  constructor(count: number) {
    this.threads = Array.from({ length: count }, () => new ShardThread())
  }

  /** Queues an entry for the smallest shard; sent with the next score request. */
  add(poolIndex: number, ids: Uint32Array): void {
    const target = this.threads.reduce((smallest, thread) => (thread.size < smallest.size ? thread : smallest))
    target.queuedIndices.push(poolIndex)
    target.queuedTexts.push(ids)
    target.size++
  }

  /** Scores every query against the whole pool (all shards), one merged answer per query. */
  async score(queries: ReadonlyArray<Uint32Array>, needs: ShardQueryNeeds): Promise<Array<ShardScores>> {
    const requestId = this.nextRequestId++
    const perShard = await Promise.all(this.threads.map((thread) => this.request(thread, requestId, queries, needs)))
    return queries.map((_, q) => mergeShardScores(perShard.map((results) => results[q]!), topKOf(needs)))
  }

  /** Terminates the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => {
      thread.worker.removeAllListeners("exit")
      return thread.worker.terminate()
    }))
  }

  private request(
    thread: ShardThread,
    requestId: number,
    queries: ReadonlyArray<Uint32Array>,
    needs: ShardQueryNeeds
  ): Promise<ReadonlyArray<ShardScores>> {
    if (thread.failure !== undefined) return Promise.reject(thread.failure)
    if (thread.queuedTexts.length > 0) {
      thread.post({ kind: "add", poolIndices: thread.queuedIndices, texts: thread.queuedTexts })
      thread.queuedIndices = []
      thread.queuedTexts = []
    }
    return new Promise((resolve, reject) => {
      thread.worker.ref()
      thread.pending.set(requestId, { resolve, reject })
      thread.post({ kind: "score", requestId, queries, needs })
    })
  }
}

/** Exact combination of disjoint shards' answers for one query (NaN maxima, "nothing exceeds", are ignored). */
export const mergeShardScores = (parts: ReadonlyArray<ShardScores>, topK: number): ShardScores => ({
  maxScore: parts.reduce(
    (best, part) => (Number.isNaN(part.maxScore) ? best : Number.isNaN(best) ? part.maxScore : Math.max(best, part.maxScore)),
    Number.NaN
  ),
  top: mergeNeighbours(parts.map((part) => part.top), topK),
  scoreSum: parts.reduce((sum, part) => sum + part.scoreSum, 0)
})

/**
 * Entry point of a RougePool worker thread: owns one `PoolShard` (a slice of the pool) and
 * answers batched score requests against it.
 */
import { parentPort } from "node:worker_threads"
import { PoolShard } from "../pool-shard.ts"
import type { FromShardWorker, ToShardWorker } from "./protocol.ts"

const shard = new PoolShard()
const port = parentPort
if (port === null) throw new Error("shard-worker.ts must run as a worker thread (RougePool starts it)")

port.on("message", (message: ToShardWorker) => {
  if (message.kind === "add") {
    message.texts.forEach((ids, k) => shard.add(message.poolIndices[k]!, ids))
    return
  }
  let reply: FromShardWorker
  try {
    reply = { kind: "scores", requestId: message.requestId, results: message.queries.map((query) => shard.score(query, message.needs)) }
  } catch (error) {
    reply = { kind: "failed", requestId: message.requestId, message: String(error) }
  }
  port.postMessage(reply)
})

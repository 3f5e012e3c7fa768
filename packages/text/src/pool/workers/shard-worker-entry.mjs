// Worker-thread entry. Built (dist/, published): the compiled shard-worker.js sits next to this
// file. From the sources (the repository): worker threads do not inherit the parent's TypeScript
// loader (and Node 20 ignores `--import tsx` in a worker's execArgv), so register tsx here, then
// load the TS worker.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const built = new URL("./shard-worker.js", import.meta.url)
if (existsSync(fileURLToPath(built))) {
  await import(built.href)
} else {
  const { register } = await import("tsx/esm/api")
  register()
  await import("./shard-worker.ts")
}

// Worker-thread entry: worker threads do not inherit the parent's TypeScript loader (and Node 20
// ignores `--import tsx` in a worker's execArgv), so register tsx here, then load the TS worker.
import { register } from "tsx/esm/api"

register()
await import("./shard-worker.ts")

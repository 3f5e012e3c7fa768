// Worker bootstrap: plain JavaScript so Node can start it without a loader, then it
// registers tsx (the workspace runs TypeScript directly, no build step) and loads
// the TypeScript worker entry named in workerData.
import { register } from "tsx/esm/api"
import { workerData } from "node:worker_threads"

register()
await import(workerData.entry)

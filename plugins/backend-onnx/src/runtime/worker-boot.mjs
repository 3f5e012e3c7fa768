// Worker bootstrap: plain JavaScript so Node can start it without a loader. From the sources
// (the workspace runs TypeScript directly, no build step) it registers tsx first; the built
// package (dist/) hands it a JavaScript entry. Then it loads the worker entry named in workerData.
import { workerData } from "node:worker_threads"

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api")
  register()
}
await import(workerData.entry)

// Creates one onnxruntime session from a model file (external data in `folder`) in a fresh process and prints how much
// its anonymous memory grew, as JSON. A fresh process: in the test's own, memory an earlier test freed into malloc's
// arena is reused and hides the growth.
import { readFileSync } from "node:fs"
import * as ort from "onnxruntime-node"

const [model, folder] = process.argv.slice(2)
const anon = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024
const bytes = readFileSync(model)
const before = anon()
const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, enableCpuMemArena: false, logSeverityLevel: 3, extra: { session: { model_external_initializers_file_folder_path: folder } } })
const after = anon()
await session.release()
console.log(JSON.stringify({ grown: after - before }))

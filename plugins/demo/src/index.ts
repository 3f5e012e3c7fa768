/**
 * `@refine-af/plugin-demo` (manifest name `demo`): tiny deterministic
 * components that exercise the run machinery (record streams, resume, cache,
 * metrics) without any model.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/plugin-demo"]
 * stages:
 *   lines: { _component_: demo/lines, count: 100 }
 *   upper: { _component_: demo/transform, operation: uppercase, records: lines }
 *   stats: { _component_: demo/count, records: upper }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { count } from "./count.ts"
import { lines } from "./lines.ts"
import { prefix, prefixer } from "./prefixer.ts"
import { transform } from "./transform.ts"

export { count, lines, prefix, prefixer, transform }
export { Prefixer, PrefixerOptions } from "./prefixer.ts"
export { applyOperation, TransformOperation, TransformOptions } from "./transform.ts"
export { generatedLine, LinesOptions } from "./lines.ts"
export { CountOptions } from "./count.ts"

/** The plugin manifest (`plugins: ["@refine-af/plugin-demo"]` in a recipe). */
export default definePlugin({
  name: "demo",
  version: "0.1.0",
  description: "Demo components: lines (generator), transform, prefix (uses the prefixer resource), count (evaluator)",
  components: { lines, transform, prefix, prefixer, count }
})

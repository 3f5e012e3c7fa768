/** The lowering table: every IR op except the leaves (Input, Parameter, Constant), handled by the compiler. */
import { elementwiseLowerings } from "./elementwise.ts"
import { indexingLowerings } from "./indexing.ts"
import { reduceLowerings } from "./reduce.ts"
import { shapeLowerings } from "./shape.ts"
import type { Lowerings } from "./types.ts"

/** IR op → lowering. */
export const lowerings: Lowerings = {
  ...elementwiseLowerings,
  ...reduceLowerings,
  ...shapeLowerings,
  ...indexingLowerings
}

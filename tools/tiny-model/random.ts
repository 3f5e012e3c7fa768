/**
 * The seeded weight generator: defined in `@refine-af/models` (the
 * plugin's built-in models use it), re-exported here for the tools.
 */
export { normalTensor } from "@refine-af/models"

/**
 * The seeded weight generator: defined in `@refine-af/model-llama` (the
 * plugin's built-in models use it), re-exported here for the tools.
 */
export { normalTensor } from "@refine-af/model-llama"

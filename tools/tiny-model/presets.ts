/**
 * Tiny model presets: defined in `@refine-af/models` (the plugin's
 * built-in models use them), re-exported here for the tools.
 */
export { QWEN3_TOKENIZER, TINY_PRESETS, type TinyPresetName } from "@refine-af/models"

/**
 * @refine-af/models — Hugging Face model I/O and architectures as tensor-program
 * builders. Plugins (model-llama, scorers) build on it; it imports no plugin.
 */
export * from "./hub/index.ts"

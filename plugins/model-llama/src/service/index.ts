/** The `LanguageModel` service on the compute core. */
export * from "./scoring.ts"
export * from "./language-model.ts"
export * from "./load.ts"

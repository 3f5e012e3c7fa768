/** GPT-NeoX (Pythia, OpenAssistant reward models): config, weight names, scoring program. */
export * from "./config.ts"
export * from "./program.ts"

/** The decoder's compiled step programs per shape bucket (the trunk and its heads are `@refine-af/models`). */
export * from "./runtime.ts"

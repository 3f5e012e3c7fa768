/** The run report: what every run writes as report.md / report.html / report.json, and the conventions stages use to add to it. */
export * from "./conventions.ts"
export * from "./schema.ts"
export * from "./stage-writers.ts"
export * from "./collect.ts"
export * from "./outputs.ts"
export * from "./markdown.ts"
export * from "./html.ts"
export * from "./write.ts"

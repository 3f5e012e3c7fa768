/**
 * The environment for an npm child process started from inside an npm script (`npm test`
 * runs the tests): the parent's `npm_*` variables (lifecycle, package, workspace settings)
 * would leak into the child and redirect it, so only the settings that say where packages come
 * from (cache, registry, user config) are kept.
 *
 * @example
 * ```ts
 * import { spawnSync } from "node:child_process"
 * import { npmEnv } from "./npm-env.ts"
 * spawnSync("npm", ["--version"], { env: npmEnv() })
 * ```
 */
const kept = new Set(["npm_config_cache", "npm_config_registry", "npm_config_userconfig"])

/** `process.env` without the calling npm's `npm_*` variables, plus `extra`. */
export const npmEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_") || kept.has(name.toLowerCase()))),
  ...extra
})

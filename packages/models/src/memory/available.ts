/**
 * How much memory this process may still allocate: the smaller of the
 * kernel's estimate of available memory (`os.freemem()`, MemAvailable on
 * Linux) and what the cgroup limit leaves (`memory.max` − `memory.current`,
 * cgroup v2; v1's `memory.limit_in_bytes` − `memory.usage_in_bytes`), since
 * a container is killed at its limit whatever the host has free.
 *
 * @example
 * ```ts
 * import { availableMemory } from "@refine-af/models"
 * const { bytes, source } = availableMemory()
 * ```
 */
import { readFileSync } from "node:fs"
import { freemem } from "node:os"

/** Bytes available and where the bound came from. */
export interface AvailableMemory {
  readonly bytes: number
  readonly source: string
}

const readNumber = (path: string): number | undefined => {
  try {
    const text = readFileSync(path, "utf8").trim()
    const value = Number(text)
    return text === "max" || !Number.isFinite(value) ? undefined : value
  } catch {
    return undefined
  }
}

/** The cgroup's remaining allowance, when this process runs under a memory limit. */
const cgroupRemaining = (): number | undefined => {
  const v2Limit = readNumber("/sys/fs/cgroup/memory.max")
  if (v2Limit !== undefined) return v2Limit - (readNumber("/sys/fs/cgroup/memory.current") ?? 0)
  const v1Limit = readNumber("/sys/fs/cgroup/memory/memory.limit_in_bytes")
  // v1 reports "no limit" as a huge number (about 2^63).
  if (v1Limit !== undefined && v1Limit < 2 ** 60) return v1Limit - (readNumber("/sys/fs/cgroup/memory/memory.usage_in_bytes") ?? 0)
  return undefined
}

/** Memory this process can still allocate (see the module comment). */
export const availableMemory = (): AvailableMemory => {
  const free = freemem()
  const cgroup = cgroupRemaining()
  return cgroup !== undefined && cgroup < free
    ? { bytes: Math.max(0, cgroup), source: "the cgroup memory limit (memory.max − memory.current)" }
    : { bytes: free, source: "available system memory" }
}

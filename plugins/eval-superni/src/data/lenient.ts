/**
 * Tolerated variants of the task format, normalised before strict decoding:
 * copies of SuperNI circulate with a string where the original has a
 * one-element list (`Definition`, `Categories`, an instance `output`), without
 * the demonstration lists, or without instance ids. The meaning is
 * unambiguous in each case, so these are accepted rather than rejected.
 */

type Loose = Record<string, unknown>

const asList = (value: unknown): unknown => (typeof value === "string" ? [value] : value)

const isObject = (value: unknown): value is Loose => typeof value === "object" && value !== null && !Array.isArray(value)

/** The keys under which a compact-JSONL line may carry its task name, in order of preference. */
export const taskNameKeys = ["Task", "task", "name", "Name"] as const

/** The task name of a JSONL line, if any. */
export const taskNameOf = (raw: unknown): string | undefined => {
  if (!isObject(raw)) return undefined
  for (const key of taskNameKeys) {
    const value = raw[key]
    if (typeof value === "string" && value.trim() !== "") return value.trim()
  }
  return undefined
}

/** Returns a task object with the tolerated variants rewritten to the canonical form; anything else is left for the decoder to reject. */
export const normaliseTaskObject = (raw: unknown, name: string): unknown => {
  if (!isObject(raw)) return raw
  const instances = Array.isArray(raw["Instances"])
    ? raw["Instances"].map((instance, index) =>
      isObject(instance)
        ? { ...instance, id: instance["id"] ?? `${name}-${index}`, output: asList(instance["output"]) }
        : instance
    )
    : raw["Instances"]
  return {
    ...raw,
    Definition: asList(raw["Definition"]),
    Categories: asList(raw["Categories"] ?? []),
    "Positive Examples": raw["Positive Examples"] ?? [],
    Instances: instances
  }
}

/**
 * Structural check of a plugin module's default export: the recipe loader
 * trusts nothing it imported until this passes.
 */
import { Schema } from "effect"
import { inputPorts, optionKeys, resourceSlots } from "./catalog.ts"
import type { Component, PluginManifest } from "./manifest.ts"

const pluginName = /^[a-z0-9][a-z0-9_-]*$/
const componentName = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const stageRoles = new Set(["generator", "trainer", "evaluator", "transform"])

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isServiceKey = (value: unknown): boolean =>
  (typeof value === "function" || isRecord(value)) && typeof (value as { key?: unknown }).key === "string"

const isSlot = (value: unknown): boolean =>
  isServiceKey(value) || (isRecord(value) && value._tag === "OptionalSlot" && isServiceKey(value.service))

const isPortMap = (value: unknown, check: (entry: unknown) => boolean): boolean =>
  value === undefined || (isRecord(value) && Object.values(value).every(check))

const componentProblems = (name: string, component: unknown): Array<string> => {
  const where = `component "${name}"`
  if (!componentName.test(name)) return [`${where}: names may use letters, digits, _ . - only`]
  if (!isRecord(component)) return [`${where} is not an object (use defineStage / defineResource)`]
  const problems: Array<string> = []
  if (!Schema.isSchema(component.options)) problems.push(`${where}: "options" must be an Effect Schema`)
  if (typeof component.description !== "string") problems.push(`${where}: "description" must be a string`)
  if (!isPortMap(component.uses, isSlot)) problems.push(`${where}: "uses" must map slot names to service keys (or optionalSlot(key))`)
  const isPort = (port: unknown) => isRecord(port) && typeof port.description === "string"
  if (!isPortMap(component.inputs, isPort)) problems.push(`${where}: "inputs" must map port names to { description }`)
  if (component.kind !== "stage" && isRecord(component.inputs) && Object.values(component.inputs).some((port) => isRecord(port) && port.list === true)) {
    problems.push(`${where}: list input ports ("list: true") are for stage components; give a resource one port per stage`)
  }
  if (component.kind === "stage") {
    if (!stageRoles.has(component.role as string)) problems.push(`${where}: "role" must be one of ${[...stageRoles].join(", ")}`)
    if (typeof component.run !== "function") problems.push(`${where}: stage components need a "run" function`)
  } else if (component.kind === "resource") {
    if (typeof component.make !== "function") problems.push(`${where}: resource components need a "make" function`)
    const provides = component.provides
    const keys = Array.isArray(provides) ? provides : [provides]
    if (keys.length === 0 || !keys.every(isServiceKey)) {
      problems.push(`${where}: "provides" must be a service key (a Context.Service class) or a non-empty list of them`)
    }
  } else {
    problems.push(`${where}: "kind" must be "stage" or "resource"`)
  }
  if (problems.length === 0) problems.push(...keyCollisions(where, component as unknown as Component))
  return problems
}

/** A node key must mean one thing: input port, slot or option (and never `_component_`). */
const keyCollisions = (where: string, component: Component): Array<string> => {
  const seen = new Map<string, string>([["_component_", "the component id"]])
  const problems: Array<string> = []
  const claim = (key: string, role: string) => {
    const earlier = seen.get(key)
    if (earlier !== undefined) problems.push(`${where}: key "${key}" is both ${earlier} and ${role}`)
    else seen.set(key, role)
  }
  inputPorts(component).forEach((port) => claim(port, "an input port"))
  resourceSlots(component).forEach((slot) => claim(slot, "a resource slot"))
  ;(optionKeys(component.options) ?? []).forEach((option) => claim(option, "an option"))
  return problems
}

/** Every reason `value` is not a usable plugin manifest; empty when it is one. */
export const manifestProblems = (value: unknown): Array<string> => {
  if (!isRecord(value)) {
    return ["the default export is not a plugin manifest object (export default definePlugin({ ... }))"]
  }
  const problems: Array<string> = []
  if (typeof value.name !== "string" || !pluginName.test(value.name)) {
    problems.push(`"name" must be a lowercase name (letters, digits, _ -), got ${JSON.stringify(value.name) ?? "nothing"}`)
  }
  if (typeof value.version !== "string") problems.push(`"version" must be a string`)
  if (!isRecord(value.components)) {
    problems.push(`"components" must be an object of components`)
  } else {
    for (const [name, component] of Object.entries(value.components)) problems.push(...componentProblems(name, component))
    if (problems.length === 0) {
      for (const [name, component] of Object.entries(value.components)) problems.push(...comparesProblems(name, component as Component, value.components))
    }
  }
  return problems
}

/** A comparison stage's `compares`: its evaluations and importer are stages of the same plugin, its ports are baseline + candidates (list). */
const comparesProblems = (name: string, component: Component, components: Record<string, unknown>): Array<string> => {
  if (component.kind !== "stage" || component.compares === undefined) return []
  const where = `component "${name}": "compares"`
  const compares: unknown = component.compares
  if (!isRecord(compares) || !Array.isArray(compares.evaluations) || compares.evaluations.length === 0 || typeof compares.importer !== "string") {
    return [`${where} must be { evaluations: [component names], importer: component name }`]
  }
  const stage = (local: unknown) => {
    const found = typeof local === "string" ? components[local] : undefined
    return isRecord(found) && found.kind === "stage" ? found as unknown as Component : undefined
  }
  const problems: Array<string> = []
  for (const evaluation of compares.evaluations) {
    if (stage(evaluation) === undefined) problems.push(`${where}: evaluation ${JSON.stringify(evaluation)} is not a stage component of this plugin`)
  }
  const importer = stage(compares.importer)
  if (importer === undefined) problems.push(`${where}: importer ${JSON.stringify(compares.importer)} is not a stage component of this plugin`)
  else if (!(optionKeys(importer.options) ?? []).includes("stageDir")) problems.push(`${where}: importer "${compares.importer}" needs a "stageDir" option (the imported stage's folder)`)
  const ports = component.inputs ?? {}
  if (ports["baseline"] === undefined || ports["baseline"].list === true) problems.push(`${where}: the comparison stage needs a single input port "baseline"`)
  if (ports["candidates"]?.list !== true) problems.push(`${where}: the comparison stage needs a list input port "candidates"`)
  return problems
}

/** Narrows `value` to a manifest when `manifestProblems` found nothing. */
export const isPluginManifest = (value: unknown): value is PluginManifest => manifestProblems(value).length === 0

/**
 * Session groups: programs of one family (the same feeds and outputs by name
 * and dtype, different shapes — a model's decode steps at several batch and
 * cache sizes) compiled into ONE onnxruntime session, each program a branch
 * of a chain of `If` nodes selected by a `group:branch` input.
 *
 * Why: onnxruntime keeps constants per session, and pre-packs them per
 * session (MatMulNBits' int4 / int8 codes, float32 MatMul weights). A
 * program per session means a copy of the baked weights per decode shape.
 * Branch subgraphs read the main graph's initializers as outer-scope values,
 * and onnxruntime pre-packs such an initializer once for every branch that
 * reads it (measured, onnxruntime 1.30 CPU: one MatMulNBits weight of 62.5 MiB
 * read by one or by two branches, the same session RSS, and both branches
 * ran at the pre-packed speed, ~2 ms against ~100 ms when the codes are a
 * run-time input). An `If` runs only the branch it selects.
 *
 * A group of one program is a branch too, not the plain program: measured,
 * 1.1B int4 workload with the cache, anonymous peak 1.81× → 1.46× the weight
 * bytes, decode speed unchanged (backend README). The reason given then — a
 * plain session pre-packs the mapped `Gemm` head and branches do not — does
 * not hold: in save mode onnxruntime writes a pre-packed form for a
 * main-graph `Gemm` weight read inside branches too (session 18), and the
 * pre-packed store now serves it (runtime/prepacked-store.ts).
 *
 * Shared: the main graph's inputs (the family's feeds, with unknown
 * dimensions so every branch's shapes pass) and every initializer named
 * `param:…` (a baked parameter; branches of one family bake the same
 * weights, checked by dtype, dims and byte length). Everything else — node
 * outputs, small constants — is renamed into its branch (`b<i>|…`).
 */
import type { OnnxElementType, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from "../onnx/model.ts"
import { encodeModel } from "../onnx/model.ts"
import type { ModelBundle } from "../runtime/providers.ts"
import type { CompiledModel } from "./compiler.ts"
import { encodeValues } from "./constants.ts"
import { bytesNow, inMemoryInitializer, lengthOf } from "./mapped.ts"

/** The input that selects a group's branch (int64 scalar). */
export const GROUP_BRANCH_INPUT = "group:branch"

/**
 * Graph inputs that are initializers too (onnxruntime's overridable initializers: constants read as they are,
 * `CompileOptions.readAsIs`), which are no feeds.
 */
const overridableInputs = (graph: OnnxGraph): Array<OnnxValueInfo> => {
  const initializers = new Set(graph.initializers.map((t) => t.name))
  return graph.inputs.filter((i) => initializers.has(i.name))
}

const feedInputs = (graph: OnnxGraph): Array<OnnxValueInfo> => {
  const overridable = new Set(overridableInputs(graph).map((i) => i.name))
  return graph.inputs.filter((i) => !overridable.has(i.name))
}

/** What must match for programs to share a group: feed and output names, dtypes and ranks. */
export const groupSignature = (model: CompiledModel): string =>
  JSON.stringify([
    feedInputs(model.onnx.graph).map((i) => [i.name, i.dataType, i.dims.length]),
    model.onnx.graph.outputs.map((o) => [o.name, o.dataType, o.dims.length])
  ])

const shared = (name: string) => name.startsWith("param:")

// Bytes of one element, for the placeholder outputs when no branch is selected (one zero each).
const ELEMENT_BYTES: Record<OnnxElementType, number> = { float32: 4, float16: 2, float64: 8, int64: 8, int32: 4, bool: 1, uint8: 1, int8: 1 }

const unknownDims = (v: OnnxValueInfo): OnnxValueInfo => ({ ...v, dims: v.dims.map(() => -1) })

const int64Scalar = (name: string, value: number): OnnxTensor => ({ name, dataType: "int64", dims: [], raw: encodeValues("int64", [value]) })

/**
 * One model holding every member as a branch. Members must share
 * {@link groupSignature}; their `param:` initializers must agree. Throws
 * with the reason otherwise.
 */
export const mergeGroup = (members: ReadonlyArray<CompiledModel>): ModelBundle => {
  if (members.length === 0) throw new Error("a session group needs at least one program")
  const first = members[0]!
  const signature = groupSignature(first)
  const sharedInitializers = new Map<string, OnnxTensor>()
  const externalData: Array<{ path: string; data: Uint8Array }> = []
  const extraOpsets = new Map<string, number>()
  // Members' mapped initializers stay mapped when every member maps from one folder and none holds in-memory
  // external data; otherwise they are held in memory like the rest (compile/mapped.ts).
  const folders = new Set(members.map((m) => m.mapped?.folder))
  const folder = folders.size === 1 && members.every((m) => m.bundle.externalData.length === 0) ? members[0]!.mapped?.folder : undefined
  // Mapped weights used as they are (`ModelBundle.mappedAsIs`) stay so when every member asks for it.
  const mapping = folder === undefined ? {} : { folder, ...(members.every((m) => m.bundle.mappedAsIs === true) ? { mappedAsIs: true } : {}) }
  const branches = members.map((member, b) => {
    if (groupSignature(member) !== signature) throw new Error(`program ${b} of the group has other feeds or outputs than the first (${groupSignature(member)} vs ${signature})`)
    for (const o of member.onnx.extraOpsets ?? []) extraOpsets.set(o.domain, Math.max(extraOpsets.get(o.domain) ?? 0, o.version))
    const graph = member.onnx.graph
    const data = new Map(member.bundle.externalData.map((e) => [e.path, e.data]))
    const outer = new Set(graph.inputs.map((i) => i.name))
    const rename = (name: string) => (name === "" || outer.has(name) || (shared(name) && sharedInitializers.has(name)) ? name : `b${b}|${name}`)
    // Initializers: shared ones once in the main graph (external data re-pathed by name), the rest inside the branch.
    const local: Array<OnnxTensor> = []
    for (const t of graph.initializers) {
      const mappedBytes = member.mapped?.bytes.get(t.name)
      const stayMapped = mappedBytes !== undefined && folder !== undefined
      const bytes = mappedBytes ?? (t.external ? data.get(t.external.location) : t.raw)
      if (bytes === undefined) throw new Error(`initializer ${t.name} points at missing external data ${t.external?.location}`)
      // Held in memory: in-memory external data (a mapped one's bytes read now, when the group cannot map it).
      const inMemoryUnlessMapped = (tensor: OnnxTensor, prefix: string) => (t.external && !stayMapped ? inMemoryInitializer(tensor, bytesNow(bytes), externalData, prefix) : tensor)
      if (shared(t.name)) {
        const seen = sharedInitializers.get(t.name)
        if (seen === undefined) sharedInitializers.set(t.name, inMemoryUnlessMapped(t, "shared"))
        else if (seen.dataType !== t.dataType || seen.dims.join() !== t.dims.join() || (seen.external?.length ?? seen.raw?.byteLength) !== lengthOf(bytes)) {
          throw new Error(`programs of one group bake different "${t.name}"; a group shares one copy of each weight`)
        }
        continue
      }
      local.push(inMemoryUnlessMapped({ ...t, name: rename(t.name) }, `b${b}|weight`))
    }
    const nodes: Array<OnnxNode> = graph.nodes.map((n, i) => ({ ...n, name: `b${b}|${n.name ?? i}`, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }))
    const body: OnnxGraph = { name: `branch${b}`, nodes, inputs: [], outputs: graph.outputs.map((o) => ({ ...unknownDims(o), name: rename(o.name) })), initializers: local }
    return body
  })
  const outputs = first.onnx.graph.outputs.map(unknownDims)
  // A shared constant stays read as it is (an overridable initializer) when every member reads it so; otherwise it is
  // a constant of the group, pre-packed once for the members that want that.
  const asIs = overridableInputs(first.onnx.graph).filter((i) => members.every((m) => overridableInputs(m.onnx.graph).some((o) => o.name === i.name)) && sharedInitializers.has(i.name))
  const inputs = [...feedInputs(first.onnx.graph).map(unknownDims), ...asIs, { name: GROUP_BRANCH_INPUT, dataType: "int64" as const, dims: [] }]
  const opsets = extraOpsets.size > 0 ? { extraOpsets: [...extraOpsets].map(([domain, version]) => ({ domain, version })) } : {}
  const header = { irVersion: first.onnx.irVersion, opsetVersion: first.onnx.opsetVersion, producerName: first.onnx.producerName, ...opsets }
  // One If per branch, every branch one level deep (onnxruntime pre-packs a main-graph initializer for a branch
  // one level down, not for one nested deeper: measured, a third branch under a second If ran unpacked). If b runs
  // branch b when group:branch == b, else passes on what If b+1 produced; the last one's else is empty tensors.
  const nodes: Array<OnnxNode> = []
  for (let b = branches.length - 1; b >= 0; b--) {
    const names = outputs.map((o) => (b === 0 ? o.name : `group:if${b}|${o.name}`))
    const after = outputs.map((o) => `group:if${b + 1}|${o.name}`)
    const otherwise: OnnxGraph =
      b === branches.length - 1
        ? {
            name: "none",
            nodes: outputs.map((o, i): OnnxNode => ({ opType: "Constant", inputs: [], outputs: [`none|${i}`], name: `none|${i}`, attributes: [{ name: "value", tensor: { name: `none|${i}`, dataType: o.dataType, dims: o.dims.map(() => 1), raw: new Uint8Array(ELEMENT_BYTES[o.dataType]) } }] })),
            inputs: [],
            outputs: outputs.map((o, i) => ({ ...o, name: `none|${i}` })),
            initializers: []
          }
        : { name: `after${b}`, nodes: after.map((name, i): OnnxNode => ({ opType: "Identity", inputs: [name], outputs: [`after${b}|${i}`], name: `after${b}|${i}` })), inputs: [], outputs: outputs.map((o, i) => ({ ...o, name: `after${b}|${i}` })), initializers: [] }
    nodes.push(
      { opType: "Equal", inputs: [GROUP_BRANCH_INPUT, `group:index${b}`], outputs: [`group:is${b}`], name: `group:equal${b}` },
      { opType: "If", inputs: [`group:is${b}`], outputs: names, name: `group:if${b}`, attributes: [{ name: "then_branch", graph: branches[b]! }, { name: "else_branch", graph: otherwise }] }
    )
  }
  const model: OnnxModel = {
    ...header,
    graph: {
      name: "group",
      nodes,
      inputs,
      outputs,
      initializers: [...sharedInitializers.values(), ...branches.map((_, b) => int64Scalar(`group:index${b}`, b))]
    }
  }
  return { bytes: encodeModel(model), externalData, ...mapping, ...(asIs.length > 0 ? { overridableInitializers: true } : {}) }
}


/**
 * Alpaca records → training sequences: validate every record (clear errors
 * naming the record and field), render the prompt with the template,
 * tokenize prompt and response separately (the response ends with EOS), and
 * reject sequences longer than the model's context.
 *
 * @example
 * ```ts
 * import { renderPrompt } from "@refine-af/trainer-sft"
 * renderPrompt("alpaca", { instruction: "Add the numbers.", input: "2 3", output: "5" })
 * ```
 */
import { readFileSync } from "node:fs"
import { decodeTextFile, type JsonRecord } from "@refine-af/core"
import { withLeadingBos, type PolicyModelService, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { alpacaPrompt, alpacaUserTurn, fillAlpacaTemplate } from "@refine-af/text"
import { SftDataError } from "./errors.ts"

export interface AlpacaRecord {
  readonly instruction: string
  readonly input: string
  readonly output: string
}

export type Template = "alpaca" | "chat" | { readonly prompt: string; readonly no_input?: string; readonly response?: string }

/** The prompt text of a record under a non-chat template. */
export const renderPrompt = (template: Exclude<Template, "chat">, r: AlpacaRecord): string =>
  template === "alpaca" ? alpacaPrompt(r) : fillAlpacaTemplate(r.input.trim() === "" ? template.no_input ?? template.prompt : template.prompt, r)

/** Checks one raw record; `where` names it in errors (e.g. `record 3 of data.jsonl`). */
export const checkRecord = (raw: unknown, where: string): Effect.Effect<AlpacaRecord, SftDataError> => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return Effect.fail(new SftDataError({ message: `${where} is not a JSON object`, fix: "write one {\"instruction\", \"input\", \"output\"} object per line" }))
  const r = raw as Record<string, unknown>
  for (const field of ["instruction", "output"] as const) {
    if (r[field] === undefined) return Effect.fail(new SftDataError({ message: `${where} has no "${field}"`, fix: `give every record a string "${field}" (Alpaca format: instruction, input, output)` }))
    if (typeof r[field] !== "string" || (r[field] as string).trim() === "") return Effect.fail(new SftDataError({ message: `${where}: "${field}" must be a non-empty string, got ${JSON.stringify(r[field])}`, fix: `fix or drop the record` }))
  }
  if (r.input !== undefined && typeof r.input !== "string") return Effect.fail(new SftDataError({ message: `${where}: "input" must be a string, got ${JSON.stringify(r.input)}`, fix: "use \"\" for records without an input" }))
  return Effect.succeed({ instruction: r.instruction as string, input: (r.input as string | undefined) ?? "", output: r.output as string })
}

/** Parses a JSONL file of records (blank lines skipped). */
export const readJsonl = (file: string): Effect.Effect<ReadonlyArray<{ raw: unknown; where: string }>, SftDataError> =>
  Effect.gen(function* () {
    const bytes = yield* Effect.try({ try: () => readFileSync(file), catch: (e) => new SftDataError({ message: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, fix: "check the path option (relative paths resolve from the recipe's folder)" }) })
    const decoded = decodeTextFile(bytes)
    if ("problem" in decoded) return yield* new SftDataError({ message: `${file} ${decoded.problem}`, fix: decoded.fix })
    const text = decoded.text
    const out: Array<{ raw: unknown; where: string }> = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === "") continue
      const where = `line ${i + 1} of ${file}`
      const raw = yield* Effect.try({ try: () => JSON.parse(lines[i]!) as unknown, catch: (e) => new SftDataError({ message: `${where} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, fix: "write one JSON object per line" }) })
      out.push({ raw, where })
    }
    return out
  })

/** Records of the `data` input port, named for errors. */
export const fromRecords = (stage: string, records: ReadonlyArray<JsonRecord>) => records.map((raw, i) => ({ raw: raw as unknown, where: `record ${i} of stage "${stage}"` }))

/** Text no tokenizer merges with what a chat template writes after it: marks where an assistant turn's content ends. */
const CONTENT_END_PROBE = "RefineAfContentEndProbe"

/**
 * The token that ends a trained response. With `template: chat`, the one the model's chat template
 * writes right after an assistant turn's content, when that is an end-of-sequence id (Llama 3's
 * `<|eot_id|>`, Gemma's `<end_of_turn>`, Qwen's `<|im_end|>`), so a trained reply ends as the model's
 * own turns do rather than with `<|end_of_text|>` / `<eos>`; otherwise (other templates, a chat
 * template that writes none or fails on the probe) the first end-of-sequence id.
 */
export const responseEnd = (policy: PolicyModelService, template: Template): Effect.Effect<number> => {
  const fallback = policy.info.eosTokenIds[0]!
  if (template !== "chat") return Effect.succeed(fallback)
  return Effect.gen(function* () {
    const text = yield* policy.applyChatTemplate([{ role: "user", content: "Hi." }, { role: "assistant", content: CONTENT_END_PROBE }], { addGenerationPrompt: false })
    const at = text.lastIndexOf(CONTENT_END_PROBE)
    if (at < 0) return fallback
    const [next] = yield* policy.encode(text.slice(at + CONTENT_END_PROBE.length))
    return next !== undefined && policy.info.eosTokenIds.includes(next) ? next : fallback
  }).pipe(Effect.orElseSucceed(() => fallback))
}

/** Tokenizes one record: prompt (BOS first when the model uses one, once) + response + `end` (default: the first EOS; see {@link responseEnd}). */
export const toSequence = (policy: PolicyModelService, template: Template, r: AlpacaRecord, where: string, end = policy.info.eosTokenIds[0]!): Effect.Effect<TokenSequence, SftDataError> =>
  Effect.gen(function* () {
    const promptText = template === "chat"
      ? yield* policy.applyChatTemplate([{ role: "user", content: alpacaUserTurn(r) }])
      : renderPrompt(template, r)
    // A chat template may write the BOS text itself (Llama 3, Gemma): one BOS either way.
    const prompt = withLeadingBos(policy.info, yield* policy.encode(promptText))
    const responseText = typeof template === "object" && template.response !== undefined ? template.response.replaceAll("{output}", r.output) : r.output
    const response = [...(yield* policy.encode(responseText)), end]
    const tokens = [...prompt, ...response]
    if (tokens.length > policy.info.contextLength)
      return yield* new SftDataError({ message: `${where}: prompt + response is ${tokens.length} tokens (prompt ${prompt.length}), longer than the model's context of ${policy.info.contextLength}`, fix: "shorten or drop the record, or raise the model's max_context" })
    return { tokens, promptLength: prompt.length }
  }).pipe(Effect.mapError((e) => (e._tag === "SftDataError" ? e : new SftDataError({ message: `${where}: ${e.message}`, fix: e.fix ?? "use the alpaca or a custom template" }))))

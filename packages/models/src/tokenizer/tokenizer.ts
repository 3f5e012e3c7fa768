/**
 * Tokenizers from a model folder's `tokenizer.json` / `tokenizer_config.json`
 * through `@huggingface/transformers`, local files only, behind a small
 * interface so the rest of the plugin never touches the library directly.
 */
import { AutoTokenizer, env } from "@huggingface/transformers"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { TokenizerError } from "../config/errors.ts"

/** One chat turn as the chat template sees it (structurally compatible with core's `ChatMessage`). */
export interface ChatTurn {
  readonly role: string
  readonly content: string
}

/** What the model needs from a tokenizer. */
export interface Tokenizer {
  readonly encode: (text: string, options?: { readonly addSpecialTokens?: boolean }) => Array<number>
  readonly decode: (ids: ReadonlyArray<number>, options?: { readonly skipSpecialTokens?: boolean }) => string
  /**
   * Renders chat messages with the model's chat template (`chat_template.jinja`, else
   * `tokenizer_config.json`'s `chat_template`, else a processor's `chat_template.json`), by default ending with the assistant
   * generation prompt; `addGenerationPrompt: false` renders a finished conversation
   * (a reward model reading a user turn and the assistant's answer).
   */
  readonly applyChatTemplate: (messages: ReadonlyArray<ChatTurn>, options?: { readonly addGenerationPrompt?: boolean }) => Effect.Effect<string, TokenizerError>
  readonly eosTokenId: number | null
  readonly padTokenId: number | null
  readonly bosTokenId: number | null
}

const asId = (value: unknown): number | null => (typeof value === "number" ? value : null)

/**
 * A chat template kept beside `tokenizer_config.json`, as transformers reads it: `chat_template.jinja`
 * (transformers ≥ 4.52 saves it there; it replaces the config's), else, where the config has none, a
 * processor's `chat_template.json` (multimodal repositories keep the template there). A damaged file
 * fails the load.
 */
const templateFile = async (folder: string, configHasOne: boolean): Promise<string | undefined> => {
  const jinja = nodePath.join(folder, "chat_template.jinja")
  if (existsSync(jinja)) return readFile(jinja, "utf8")
  const processor = nodePath.join(folder, "chat_template.json")
  if (configHasOne || !existsSync(processor)) return undefined
  const parsed = JSON.parse(await readFile(processor, "utf8")) as { chat_template?: unknown }
  if (typeof parsed.chat_template !== "string") throw new Error(`${processor} has no "chat_template" string`)
  return parsed.chat_template
}

/**
 * Loads the tokenizer of a local model folder. Remote downloads are switched
 * off for the duration of the load (the library's switch is global, so it is
 * restored afterwards).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadTokenizer } from "@refine-af/models"
 * const ids = Effect.map(loadTokenizer("./tiny-llama"), (t) => t.encode("Hello"))
 * ```
 */
export const loadTokenizer = (folder: string): Effect.Effect<Tokenizer, TokenizerError> =>
  Effect.tryPromise({
    try: async () => {
      const previous = env.allowRemoteModels
      env.allowRemoteModels = false
      try {
        const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true })
        const template = await templateFile(folder, tokenizer.chat_template !== null && tokenizer.chat_template !== undefined)
        if (template !== undefined) tokenizer.chat_template = template
        return tokenizer
      } finally {
        env.allowRemoteModels = previous
      }
    },
    catch: (cause) => new TokenizerError({ folder, message: `Could not load the tokenizer of ${folder} (${cause instanceof Error ? cause.message : String(cause)}). The folder needs tokenizer.json and tokenizer_config.json from the model repository.` })
  }).pipe(Effect.map((tokenizer): Tokenizer => ({
    encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }),
    // transformers.js throws on an empty list; no tokens (a generation of max_tokens 0) are no text.
    decode: (ids, options) => (ids.length === 0 ? "" : tokenizer.decode([...ids], { skip_special_tokens: options?.skipSpecialTokens ?? true })),
    applyChatTemplate: (messages, options) =>
      Effect.try({
        try: () => tokenizer.apply_chat_template(messages.map((m) => ({ role: m.role, content: m.content })), { tokenize: false, add_generation_prompt: options?.addGenerationPrompt ?? true }) as string,
        catch: (cause) => new TokenizerError({ folder, message: `The chat template of ${folder} failed (${String(cause)}); the model may have no chat template — pass a raw string prompt instead.` })
      }),
    eosTokenId: asId(tokenizer.eos_token_id),
    padTokenId: asId(tokenizer.pad_token_id),
    bosTokenId: asId(tokenizer.bos_token_id)
  })))

/**
 * Incremental detokenizer for streaming: feeds token ids and returns the new
 * text each step. Each step decodes only a short window — the tokens since the
 * last emitted text plus the few before them — and emits what the window adds
 * beyond its own prefix, so a step costs O(window), not O(sequence): decoding
 * the whole sequence each step made a 512-token generation quadratic. Both
 * decodes start at the same token, so whatever a tokenizer does at the start
 * of a text (SentencePiece drops the leading space) cancels out. A trailing
 * partial UTF-8 character (U+FFFD) is held back until the next token completes
 * it — byte-level BPE splits characters across tokens.
 *
 * @example
 * ```ts
 * import { makeIncrementalDecoder } from "@refine-af/models"
 * const letters = { decode: (ids: ReadonlyArray<number>) => ids.map((id) => String.fromCharCode(96 + id)).join("") }
 * const decoder = makeIncrementalDecoder(letters)
 * const text = [1, 2, 3].map((id) => decoder.push(id)).join("") // "abc"
 * ```
 */
export const makeIncrementalDecoder = (tokenizer: Pick<Tokenizer, "decode">) => {
  const ids: Array<number> = []
  // ids[prefixStart, readStart) is context already emitted; ids[readStart, …) is not yet emitted.
  let prefixStart = 0
  let readStart = 0
  return {
    push: (id: number): string => {
      ids.push(id)
      const prefix = readStart > prefixStart ? tokenizer.decode(ids.slice(prefixStart, readStart)) : ""
      const text = tokenizer.decode(ids.slice(prefixStart))
      if (text.length <= prefix.length || text.endsWith("\uFFFD") || !text.startsWith(prefix)) return ""
      prefixStart = readStart
      readStart = ids.length
      return text.slice(prefix.length)
    },
    text: (): string => tokenizer.decode(ids)
  }
}

/**
 * `refine-af models pull <owner/name> [--revision R] [--dir D]` and
 * `refine-af data pull superni [--dir D] [--revision R] [--base-url U]`:
 * resumable, verified downloads of a Hugging Face model repository and of
 * the SuperNI evaluation split (the logic lives in @refine-af/models).
 * `HF_TOKEN` authorises gated repositories, `HF_ENDPOINT` selects a mirror.
 *
 * @example
 * ```ts
 * import { modelsCommand, dataCommand } from "./pull.ts"
 * // wired into the root command in cli.ts
 * ```
 */
import { Console, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"

/** Loaded when a pull runs: @refine-af/models brings tokenizers and Hub clients every other command can start without. */
const models = Effect.promise(() => import("@refine-af/models"))

const revisionFlag = Flag.String("revision").pipe(Flag.withDescription("Branch, tag or commit (default: main for models, master for SuperNI)"), Flag.optional)
const dirFlag = Flag.String("dir").pipe(Flag.withDescription("Target folder"), Flag.optional)
const optional = <A>(value: Option.Option<A>) => Option.getOrUndefined(value)

/** A repository name that is not `owner/name`: a usage error (exit 2), before any request. */
export class InvalidRepoName extends Schema.TaggedError<InvalidRepoName>()("InvalidRepoName", {
  message: Schema.String,
  fix: Schema.String
}) {}

const repoPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/

const modelsPull = Command.make(
  "pull",
  {
    repo: Argument.String("repo").pipe(Argument.withDescription("Hugging Face model repository, owner/name")),
    revision: revisionFlag,
    dir: dirFlag
  },
  Effect.fnUntraced(function*({ repo, revision, dir }) {
    if (!repoPattern.test(repo)) {
      return yield* new InvalidRepoName({ message: `"${repo}" is not a Hugging Face repository name`, fix: "write it as owner/name, e.g. meta-llama/Llama-2-7b-hf (as in the URL huggingface.co/<owner>/<name>)" })
    }
    const { formatBytes, pullModel } = yield* models
    const result = yield* pullModel({
      repo,
      ...(optional(revision) === undefined ? {} : { revision: optional(revision)! }),
      ...(optional(dir) === undefined ? {} : { dir: optional(dir)! }),
      onEvent: (event) => {
        if (event.type === "listed") console.log(`${repo}: ${event.files} files, ${formatBytes(event.bytes)} (${formatBytes(event.toDownload)} to download)`)
        else if (event.status === "downloaded") console.log(`  ${event.path} ${formatBytes(event.bytes)} verified${event.resumedFrom > 0 ? ` (resumed at ${formatBytes(event.resumedFrom)})` : ""}`)
      }
    })
    yield* Console.log(`${result.downloaded} downloaded, ${result.skipped} already present; model folder: ${result.dir}\nuse it in a recipe as  path: ${result.dir}`)
  })
).pipe(Command.withDescription("Download a Hugging Face model repository: resumable, size- and hash-verified (HF_TOKEN for gated repos)"))

/** `refine-af models pull`. */
export const modelsCommand = Command.make("models").pipe(
  Command.withDescription("Get models"),
  Command.withSubcommands([modelsPull]),
  Command.withExamples([
    { command: "refine-af models pull mistralai/Mistral-7B-v0.1 --dir models/mistral-7b", description: "Download a model folder (set HF_TOKEN for gated repos)" }
  ])
)

const superniPull = Command.make(
  "superni",
  {
    dir: dirFlag,
    revision: revisionFlag,
    baseUrl: Flag.String("base-url").pipe(Flag.withDescription("Raw-file base URL of the natural-instructions repository"), Flag.optional)
  },
  Effect.fnUntraced(function*({ dir, revision, baseUrl }) {
    const { pullSuperNi } = yield* models
    const result = yield* pullSuperNi({
      ...(optional(dir) === undefined ? {} : { dir: optional(dir)! }),
      ...(optional(revision) === undefined ? {} : { revision: optional(revision)! }),
      ...(optional(baseUrl) === undefined ? {} : { baseUrl: optional(baseUrl)! }),
      onEvent: (event) => {
        if (event.status === "downloaded" && (event.index % 20 === 0 || event.index === event.total)) console.log(`  ${event.index}/${event.total} task files`)
      }
    })
    yield* Console.log(`SuperNI test split: ${result.tasks} tasks (${result.downloaded} files downloaded) in ${result.dir}\nevaluate with  tasks: ${result.tasksDir}  split: ${result.splitFile}`)
  })
).pipe(Command.withDescription("Download the SuperNI evaluation split (test task list + task files), resumable"))

const dataPull = Command.make("pull").pipe(Command.withDescription("Download a data set"), Command.withSubcommands([superniPull]))

/** `refine-af data pull superni`. */
export const dataCommand = Command.make("data").pipe(
  Command.withDescription("Get data sets"),
  Command.withSubcommands([dataPull]),
  Command.withExamples([{ command: "refine-af data pull superni --dir data/superni", description: "Download the 119 SuperNI test tasks" }])
)

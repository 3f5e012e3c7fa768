/**
 * `refine-af serve <recipe> --resource <name>`: opens one `LanguageModel`
 * resource of a recipe (outside any run) and serves it over the OpenAI API
 * (`/v1/models`, `/v1/completions`, `/v1/chat/completions` with SSE and
 * logprobs, `/health`) on 127.0.0.1 by default. Concurrent requests reach the
 * model together (model-llama decodes them in one continuous batch); a full
 * queue answers 429. Ctrl-C / SIGTERM drains: in-flight requests finish, new
 * ones are refused, then the model's resources are released. The port is
 * tried before the model loads: a busy one is reported in a second.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadRecipe } from "@refine-af/core"
import { ListenFailed, probeListen, startOpenAiServer } from "@refine-af/openai"
import { runDisplay } from "../run-display.ts"
import { openLanguageModel } from "../serve/open-model.ts"

/** `start` as an effect whose `ListenFailed` (busy port, bad host) is a typed failure, not a defect. */
const listening = <A>(start: () => Promise<A>): Effect.Effect<A, ListenFailed> =>
  Effect.promise(start).pipe(Effect.catchDefect((defect) => (defect instanceof ListenFailed ? Effect.fail(defect) : Effect.die(defect))))

const int = (name: string, description: string, fallback: number) => Flag.Int(name).pipe(Flag.withDescription(description), Flag.withDefault(fallback))

/** `refine-af serve`. */
export const serveCommand = Command.make(
  "serve",
  {
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe YAML file whose resource to serve")),
    overrides: Argument.String("overrides").pipe(Argument.withDescription("Overrides as key.path=value, e.g. resources.policy.max_batch=16"), Argument.variadic()),
    resource: Flag.String("resource").pipe(Flag.withDescription("Name of the LanguageModel resource under resources: (e.g. policy)")),
    port: int("port", "TCP port (0 picks a free one)", 8000),
    host: Flag.String("host").pipe(Flag.withDescription("Address to listen on (default loopback only; 0.0.0.0 exposes it to the network)"), Flag.withDefault("127.0.0.1")),
    modelName: Flag.String("model-name").pipe(Flag.withDescription("Model name clients send (default: the resource name)"), Flag.optional),
    concurrency: int("concurrency", "Requests sent to the model at once (they share its batch)", 64),
    queue: int("queue", "Requests waiting beyond those; more get 429", 256),
    maxBodyBytes: int("max-body-bytes", "Largest request body; larger gets 413", 1 << 20),
    maxChoices: int("max-choices", "Largest n per request", 16),
    graceMs: int("grace-ms", "On shutdown, how long in-flight requests may take to finish", 30_000),
    runDir: Flag.String("run-dir").pipe(Flag.withDescription("A run of this recipe whose stage outputs feed the resource (e.g. an adapter a trainer stage wrote)"), Flag.optional)
  },
  Effect.fnUntraced(function*(args) {
    const resolved = yield* loadRecipe(args.recipe, { overrides: args.overrides })
    yield* listening(() => probeListen(args.host, args.port))
    const model = yield* openLanguageModel(resolved, args.resource, yield* runDisplay, Option.getOrUndefined(args.runDir))
    const modelName = Option.getOrElse(args.modelName, () => args.resource)
    const server = yield* Effect.acquireRelease(
      listening(() => startOpenAiServer({ model, modelName, host: args.host, port: args.port, concurrency: args.concurrency, queueSize: args.queue, maxBodyBytes: args.maxBodyBytes, maxChoices: args.maxChoices })),
      (running) => Effect.promise(() => running.close({ graceMs: args.graceMs })).pipe(Effect.andThen(Console.error("refine-af serve: stopped (in-flight requests finished)")))
    )
    yield* Console.log(`serving ${args.resource} (${model.info.id}) as "${modelName}" at ${server.baseUrl}  (GET ${server.baseUrl}/models; Ctrl-C to stop)`)
    return yield* Effect.never
  }, Effect.scoped)
).pipe(
  Command.withDescription("Serve a recipe's LanguageModel resource over the OpenAI-compatible HTTP API"),
  Command.withExamples([
    { command: "refine-af serve recipes/examples/openai/serve-tiny.yaml --resource policy --port 8000", description: "Serve the built-in tiny model on http://127.0.0.1:8000/v1" }
  ])
)

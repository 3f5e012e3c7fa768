/**
 * What the client reports about its endpoints as it happens: a circuit
 * opened (`endpoint_down`), closed again (`endpoint_up`), or a server that
 * has sent nothing for a while although requests wait on it
 * (`endpoint_slow`). URLs carry no credentials. {@link describeEndpointEvent}
 * is the line a person reads for each (the resource shows it as a warning).
 *
 * @example
 * ```ts
 * import { describeEndpointEvent } from "@refine-af/lm-openai"
 * const line = describeEndpointEvent({ type: "endpoint_up", endpoint: "http://10.0.0.5:8000/v1" })
 * ```
 */

/** A breaker transition or a long silence, for the run's events and the console. */
export type EndpointEvent =
  | { readonly type: "endpoint_down"; readonly endpoint: string; readonly reason: string }
  | { readonly type: "endpoint_up"; readonly endpoint: string }
  | {
    readonly type: "endpoint_slow"
    readonly endpoint: string
    /** How long the server has sent nothing while requests waited on it. */
    readonly silentMs: number
    /** Requests in flight to it. */
    readonly waiting: number
    readonly timeoutMs: number
  }

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`

/** The console line for an event. */
export const describeEndpointEvent = (event: EndpointEvent): string => {
  switch (event.type) {
    case "endpoint_down":
      return `${event.endpoint} is down: ${event.reason.replace(/\.$/, "")}. No requests go to it until a probe request succeeds.`
    case "endpoint_up":
      return `${event.endpoint} answers again; requests go to it again.`
    case "endpoint_slow":
      return `${event.endpoint} has sent nothing for ${seconds(event.silentMs)} while ${event.waiting} request(s) wait on it; still waiting (an attempt gives up after timeout_ms = ${event.timeoutMs} ms).`
  }
}

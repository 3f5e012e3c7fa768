/**
 * The PyTorch CPU eager baseline as a child process (train_step_torch.py),
 * driven one request at a time so its runs interleave with ours.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import { trainConfig } from "./model.ts"

/** A running PyTorch baseline. */
export interface TorchBaseline {
  /** e.g. "torch 1.13.0a0 threads 2". */
  readonly version: string
  readonly step: () => Promise<{ readonly ms: number; readonly loss: number }>
  readonly matmulMs: (size: number) => Promise<number>
  readonly close: () => void
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "train_step_torch.py")

/** Starts /usr/bin/python3 with torch; rejects with the reason when python or torch is missing. */
export const startTorch = async (threads: number): Promise<TorchBaseline> => {
  const child = spawn("/usr/bin/python3", [script, String(threads)], { stdio: ["pipe", "pipe", "inherit"], env: process.env })
  const lines = readline.createInterface({ input: child.stdout })
  const waiting: Array<(line: string) => void> = []
  lines.on("line", (line) => waiting.shift()?.(line))
  const exited = new Promise<never>((_, reject) =>
    child.on("exit", (code) => reject(new Error(`train_step_torch.py exited (code ${code}); install torch: apt-get install -y python3-torch libopenblas0-pthread`)))
  )
  child.on("error", () => undefined)
  const request = (command: string): Promise<string> =>
    Promise.race([new Promise<string>((resolve) => (waiting.push(resolve), child.stdin.write(command + "\n"))), exited])
  const ready = await request(`config ${JSON.stringify(trainConfig)}`)
  return {
    version: ready.replace(/^ready /, ""),
    step: async () => {
      const [ms, loss] = (await request("step")).split(" ").map(Number)
      return { ms: ms!, loss: loss! }
    },
    matmulMs: async (size) => Number(await request(`matmul ${size}`)),
    close: () => {
      child.stdin.end("quit\n")
    }
  }
}

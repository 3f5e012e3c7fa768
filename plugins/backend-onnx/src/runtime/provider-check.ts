/**
 * Is an execution provider usable here, and if not, what is missing and how to install it?
 *
 * Checked once when the backend is made, before any program is compiled: first the files the
 * provider needs (without touching onnxruntime, so a missing library prints no native error
 * blocks), then one tiny session on the provider (a driver or adapter that is present but
 * broken). `ProviderUnavailable` carries the answer.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import * as ort from "onnxruntime-node"
import { encodeModel } from "../onnx/model.ts"
import type { Provider } from "./providers.ts"

/** What stops a provider from starting. */
export interface ProviderProblem {
  readonly provider: Provider
  /** What is missing, in words (a library, a driver, an adapter). */
  readonly missing: string
  /** How to install it. */
  readonly install: string
  /** onnxruntime's own message, when a session was tried. */
  readonly detail?: string
}

/** The command that installs onnxruntime-node's CUDA 12 provider libraries. */
export const cudaInstallCommand = "ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node"

const cudaInstall =
  `run \`${cudaInstallCommand}\` (downloads onnxruntime's CUDA provider libraries), on a machine with an NVIDIA driver, ` +
  "the CUDA 12 runtime and cuDNN 9 on the library path; or set `fallback: cpu` to run on the CPU with a warning"

const webgpuInstall =
  "install the GPU's Vulkan driver and loader (NVIDIA: the proprietary driver; AMD/Intel: `apt install libvulkan1 mesa-vulkan-drivers`); " +
  "for a CPU-only WebGPU, `source .cache/lavapipe/env.sh` after tools/lavapipe/get-lavapipe.sh; or set `fallback: cpu`"

/** The folder holding onnxruntime-node's native binding and provider libraries. */
export const ortBinaryDir = (): string => {
  const require = createRequire(import.meta.url)
  const root = path.dirname(require.resolve("onnxruntime-node/package.json"))
  return path.join(root, "bin", "napi-v6", process.platform, process.arch)
}

const libraryDirs = (): Array<string> => [
  ...(process.env["LD_LIBRARY_PATH"] ?? "").split(":").filter((dir) => dir !== ""),
  "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/lib64", "/lib",
  "/usr/local/lib"
]

/** Whether the dynamic loader can find `name` (library path, standard folders, then `ldconfig -p`). */
export const findSharedLibrary = (name: string): boolean => {
  if (libraryDirs().some((dir) => fs.existsSync(path.join(dir, name)))) return true
  try {
    return execFileSync("ldconfig", ["-p"], { stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().includes(name)
  } catch {
    return false
  }
}

/** Problems visible from the file system alone (no onnxruntime call, so no native log output). */
export const providerFilesProblem = (provider: Provider, binaryDir = ortBinaryDir()): ProviderProblem | undefined => {
  if (provider === "cpu") return undefined
  if (provider === "cuda") {
    if (!((process.platform === "linux" || process.platform === "win32") && process.arch === "x64")) {
      return { provider, missing: `a CUDA build of onnxruntime-node for ${process.platform}-${process.arch} (there is none: CUDA builds exist for linux-x64 and win32-x64)`, install: "use provider: webgpu or cpu on this machine" }
    }
    const extension = process.platform === "win32" ? "dll" : "so"
    const prefix = process.platform === "win32" ? "" : "lib"
    const needed = [`${prefix}onnxruntime_providers_shared.${extension}`, `${prefix}onnxruntime_providers_cuda.${extension}`]
    const absent = needed.filter((file) => !fs.existsSync(path.join(binaryDir, file)))
    if (absent.length > 0) {
      return { provider, missing: `onnxruntime-node's CUDA provider libraries (${absent.join(", ")} in ${binaryDir}; the npm install skips them)`, install: cudaInstall }
    }
    return undefined
  }
  if (process.platform === "linux" && !findSharedLibrary("libvulkan.so.1")) {
    return { provider, missing: "the Vulkan loader libvulkan.so.1 (WebGPU runs on Vulkan on Linux)", install: webgpuInstall }
  }
  return undefined
}

const probeModel = (): Uint8Array =>
  encodeModel({
    irVersion: 8,
    opsetVersion: 18,
    producerName: "refine-af/backend-onnx",
    graph: {
      name: "probe",
      nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"] }],
      inputs: [{ name: "x", dataType: "float32", dims: [1] }],
      outputs: [{ name: "y", dataType: "float32", dims: [1] }],
      initializers: []
    }
  })

const problemFromError = (provider: Provider, detail: string): ProviderProblem => {
  const library = /(lib[\w.+-]+\.so(?:\.\d+)*)/.exec(detail)?.[1]
  if (provider === "cuda") {
    return {
      provider,
      missing: library !== undefined ? `the shared library ${library} (CUDA 12 runtime, cuBLAS or cuDNN 9)` : "a working CUDA setup (NVIDIA driver, CUDA 12 runtime, cuDNN 9)",
      install: cudaInstall,
      detail
    }
  }
  return {
    provider,
    missing: /adapter/i.test(detail) ? "a WebGPU adapter (a GPU with a Vulkan driver, or lavapipe)" : "a working WebGPU setup",
    install: webgpuInstall,
    detail
  }
}

/** Sets onnxruntime's process-wide native log level (takes effect before the first session). */
export const setNativeLogLevel = (level: NativeLogLevel): void => {
  ort.env.logLevel = level
}

/** onnxruntime's native log levels, most to least verbose. */
export type NativeLogLevel = "verbose" | "info" | "warning" | "error" | "fatal"

/** Checks `provider`: files first, then one tiny session on it. `undefined` when it works. */
export const checkProvider = async (provider: Provider): Promise<ProviderProblem | undefined> => {
  const files = providerFilesProblem(provider)
  if (files !== undefined || provider === "cpu") return files
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: [provider], logSeverityLevel: 4 })
    await session.release()
    return undefined
  } catch (error) {
    return problemFromError(provider, (error instanceof Error ? error.message : String(error)).trim().replace(/\s+/g, " "))
  }
}

/**
 * A local HTTP server on 127.0.0.1 that mimics the Hugging Face Hub's
 * layout — `GET /api/models/<repo>/tree/<rev>` listings and
 * `GET /<repo>/resolve/<rev>/<path>` downloads with Range support — and
 * GitHub's raw file host (`/<owner>/<repo>/<rev>/<path>`), with injectable
 * faults: a connection that breaks mid-file, a corrupted body, gated repos.
 * For testing `refine-af models pull` / `data pull` without a network.
 *
 * @example
 * ```ts
 * import { startMockHub } from "@refine-af/testing"
 * const hub = await startMockHub({ "acme/tiny": { files: { "config.json": Buffer.from("{}") }, lfs: [] } })
 * hub.faults.interrupt.set("config.json", 1) // the next download of config.json breaks after 1 byte
 * await hub.close()
 * ```
 */
import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** One repository of the mock. */
export interface MockRepo {
  readonly files: Record<string, Buffer>
  /** Paths stored with LFS (listed with `lfs.oid` = SHA-256). */
  readonly lfs: ReadonlyArray<string>
  /** When set, requests need `Authorization: Bearer <token>` (401 without, 403 with another). */
  readonly token?: string
}

/** Faults to inject, consumed on use. */
export interface Faults {
  /** path → bytes to send before cutting the connection (once). */
  interrupt: Map<string, number>
  /** paths whose next body has one byte flipped (once). */
  corrupt: Set<string>
}

/** A request the server saw. */
export interface SeenRequest {
  readonly url: string
  readonly range: string | undefined
  readonly auth: string | undefined
}

const gitBlobSha1 = (bytes: Buffer) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex")
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex")

/** Starts the mock; `repos` by `owner/name`, `raw` by `owner/repo/rev/path`. */
export const startMockHub = async (repos: Record<string, MockRepo>, raw: Record<string, Buffer> = {}) => {
  const faults: Faults = { interrupt: new Map(), corrupt: new Set() }
  const seen: Array<SeenRequest> = []
  const denied = (repo: MockRepo, req: IncomingMessage, res: ServerResponse): boolean => {
    if (repo.token === undefined) return false
    const auth = req.headers.authorization
    if (auth === `Bearer ${repo.token}`) return false
    res.writeHead(auth === undefined ? 401 : 403, { "content-type": "application/json" })
    res.end(JSON.stringify({ error: auth === undefined ? "Access to this gated repo is restricted. You must be authenticated." : "Your token has no access to this gated repo." }))
    return true
  }
  const sendBody = (req: IncomingMessage, res: ServerResponse, key: string, body: Buffer) => {
    let data = body
    if (faults.corrupt.delete(key)) {
      data = Buffer.from(body)
      data[Math.floor(data.length / 2)] = data[Math.floor(data.length / 2)]! ^ 0xff
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "")
    let start = 0
    if (range) {
      start = Number(range[1])
      if (start >= data.length) {
        res.writeHead(416, { "content-range": `bytes */${data.length}` })
        res.end()
        return
      }
      res.writeHead(206, { "content-length": data.length - start, "content-range": `bytes ${start}-${data.length - 1}/${data.length}`, "accept-ranges": "bytes" })
    } else {
      res.writeHead(200, { "content-length": data.length, "accept-ranges": "bytes" })
    }
    const cut = faults.interrupt.get(key)
    if (cut !== undefined) {
      faults.interrupt.delete(key)
      // Let the client read the partial body before the connection drops.
      res.write(data.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 150))
      return
    }
    res.end(data.subarray(start))
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    seen.push({ url: url.pathname, range: req.headers.range, auth: req.headers.authorization })
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)\/?$/.exec(url.pathname)
    if (tree) {
      const repo = repos[tree[1]!]
      if (repo === undefined || tree[2] !== "main") {
        res.writeHead(404, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: "Repository not found" }))
        return
      }
      if (denied(repo, req, res)) return
      const entries = Object.entries(repo.files).map(([path, bytes]) => ({
        type: "file", path, size: bytes.length, oid: gitBlobSha1(bytes),
        ...(repo.lfs.includes(path) ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: 134 } } : {})
      }))
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify(entries))
      return
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname)
    if (resolve) {
      const repo = repos[resolve[1]!]
      const path = decodeURIComponent(resolve[3]!)
      if (repo === undefined || resolve[2] !== "main" || repo.files[path] === undefined) {
        res.writeHead(404)
        res.end("Entry not found")
        return
      }
      if (denied(repo, req, res)) return
      sendBody(req, res, path, repo.files[path]!)
      return
    }
    const file = raw[url.pathname.slice(1)]
    if (file !== undefined) {
      sendBody(req, res, url.pathname.slice(1), file)
      return
    }
    res.writeHead(404)
    res.end("404: Not Found")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

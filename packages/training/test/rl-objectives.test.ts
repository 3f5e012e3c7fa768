/**
 * The PPO and group (GRPO/RLOO) objectives, built in the tensor IR and run by the
 * float64 interpreter: loss and metric values vs a plain-JS transcription of the
 * formulas, and the gradient (autodiff) vs central finite differences.
 */
import { describe, expect, it } from "vitest"
import { Graph, grad, gradName, interpret, relativeError, type Feeds, type Program } from "@refine-af/tensor"
import { ppoObjective } from "../src/rl/objectives/ppo.ts"
import { groupObjective } from "../src/rl/objectives/group.ts"
import type { HeadTensors, Objective } from "../src/objective.ts"

const B = 3
const T = 5
const H = 1e-4

/** A small deterministic generator (mulberry32). */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Arrays = Record<string, Array<number>>

/** Builds the objective's loss and metrics as one float64 program over inputs named like the heads and feeds. */
const program = (objective: Objective<string>, withValues: boolean, withEntropy: boolean): Program => {
  const g = new Graph()
  const x = (name: string) => g.input(name, "float64", [B, T])
  const heads: HeadTensors = { logprobs: x("logprobs"), mask: x("mask"), ...(withValues ? { values: x("values") } : {}), ...(withEntropy ? { entropy: x("entropy") } : {}) }
  const feeds = Object.fromEntries(objective.feeds.map((f) => [f, x(f)]))
  g.output("loss", objective.loss(heads, feeds))
  for (const [name, t] of Object.entries(objective.metrics!(heads, feeds))) g.output(name, t)
  return g.build()
}

/** Random heads/feeds with the masked tail of rows holding junk, and no point within 5·H of a clip kink. */
const sample = (seed: number, names: ReadonlyArray<string>, clip: number, clipValue: number): Arrays => {
  const r = rng(seed)
  for (;;) {
    const a: Arrays = {}
    for (const n of names) a[n] = Array.from({ length: B * T }, () => r() * 2 - 1)
    a["logprobs"] = Array.from({ length: B * T }, () => -0.2 - 2 * r())
    a["oldLogprobs"] = a["logprobs"]!.map((lp) => lp + (r() - 0.5) * 0.8)
    a["refLogprobs"] = a["logprobs"]!.map((lp) => lp + (r() - 0.5) * 1.5)
    a["oldValues"] = a["values"]!.map((v) => v + (r() - 0.5) * 0.8)
    a["entropy"] = Array.from({ length: B * T }, () => 3 * r())
    const lengths = [5, 3, 1]
    a["mask"] = Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)]! ? 1 : 0))
    const ratioOk = a["logprobs"]!.every((lp, i) => Math.abs(Math.abs(Math.exp(lp - a["oldLogprobs"]![i]!) - 1) - clip) > 5 * H * 3)
    const valueOk = a["values"]!.every((v, i) => Math.abs(Math.abs(v - a["oldValues"]![i]!) - clipValue) > 5 * H)
    const valueTieOk = a["values"]!.every((v, i) => Math.abs(Math.abs(v - a["returns"]![i]!) - Math.abs(a["oldValues"]![i]! + Math.max(-clipValue, Math.min(clipValue, v - a["oldValues"]![i]!)) - a["returns"]![i]!)) > 1e-3 || Math.abs(v - a["oldValues"]![i]!) <= clipValue)
    if (ratioOk && valueOk && valueTieOk) return a
  }
}

const feedsOf = (a: Arrays): Feeds => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v]))

const lossAt = (p: Program, a: Arrays) => interpret(p, feedsOf(a))["loss"]!.data[0]!

const finiteDifference = (p: Program, a: Arrays, name: string): Float64Array => {
  const out = new Float64Array(B * T)
  for (let i = 0; i < B * T; i++) {
    const at = (d: number) => lossAt(p, { ...a, [name]: a[name]!.map((v, j) => (j === i ? v + d : v)) })
    out[i] = (at(H) - at(-H)) / (2 * H)
  }
  return out
}

/** Masked mean of a per-token function over the batch, in plain JS. */
const tokenMean = (a: Arrays, f: (i: number) => number) => {
  let s = 0
  let n = 0
  for (let i = 0; i < B * T; i++) if (a["mask"]![i] === 1) (s += f(i)), n++
  return s / n
}
const sequenceMean = (a: Arrays, f: (i: number) => number) => {
  let total = 0
  for (let b = 0; b < B; b++) {
    let s = 0
    let n = 0
    for (let t = 0; t < T; t++) if (a["mask"]![b * T + t] === 1) (s += f(b * T + t)), n++
    total += s / Math.max(n, 1)
  }
  return total / B
}
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))

describe("PPO objective", () => {
  const params = { clip: 0.2, clipValue: 0.2, valueCoef: 0.1, entropyCoef: 0.01 }
  const objective = ppoObjective(params)
  const p = program(objective as Objective<string>, true, true)
  const a = sample(11, ["logprobs", "values", "returns", "advantages"], params.clip, params.clipValue)

  it("loss and metrics equal the formulas of TRL's PPOTrainer.loss (+ entropy bonus)", () => {
    const ratio = (i: number) => Math.exp(a["logprobs"]![i]! - a["oldLogprobs"]![i]!)
    const pg1 = (i: number) => -a["advantages"]![i]! * ratio(i)
    const pg2 = (i: number) => -a["advantages"]![i]! * clamp(ratio(i), 0.8, 1.2)
    const vClipped = (i: number) => clamp(a["values"]![i]!, a["oldValues"]![i]! - 0.2, a["oldValues"]![i]! + 0.2)
    const vf1 = (i: number) => (a["values"]![i]! - a["returns"]![i]!) ** 2
    const vf2 = (i: number) => (vClipped(i) - a["returns"]![i]!) ** 2
    const pgLoss = tokenMean(a, (i) => Math.max(pg1(i), pg2(i)))
    const vfLoss = 0.5 * tokenMean(a, (i) => Math.max(vf1(i), vf2(i)))
    const entropy = tokenMean(a, (i) => a["entropy"]![i]!)
    const out = interpret(p, feedsOf(a))
    expect(out["loss"]!.data[0]).toBeCloseTo(pgLoss + 0.1 * vfLoss - 0.01 * entropy, 12)
    expect(out["policy_loss"]!.data[0]).toBeCloseTo(pgLoss, 12)
    expect(out["value_loss"]!.data[0]).toBeCloseTo(vfLoss, 12)
    expect(out["entropy"]!.data[0]).toBeCloseTo(entropy, 12)
    const clipFraction = tokenMean(a, (i) => (pg2(i) > pg1(i) ? 1 : 0))
    expect(clipFraction).toBeGreaterThan(0) // the sample exercises both branches
    expect(clipFraction).toBeLessThan(1)
    expect(out["clip_fraction"]!.data[0]).toBeCloseTo(clipFraction, 12)
    expect(out["value_clip_fraction"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => (vf2(i) > vf1(i) ? 1 : 0)), 12)
    expect(out["approx_kl"]!.data[0]).toBeCloseTo(0.5 * tokenMean(a, (i) => (a["logprobs"]![i]! - a["oldLogprobs"]![i]!) ** 2), 12)
  })

  it("gradient w.r.t. logprobs, values and entropy matches finite differences; masked tokens get none", () => {
    const withGrads = grad(p, "loss", ["logprobs", "values", "entropy"])
    const analytic = interpret(withGrads, feedsOf(a))
    for (const name of ["logprobs", "values", "entropy"]) {
      const g = analytic[gradName(name)]!.data
      expect(relativeError(g, finiteDifference(p, a, name)), name).toBeLessThan(1e-6)
      a["mask"]!.forEach((m, i) => { if (m === 0) expect(Math.abs(g[i]!), `${name}[${i}] masked`).toBe(0) })
      expect(g.some((v) => v !== 0), `${name} has a gradient`).toBe(true)
    }
  })

  it("reads the entropy head only when the bonus is on; ids differ by constants", () => {
    expect(ppoObjective({ ...params, entropyCoef: 0 }).heads).toEqual(["values"])
    expect(objective.heads).toEqual(["values", "entropy"])
    expect(ppoObjective({ ...params, clip: 0.3 }).id).not.toBe(objective.id)
    expect(ppoObjective({ ...params, ratioThreshold: 10 }).id).not.toBe(objective.id)
    expect(ppoObjective({ ...params, ratioThreshold: 10 }).id).not.toBe(ppoObjective({ ...params, ratioThreshold: 5 }).id)
  })

  it("ratio threshold (TRL ratio_threshold): a mean ratio above it zeroes the loss and every gradient, at or below it changes nothing; policy_kl = mean(old − new)", () => {
    const meanRatio = tokenMean(a, (i) => Math.exp(a["logprobs"]![i]! - a["oldLogprobs"]![i]!))
    const gated = (threshold: number) => program(ppoObjective({ ...params, ratioThreshold: threshold }) as Objective<string>, true, true)
    const ungated = interpret(p, feedsOf(a))
    const ungradded = interpret(grad(p, "loss", ["logprobs", "values", "entropy"]), feedsOf(a))
    for (const [threshold, skipped] of [[meanRatio * (1 + 1e-9), false], [meanRatio * (1 - 1e-9), true], [10, false]] as const) {
      const q = gated(threshold)
      const out = interpret(q, feedsOf(a))
      const grads = interpret(grad(q, "loss", ["logprobs", "values", "entropy"]), feedsOf(a))
      expect(out["ratio_skipped"]!.data[0], `threshold ${threshold}`).toBe(skipped ? 1 : 0)
      expect(out["loss"]!.data[0]).toBe(skipped ? 0 : ungated["loss"]!.data[0])
      // The metrics report the losses before the gate.
      expect(out["policy_loss"]!.data[0]).toBe(ungated["policy_loss"]!.data[0])
      for (const name of ["logprobs", "values", "entropy"]) {
        const g = Array.from(grads[gradName(name)]!.data)
        if (skipped) expect(g.every((v) => v === 0), name).toBe(true)
        else expect(g).toEqual(Array.from(ungradded[gradName(name)]!.data))
      }
    }
    expect(ungated["ratio_skipped"]).toBeUndefined() // no threshold, no gate
    expect(ungated["policy_kl"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => a["oldLogprobs"]![i]! - a["logprobs"]![i]!), 12)
  })
})

describe("group objective (GRPO / RLOO) with k3 KL to the reference", () => {
  /** Dr. GRPO's reduction: the masked sum over (sequences × a constant length). */
  const LENGTH = 7
  const constantMean = (a: Arrays, f: (i: number) => number) => {
    let total = 0
    for (let i = 0; i < B * T; i++) if (a["mask"]![i] === 1) total += f(i)
    return total / (B * LENGTH)
  }
  const reducers = { sequence: sequenceMean, token: tokenMean, constant: constantMean }
  for (const aggregation of ["sequence", "token", "constant"] as const) {
    const params = { clip: 0.2, beta: 0.04, aggregation, constantLength: LENGTH }
    const objective = groupObjective(params)
    const p = program(objective as Objective<string>, false, false)
    const a = sample(23, ["logprobs", "advantages", "values", "returns"], params.clip, 10)

    it(`${aggregation} aggregation: loss, KL and clip fraction equal the formulas`, () => {
      const ratio = (i: number) => Math.exp(a["logprobs"]![i]! - a["oldLogprobs"]![i]!)
      const k3 = (i: number) => {
        const d = a["refLogprobs"]![i]! - a["logprobs"]![i]!
        return Math.exp(d) - d - 1
      }
      const perToken = (i: number) => -Math.min(ratio(i) * a["advantages"]![i]!, clamp(ratio(i), 0.8, 1.2) * a["advantages"]![i]!) + 0.04 * k3(i)
      const reduce = reducers[aggregation]
      const out = interpret(p, feedsOf(a))
      expect(out["loss"]!.data[0]).toBeCloseTo(reduce(a, perToken), 12)
      expect(out["kl"]!.data[0]).toBeCloseTo(tokenMean(a, k3), 12)
      const clipped = tokenMean(a, (i) => (ratio(i) * a["advantages"]![i]! > clamp(ratio(i), 0.8, 1.2) * a["advantages"]![i]! ? 1 : 0))
      expect(clipped).toBeGreaterThan(0)
      expect(out["clip_fraction"]!.data[0]).toBeCloseTo(clipped, 12)
    })

    it(`${aggregation} aggregation: gradient w.r.t. logprobs matches finite differences`, () => {
      const analytic = interpret(grad(p, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
      expect(relativeError(analytic, finiteDifference(p, a, "logprobs"))).toBeLessThan(1e-6)
      a["mask"]!.forEach((m, i) => { if (m === 0) expect(Math.abs(analytic[i]!)).toBe(0) })
    })
  }

  it("clipHigh (DAPO's clip-higher, TRL epsilon_high): the ratio is clipped to [1 − ε, 1 + ε_high]; loss, clip fraction and gradient", () => {
    const params = { clip: 0.2, clipHigh: 0.28, beta: 0.04, aggregation: "token" as const }
    const q = program(groupObjective(params) as Objective<string>, false, false)
    // A sample with no ratio within 15·H of either kink (1 ± 0.2 and 1.28), and a token with a positive advantage and a ratio in (1.2, 1.28).
    let a: Arrays = {}
    for (let seed = 31; ; seed++) {
      a = sample(seed, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
      const ratios = a["logprobs"]!.map((lp, i) => Math.exp(lp - a["oldLogprobs"]![i]!))
      if (ratios.every((r) => Math.abs(r - 1.28) > 15 * H) && ratios.some((r, i) => r > 1.2 && r < 1.28 && a["advantages"]![i]! > 0 && a["mask"]![i] === 1)) break
    }
    const ratio = (i: number) => Math.exp(a["logprobs"]![i]! - a["oldLogprobs"]![i]!)
    const k3 = (i: number) => {
      const d = a["refLogprobs"]![i]! - a["logprobs"]![i]!
      return Math.exp(d) - d - 1
    }
    const clippedOf = (i: number) => clamp(ratio(i), 0.8, 1.28) * a["advantages"]![i]!
    const out = interpret(q, feedsOf(a))
    expect(out["loss"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => -Math.min(ratio(i) * a["advantages"]![i]!, clippedOf(i)) + 0.04 * k3(i)), 12)
    expect(out["clip_fraction"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => (ratio(i) * a["advantages"]![i]! > clippedOf(i) ? 1 : 0)), 12)
    // It differs from the symmetric clip on this sample (a ratio in (1.2, 1.28) with a positive advantage is clipped only there).
    const symmetric = interpret(program(groupObjective({ ...params, clipHigh: undefined }) as Objective<string>, false, false), feedsOf(a))
    expect(out["loss"]!.data[0]).not.toBeCloseTo(symmetric["loss"]!.data[0]!, 6)
    const analytic = interpret(grad(q, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
    expect(relativeError(analytic, finiteDifference(q, a, "logprobs"))).toBeLessThan(1e-6)
    expect(groupObjective(params).id).not.toBe(groupObjective({ ...params, clipHigh: 0.3 }).id)
  })

  it("maskTruncated (TRL mask_truncated_completions): a keep feed multiplies the mask — the loss, metrics and gradient of the kept rows alone", () => {
    const a = sample(41, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
    // Row 1 is "truncated": its tokens are dropped; rows 0 and 2 are kept.
    const keep = Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 1 ? 0 : 1))
    for (const aggregation of ["sequence", "token", "constant"] as const) {
      const params = { clip: 0.2, beta: 0.04, aggregation, constantLength: LENGTH }
      const masked = groupObjective({ ...params, maskTruncated: true })
      expect(masked.feeds).toContain("keep")
      const q = program(masked as Objective<string>, false, false)
      const out = interpret(q, feedsOf({ ...a, keep }))
      // The reference: the plain objective on the mask with row 1 cleared.
      const reference = interpret(program(groupObjective(params) as Objective<string>, false, false), feedsOf({ ...a, mask: a["mask"]!.map((m, i) => m * keep[i]!) }))
      for (const name of ["loss", "policy_loss", "clip_fraction", "approx_kl", "kl"]) expect(out[name]!.data[0], `${aggregation} ${name}`).toBeCloseTo(reference[name]!.data[0]!, 14)
      const g = interpret(grad(q, "loss", ["logprobs"]), feedsOf({ ...a, keep }))[gradName("logprobs")]!.data
      g.forEach((v, i) => { if (keep[i] === 0) expect(v).toBe(0) })
      expect(g.some((v, i) => keep[i] === 1 && v !== 0)).toBe(true)
    }
    expect(groupObjective({ clip: 0.2, beta: 0, aggregation: "token" }).feeds).not.toContain("keep")
  })

  it("importanceSampling: sequence (GSPO): one ratio per sequence, e^(mean log ratio over its tokens), clipped whole; loss, clip fraction, gradient", () => {
    const CLIP = 0.05
    const seqRatios = (a: Arrays) => Array.from({ length: B }, (_, b) => {
      let s = 0
      let n = 0
      for (let t = 0; t < T; t++) if (a["mask"]![b * T + t] === 1) (s += a["logprobs"]![b * T + t]! - a["oldLogprobs"]![b * T + t]!), n++
      return Math.exp(s / Math.max(n, 1))
    })
    // A sample whose sequence ratios keep away from the clip's kinks, one of them clipped.
    let a: Arrays = {}
    for (let seed = 51; ; seed++) {
      a = sample(seed, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
      const r = seqRatios(a)
      if (r.every((x) => Math.abs(Math.abs(x - 1) - CLIP) > 1e-3) && r.some((x) => Math.abs(x - 1) > CLIP)) break
    }
    const ratios = seqRatios(a)
    const k3 = (i: number) => {
      const d = a["refLogprobs"]![i]! - a["logprobs"]![i]!
      return Math.exp(d) - d - 1
    }
    for (const aggregation of ["sequence", "token"] as const) {
      const q = program(groupObjective({ clip: CLIP, beta: 0.04, aggregation, importanceSampling: "sequence" }) as Objective<string>, false, false)
      const rho = (i: number) => ratios[Math.floor(i / T)]!
      const perToken = (i: number) => -Math.min(rho(i) * a["advantages"]![i]!, clamp(rho(i), 1 - CLIP, 1 + CLIP) * a["advantages"]![i]!) + 0.04 * k3(i)
      const out = interpret(q, feedsOf(a))
      expect(out["loss"]!.data[0], aggregation).toBeCloseTo(reducers[aggregation](a, perToken), 12)
      expect(out["clip_fraction"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => (rho(i) * a["advantages"]![i]! > clamp(rho(i), 1 - CLIP, 1 + CLIP) * a["advantages"]![i]! ? 1 : 0)), 12)
      const analytic = interpret(grad(q, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
      expect(relativeError(analytic, finiteDifference(q, a, "logprobs")), aggregation).toBeLessThan(1e-6)
      a["mask"]!.forEach((m, i) => { if (m === 0) expect(Math.abs(analytic[i]!)).toBe(0) })
    }
    expect(groupObjective({ clip: CLIP, beta: 0, aggregation: "token", importanceSampling: "sequence" }).id).toContain("importance=sequence")
  })

  /** k3 and the ratio of element i of a sample. */
  const k3Of = (a: Arrays) => (i: number) => {
    const d = a["refLogprobs"]![i]! - a["logprobs"]![i]!
    return Math.exp(d) - d - 1
  }
  const ratioOf = (a: Arrays) => (i: number) => Math.exp(a["logprobs"]![i]! - a["oldLogprobs"]![i]!)
  /** A sample whose ratios span (0.45, 2.2): the default sample's are within 1 ± 0.5. */
  const wideSample = (seed: number): Arrays => {
    const a = sample(seed, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
    const r = rng(seed + 1000)
    a["oldLogprobs"] = a["logprobs"]!.map((lp) => lp + (r() - 0.5) * 1.6)
    return a
  }
  /** The first wide sample from `seed` on whose ratios `accept` holds. */
  const wideSampleWhere = (seed: number, accept: (ratios: Array<number>, a: Arrays) => boolean): Arrays => {
    for (;; seed++) {
      const a = wideSample(seed)
      if (accept(a["logprobs"]!.map((lp, i) => Math.exp(lp - a["oldLogprobs"]![i]!)), a)) return a
    }
  }
  /** d/dlog π of 0.04·k3 at element i (before the aggregation divides it). */
  const klGradientOf = (a: Arrays) => (i: number) => 0.04 * (1 - Math.exp(a["refLogprobs"]![i]! - a["logprobs"]![i]!))
  const gradientMatches = (q: Program, a: Arrays, label: string) => {
    const analytic = interpret(grad(q, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
    expect(relativeError(analytic, finiteDifference(q, a, "logprobs")), label).toBeLessThan(1e-6)
    a["mask"]!.forEach((m, i) => { if (m === 0) expect(Math.abs(analytic[i]!), label).toBe(0) })
    return analytic
  }

  it("delta (INTELLECT-2's two-sided clipping, TRL delta): the unclipped ratio is capped at δ; loss, clip fraction, gradient", () => {
    const DELTA = 1.5
    // A sample with a negative-advantage token whose ratio exceeds δ (only there does δ change anything), away from every kink.
    const a = wideSampleWhere(61, (ratios, s) =>
      ratios.every((x) => Math.abs(x - DELTA) > 1e-3 && Math.abs(x - 0.8) > 1e-3 && Math.abs(x - 1.2) > 1e-3) &&
      ratios.some((x, i) => x > DELTA && s["advantages"]![i]! < 0 && s["mask"]![i] === 1))
    const ratio = ratioOf(a)
    const k3 = k3Of(a)
    const unclipped = (i: number) => Math.min(ratio(i), DELTA) * a["advantages"]![i]!
    const clippedOf = (i: number) => clamp(ratio(i), 0.8, 1.2) * a["advantages"]![i]!
    for (const aggregation of ["sequence", "token"] as const) {
      const params = { clip: 0.2, beta: 0.04, aggregation, delta: DELTA }
      const q = program(groupObjective(params) as Objective<string>, false, false)
      const out = interpret(q, feedsOf(a))
      expect(out["loss"]!.data[0], aggregation).toBeCloseTo(reducers[aggregation](a, (i) => -Math.min(unclipped(i), clippedOf(i)) + 0.04 * k3(i)), 12)
      expect(out["clip_fraction"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => (unclipped(i) > clippedOf(i) ? 1 : 0)), 12)
      const plain = interpret(program(groupObjective({ ...params, delta: undefined }) as Objective<string>, false, false), feedsOf(a))
      expect(out["loss"]!.data[0], "δ changes the loss on this sample").not.toBeCloseTo(plain["loss"]!.data[0]!, 6)
      const g = gradientMatches(q, a, aggregation)
      // A capped token (ratio > δ, advantage < 0) gets only the KL's gradient: −min(δ·A, 1.2·A) = −δ·A is constant.
      // The KL's gradient is divided by the aggregation's token count.
      const tokens = (i: number) => (aggregation === "token" ? a["mask"]!.filter((x) => x === 1).length : B * a["mask"]!.slice(Math.floor(i / T) * T, Math.floor(i / T) * T + T).filter((x) => x === 1).length)
      const klGradient = (i: number) => klGradientOf(a)(i) / tokens(i)
      const capped = a["mask"]!.flatMap((m, i) => (m === 1 && ratio(i) > DELTA && a["advantages"]![i]! < 0 ? [i] : []))
      expect(capped.length).toBeGreaterThan(0)
      for (const i of capped) expect(g[i]!).toBeCloseTo(klGradient(i), 12)
    }
    expect(groupObjective({ clip: 0.2, beta: 0, aggregation: "token", delta: DELTA }).id).toContain(",delta=1.5")
    expect(() => groupObjective({ clip: 0.2, beta: 0, aggregation: "token", delta: 1 })).toThrow(/delta must be > 1/)
    expect(() => groupObjective({ clip: 0.2, beta: 0, aggregation: "token", delta: 2, policyLoss: "cispo" })).toThrow(/delta applies to the clipped/)
  })

  it("policyLoss cispo (MiniMax-M1, TRL cispo): −sg(min(ρ, ε_max))·A·log π; its gradient is −min(ρ, ε_max)·A per token (the weight detached)", () => {
    const MAX = 1.3
    const a = wideSampleWhere(71, (ratios, s) => ratios.every((x) => Math.abs(x - MAX) > 1e-3) && ratios.some((x, i) => x > MAX && s["advantages"]![i]! > 0 && s["mask"]![i] === 1))
    const ratio = ratioOf(a)
    const k3 = k3Of(a)
    const weight = (i: number) => Math.min(ratio(i), MAX)
    for (const aggregation of ["token", "constant"] as const) {
      const q = program(groupObjective({ clip: 0.2, beta: 0.04, aggregation, constantLength: LENGTH, policyLoss: "cispo", cispoMax: MAX }) as Objective<string>, false, false)
      const out = interpret(q, feedsOf(a))
      expect(out["loss"]!.data[0], aggregation).toBeCloseTo(reducers[aggregation](a, (i) => -weight(i) * a["advantages"]![i]! * a["logprobs"]![i]! + 0.04 * k3(i)), 12)
      // TRL's cispo_clip_ratio: the weight was capped and the advantage is positive.
      expect(out["clip_fraction"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => (ratio(i) > MAX && a["advantages"]![i]! > 0 ? 1 : 0)), 12)
      expect(out["clip_fraction"]!.data[0]).toBeGreaterThan(0)
      // The weight is detached: the analytic gradient is the formula's, not the finite difference of the whole loss (which moves the weight too).
      const analytic = interpret(grad(q, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
      const n = aggregation === "token" ? a["mask"]!.filter((x) => x === 1).length : B * LENGTH
      analytic.forEach((v, i) => expect(v, `${aggregation} ${i}`).toBeCloseTo(a["mask"]![i] === 1 ? (-weight(i) * a["advantages"]![i]! + klGradientOf(a)(i)) / n : 0, 12))
    }
    expect(groupObjective({ clip: 0.2, beta: 0, aggregation: "token", policyLoss: "cispo" }).id).toContain(",policyLoss=cispo,cispoMax=5")
  })

  it("policyLoss sapo (TRL sapo): −σ(τ(ρ − 1))·(4/τ)·A, τ by the advantage's sign; loss, gradient; on-policy it is the plain policy gradient", () => {
    const TAU = { positive: 1.5, negative: 2.5 }
    const a = wideSample(81)
    const ratio = ratioOf(a)
    const k3 = k3Of(a)
    const gate = (i: number) => {
      const tau = a["advantages"]![i]! > 0 ? TAU.positive : TAU.negative
      return (4 / tau) / (1 + Math.exp(-tau * (ratio(i) - 1)))
    }
    const params = { clip: 0.2, beta: 0.04, aggregation: "sequence" as const, policyLoss: "sapo" as const, sapoTemperature: TAU }
    const q = program(groupObjective(params) as Objective<string>, false, false)
    const out = interpret(q, feedsOf(a))
    expect(out["loss"]!.data[0]).toBeCloseTo(sequenceMean(a, (i) => -gate(i) * a["advantages"]![i]! + 0.04 * k3(i)), 12)
    expect(out["clip_fraction"], "sapo clips nothing: no clip fraction").toBeUndefined()
    gradientMatches(q, a, "sapo")
    // At ρ = 1 the gate's slope is 1: the same gradient as the clipped objective (REINFORCE with a baseline).
    const onPolicy = { ...a, oldLogprobs: [...a["logprobs"]!] }
    const sapoGrad = interpret(grad(q, "loss", ["logprobs"]), feedsOf(onPolicy))[gradName("logprobs")]!.data
    const clipGrad = interpret(grad(program(groupObjective({ clip: 0.2, beta: 0.04, aggregation: "sequence" }) as Objective<string>, false, false), "loss", ["logprobs"]), feedsOf(onPolicy))[gradName("logprobs")]!.data
    sapoGrad.forEach((v, i) => expect(v).toBeCloseTo(clipGrad[i]!, 12))
    expect(groupObjective(params).id).toContain(",policyLoss=sapo,sapoTemperature=1.5/2.5")
  })

  it("highEntropy (TRL top_entropy_quantile): the feed multiplies the policy term only — the KL stays on every token and the denominators keep every token; entropyCoef subtracts c × the mean entropy of the kept tokens", () => {
    const a = sample(91, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
    const highEntropy = Array.from({ length: B * T }, (_, i) => (i % 3 === 0 ? 1 : 0))
    const ratio = ratioOf(a)
    const k3 = k3Of(a)
    const surrogate = (i: number) => -Math.min(ratio(i) * a["advantages"]![i]!, clamp(ratio(i), 0.8, 1.2) * a["advantages"]![i]!)
    const C = 0.03
    for (const aggregation of ["sequence", "token"] as const) {
      const objective = groupObjective({ clip: 0.2, beta: 0.04, aggregation, highEntropy: true, entropyCoef: C })
      expect(objective.feeds).toContain("highEntropy")
      expect(objective.heads).toEqual(["entropy"])
      const q = program(objective as Objective<string>, false, true)
      const feeds = { ...a, highEntropy }
      const out = interpret(q, feedsOf(feeds))
      const keptEntropy = tokenMean({ ...a, mask: a["mask"]!.map((m, i) => m * highEntropy[i]!) }, (i) => a["entropy"]![i]!)
      expect(out["loss"]!.data[0], aggregation).toBeCloseTo(reducers[aggregation](a, (i) => highEntropy[i]! * surrogate(i) + 0.04 * k3(i)) - C * keptEntropy, 12)
      expect(out["policy_loss"]!.data[0]).toBeCloseTo(reducers[aggregation](a, (i) => highEntropy[i]! * surrogate(i)), 12)
      const g = interpret(grad(q, "loss", ["logprobs", "entropy"]), feedsOf(feeds))
      // Dropped tokens get the KL's gradient alone; the entropy's gradient is −c/n on the kept tokens, 0 elsewhere.
      const kept = a["mask"]!.filter((m, i) => m === 1 && highEntropy[i] === 1).length
      g[gradName("entropy")]!.data.forEach((v, i) => expect(v).toBeCloseTo(a["mask"]![i] === 1 && highEntropy[i] === 1 ? -C / kept : 0, 12))
      const klOnly = interpret(grad(program(groupObjective({ clip: 0.2, beta: 0.04, aggregation, highEntropy: true }) as Objective<string>, false, false), "loss", ["logprobs"]), feedsOf({ ...feeds, advantages: a["advantages"]!.map(() => 0) }))[gradName("logprobs")]!.data
      g[gradName("logprobs")]!.data.forEach((v, i) => { if (highEntropy[i] === 0) expect(v, `dropped token ${i}`).toBeCloseTo(klOnly[i]!, 12) })
      const withoutBonus = program(groupObjective({ clip: 0.2, beta: 0.04, aggregation, highEntropy: true }) as Objective<string>, false, false)
      gradientMatches(withoutBonus, feeds, `${aggregation} highEntropy`)
    }
    expect(groupObjective({ clip: 0.2, beta: 0, aggregation: "token" }).heads).toEqual([])
  })

  it("offPolicyMask (DeepSeek-V3.2's off-policy sequence mask, TRL off_policy_mask_threshold): a negative-advantage sequence whose mean log π_old − log π exceeds δ loses its policy term, the KL stays; biasCorrectedKl multiplies k3 by ρ", () => {
    const a = wideSample(101)
    // Advantages per sequence (the trainer feeds one per sequence on every token): row 0 negative, row 1 positive, row 2 negative.
    const rowAdvantage = [-0.7, 0.4, -0.3]
    a["advantages"] = a["advantages"]!.map((_, i) => rowAdvantage[Math.floor(i / T)]!)
    const drift = Array.from({ length: B }, (_, b) => {
      let s = 0
      let n = 0
      for (let t = 0; t < T; t++) if (a["mask"]![b * T + t] === 1) (s += a["oldLogprobs"]![b * T + t]! - a["logprobs"]![b * T + t]!), n++
      return s / Math.max(n, 1)
    })
    // δ between the two negative rows' drifts (so one of them is dropped), away from both.
    const [lo, hi] = [Math.min(drift[0]!, drift[2]!), Math.max(drift[0]!, drift[2]!)]
    expect(hi - lo).toBeGreaterThan(0.05)
    const delta = (lo + hi) / 2
    const keep = (i: number) => { const b = Math.floor(i / T); return rowAdvantage[b]! >= 0 || drift[b]! <= delta ? 1 : 0 }
    expect([0, 1, 2].map((b) => keep(b * T))).toContain(0)
    const ratio = ratioOf(a)
    const k3 = k3Of(a)
    const surrogate = (i: number) => -Math.min(ratio(i) * a["advantages"]![i]!, clamp(ratio(i), 0.8, 1.2) * a["advantages"]![i]!)
    const q = program(groupObjective({ clip: 0.2, beta: 0.04, aggregation: "token", offPolicyMask: delta, biasCorrectedKl: true }) as Objective<string>, false, false)
    const out = interpret(q, feedsOf(a))
    expect(out["loss"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => keep(i) * surrogate(i) + 0.04 * k3(i) * ratio(i)), 12)
    expect(out["kl"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => k3(i) * ratio(i)), 12)
    expect(out["off_policy_masked"]!.data[0]).toBeCloseTo(tokenMean(a, (i) => 1 - keep(i)), 12)
    // The mask is a constant of the update (its drift is measured on detached log-probabilities): finite differences hold away from δ.
    gradientMatches(q, a, "offPolicyMask")
    expect(groupObjective({ clip: 0.2, beta: 0.04, aggregation: "token", offPolicyMask: 0.5, biasCorrectedKl: true }).id).toContain(",offPolicyMask=0.5,biasCorrectedKl")
    expect(() => groupObjective({ clip: 0.2, beta: 0, aggregation: "token", offPolicyMask: 0 })).toThrow(/offPolicyMask must be > 0/)
  })

  it("entropyWeight (adaptive entropy control): the bonus's weight is a feed, constant on every token — loss, kept_entropy and its gradient", () => {
    const a = sample(111, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
    const W = 0.07
    const base = interpret(program(groupObjective({ clip: 0.2, beta: 0.04, aggregation: "sequence" }) as Objective<string>, false, false), feedsOf(a))
    const objective = groupObjective({ clip: 0.2, beta: 0.04, aggregation: "sequence", entropyWeight: true })
    expect(objective.feeds).toContain("entropyWeight")
    expect(objective.heads).toEqual(["entropy"])
    const q = program(objective as Objective<string>, false, true)
    const feeds = { ...a, entropyWeight: a["mask"]!.map(() => W) }
    const out = interpret(q, feedsOf(feeds))
    const kept = tokenMean(a, (i) => a["entropy"]![i]!)
    expect(out["kept_entropy"]!.data[0]).toBeCloseTo(kept, 12)
    expect(out["loss"]!.data[0]).toBeCloseTo(base["loss"]!.data[0]! - W * kept, 12)
    const n = a["mask"]!.filter((m) => m === 1).length
    interpret(grad(q, "loss", ["entropy"]), feedsOf(feeds))[gradName("entropy")]!.data.forEach((v, i) => expect(v).toBeCloseTo(a["mask"]![i] === 1 ? -W / n : 0, 12))
    // A zero weight is no bonus at all.
    expect(interpret(q, feedsOf({ ...a, entropyWeight: a["mask"]!.map(() => 0) }))["loss"]!.data[0]).toBeCloseTo(base["loss"]!.data[0]!, 12)
    expect(objective.id).toContain(",entropyWeight")
  })

  it("constant aggregation without a length is refused", () => {
    expect(() => program(groupObjective({ clip: 0.2, beta: 0, aggregation: "constant" }) as Objective<string>, false, false)).toThrow(/constantLength/)
  })

  it("at ρ = 1 and β = 0 the gradient is −A/n per token (REINFORCE with a baseline)", () => {
    const objective = groupObjective({ clip: 0.2, beta: 0, aggregation: "token" })
    expect(objective.feeds).toEqual(["oldLogprobs", "advantages"])
    const p = program(objective as Objective<string>, false, false)
    const a = sample(5, ["logprobs", "advantages", "values", "returns"], 0.2, 10)
    a["oldLogprobs"] = [...a["logprobs"]!]
    const n = a["mask"]!.filter((m) => m === 1).length
    const g = interpret(grad(p, "loss", ["logprobs"]), feedsOf(a))[gradName("logprobs")]!.data
    g.forEach((v, i) => expect(v).toBeCloseTo(a["mask"]![i] === 1 ? -a["advantages"]![i]! / n : 0, 12))
  })
})

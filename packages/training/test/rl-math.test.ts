/**
 * The RL math against hand computations (worked out in the comments, to 6+ digits).
 */
import { describe, expect, it } from "vitest"
import { explainedVariance, flatVariance } from "../src/rl/stats.ts"
import { gae, whiten } from "../src/rl/gae.ts"
import { klEstimate, klShapedRewards, meanSequenceKl } from "../src/rl/kl.ts"
import { updateKlCoefficient } from "../src/rl/kl-controller.ts"
import { initialMoments, runningStd, scaleScores, updateMoments } from "../src/rl/reward-scaling.ts"
import { grpoAdvantages, rlooAdvantages } from "../src/rl/group-baselines.ts"
import { highEntropyMask, quantile } from "../src/rl/entropy-mask.ts"

const close = (got: ReadonlyArray<number>, want: ReadonlyArray<number>, digits = 9) => {
  expect(got.length).toBe(want.length)
  got.forEach((g, i) => expect(g, `entry ${i}`).toBeCloseTo(want[i]!, digits))
}

describe("GAE", () => {
  it("γ = 1, λ = 0.95 (TRL's defaults) on rewards [0, 0, 1], values [0.1, 0.2, 0.3]", () => {
    // δ2 = 1 − 0.3 = 0.7; δ1 = 0.3 − 0.2 = 0.1; δ0 = 0.2 − 0.1 = 0.1
    // A2 = 0.7; A1 = 0.1 + 0.95·0.7 = 0.765; A0 = 0.1 + 0.95·0.765 = 0.82675
    const { advantages, returns } = gae([[0, 0, 1]], [[0.1, 0.2, 0.3]], { gamma: 1, lambda: 0.95 })
    close(advantages[0]!, [0.82675, 0.765, 0.7])
    close(returns[0]!, [0.92675, 0.965, 1.0])
  })

  it("γ = 0.9, λ = 0.5, and ragged sequences are independent", () => {
    // δ2 = 0.7; δ1 = 0.9·0.3 − 0.2 = 0.07; δ0 = 0.9·0.2 − 0.1 = 0.08
    // A2 = 0.7; A1 = 0.07 + 0.45·0.7 = 0.385; A0 = 0.08 + 0.45·0.385 = 0.25325
    const { advantages } = gae([[0, 0, 1], [2]], [[0.1, 0.2, 0.3], [0.5]], { gamma: 0.9, lambda: 0.5 })
    close(advantages[0]!, [0.25325, 0.385, 0.7])
    close(advantages[1]!, [1.5])
  })

  it("λ = 1 gives Monte-Carlo returns (discounted reward-to-go), whatever the values", () => {
    const { returns } = gae([[1, 2, 3]], [[5, -4, 9]], { gamma: 0.5, lambda: 1 })
    close(returns[0]!, [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
  })

  it("rejects values that do not match the rewards", () => {
    expect(() => gae([[1, 2]], [[1]], { gamma: 1, lambda: 1 })).toThrow(/2 rewards but 1 values/)
  })
})

describe("whitening", () => {
  it("[1, 2, 3, 4] → (x − 2.5)/sqrt(5/3) with the unbiased variance, across sequences", () => {
    const w = whiten([[1, 2], [3, 4]])
    close(w.flat(), [-1.161895003862225, -0.3872983346207417, 0.3872983346207417, 1.161895003862225], 7)
  })
  it("shiftMean false keeps the mean", () => {
    close(whiten([[1, 2, 3, 4]], false)[0]!, [2.5 - 1.161895003862225, 2.5 - 0.3872983346207417, 2.5 + 0.3872983346207417, 2.5 + 1.161895003862225], 7)
  })
})

describe("KL estimators", () => {
  it("k1, k2, k3 at log π = −1.2, log π_ref = −1.0 (r = 0.2)", () => {
    expect(klEstimate("k1", -1.2, -1.0)).toBeCloseTo(-0.2, 12)
    expect(klEstimate("k2", -1.2, -1.0)).toBeCloseTo(0.02, 12)
    expect(klEstimate("k3", -1.2, -1.0)).toBeCloseTo(0.0214027581601699, 12) // e^0.2 − 1 − 0.2
  })
  it("k1, k3 are unbiased for KL(π‖π_ref) on a 3-outcome distribution; k3 ≥ 0 everywhere", () => {
    const p = [0.5, 0.3, 0.2]
    const q = [0.2, 0.2, 0.6]
    const exact = p.reduce((a, pi, i) => a + pi * Math.log(pi / q[i]!), 0)
    for (const est of ["k1", "k3"] as const) {
      const expected = p.reduce((a, pi, i) => a + pi * klEstimate(est, Math.log(pi), Math.log(q[i]!)), 0)
      expect(expected, est).toBeCloseTo(exact, 12)
    }
    for (let i = 0; i < 3; i++) expect(klEstimate("k3", Math.log(p[i]!), Math.log(q[i]!))).toBeGreaterThanOrEqual(0)
  })
  it("KL-shaped rewards: −β·KL per token, the score added on the last token", () => {
    // kl = [−1 − (−1.5), 0] = [0.5, 0]; rewards = [−0.05, 0 + 1]
    close(klShapedRewards([1], [[-1, -2]], [[-1.5, -2]], 0.1, "k1")[0]!, [-0.05, 1])
    // k3 at r = −0.5: e^−0.5 − 1 + 0.5 = 0.10653065971; second sequence: score 2 on its only token
    const shaped = klShapedRewards([0, 2], [[-1, -2], [-3]], [[-1.5, -2], [-3]], 0.5, "k3")
    close(shaped[0]!, [-0.5 * 0.10653065971263342, 0])
    close(shaped[1]!, [2])
    expect(meanSequenceKl("k1", [[-1, -2], [-3]], [[-1.5, -2], [-2]])).toBeCloseTo((0.5 + -1) / 2, 12)
  })
})

describe("KL controllers (Ziegler et al.)", () => {
  const adaptive = { kind: "adaptive", initial: 0.2, target: 6, horizon: 10000 } as const
  it("adaptive: the error is clipped to ±0.2 and scaled by n / horizon", () => {
    expect(updateKlCoefficient(adaptive, 0.2, 12, 256)).toBeCloseTo(0.2 * 1.00512, 12) // e = clip(1) = 0.2
    expect(updateKlCoefficient(adaptive, 0.2, 3, 256)).toBeCloseTo(0.2 * 0.99488, 12) // e = clip(−0.5) = −0.2
    expect(updateKlCoefficient(adaptive, 0.2, 6.6, 256)).toBeCloseTo(0.2 * 1.00256, 12) // e = 0.1
    expect(updateKlCoefficient(adaptive, 0.2, 6, 256)).toBe(0.2)
  })
  it("fixed: never moves", () => {
    expect(updateKlCoefficient({ kind: "fixed", initial: 0.05 }, 0.05, 100, 256)).toBe(0.05)
  })
})

describe("score scaling (TRL's RunningMoments)", () => {
  it("running moments equal the moments of everything seen", () => {
    const m = updateMoments(updateMoments(initialMoments, [1, 2, 3]), [5])
    expect(m.mean).toBeCloseTo(2.75, 12)
    expect(m.variance).toBeCloseTo(8.75 / 4, 12) // population variance of [1, 2, 3, 5]
    expect(runningStd(m)).toBeCloseTo(Math.sqrt(8.75 / 3), 12)
  })
  it("scale divides by the running std (1 after [1, 2, 3]); normalize also centres; clip bounds", () => {
    close(scaleScores([1, 2, 3], initialMoments, { scale: true, normalize: false }).scores, [1, 2, 3], 9)
    close(scaleScores([1, 2, 3], initialMoments, { scale: true, normalize: true }).scores, [-1, 0, 1], 9)
    close(scaleScores([-7, 0.5, 9], initialMoments, { scale: false, normalize: false, clip: 2 }).scores, [-2, 0.5, 2])
    expect(scaleScores([4], initialMoments, { scale: false, normalize: false }).moments).toBe(initialMoments)
  })
})

describe("group baselines", () => {
  it("GRPO: (r − mean)/(unbiased std + 1e-4) per group", () => {
    // group [1, 0, 0, 0]: mean 0.25, std sqrt(0.75/3) = 0.5
    close(grpoAdvantages([1, 0, 0, 0, 2, 4, 2, 4], 4), [0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -1 / (Math.sqrt(4 / 3) + 1e-4), 1 / (Math.sqrt(4 / 3) + 1e-4), -1 / (Math.sqrt(4 / 3) + 1e-4), 1 / (Math.sqrt(4 / 3) + 1e-4)])
    close(grpoAdvantages([1, 0, 0, 0], 4, { scale: "none" }), [0.75, -0.25, -0.25, -0.25])
    close(grpoAdvantages([3, 3], 2), [0, 0])
  })
  it("GRPO scale batch (TRL scale_rewards batch, PPO Lite): centred on the group's mean, divided by the unbiased std of the whole batch", () => {
    // batch mean 13/8; Σ (r − 13/8)² = 19.875 over 8 rewards
    const s = Math.sqrt(19.875 / 7) + 1e-4
    close(grpoAdvantages([1, 0, 0, 0, 2, 4, 2, 4], 4, { scale: "batch" }), [0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s, -1 / s, 1 / s, -1 / s, 1 / s])
    // A group whose rewards are equal stays at 0 even though the batch's std is not.
    close(grpoAdvantages([5, 5, 0, 1], 2, { scale: "batch" }).slice(0, 2), [0, 0])
  })
  it("RLOO: r_i minus the mean of the others", () => {
    close(rlooAdvantages([1, 0, 0, 1], 2), [1, -1, -1, 1])
    close(rlooAdvantages([3, 0, 6], 3), [0, -4.5, 4.5])
  })
  it("rejects ragged groups and k < 2 for RLOO", () => {
    expect(() => grpoAdvantages([1, 2, 3], 2)).toThrow(/groups of 2/)
    expect(() => rlooAdvantages([1, 2], 1)).toThrow(/at least 2/)
  })
})

describe("high-entropy token mask (TRL top_entropy_quantile)", () => {
  it("quantile interpolates linearly between order statistics (numpy's and torch's default)", () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5)
    expect(quantile([5, 1, 4, 2, 3], 0.25)).toBe(2)
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1, 15)
    expect(quantile([7], 0.3)).toBe(7)
    expect(() => quantile([], 0.5)).toThrow(/no values/)
  })
  it("keeps the valid tokens at or above the (1 − ρ) quantile of the valid ones; invalid tokens never", () => {
    const entropies = [[0.1, 2, 0.5, 9], [3, 0.7]]
    const valid = [[1, 1, 1, 0], [1, 1]]
    // valid entropies 0.1 0.5 0.7 2 3: the 0.5 quantile is 0.7, the 0.8 quantile 2.2
    expect(highEntropyMask(entropies, valid, 0.5)).toEqual([[0, 1, 0, 0], [1, 1]])
    expect(highEntropyMask(entropies, valid, 0.2)).toEqual([[0, 0, 0, 0], [1, 0]])
    expect(highEntropyMask(entropies, valid, 1)).toEqual(valid)
    expect(highEntropyMask(entropies, valid, 0)).toEqual([[0, 0, 0, 0], [1, 0]])
    expect(highEntropyMask([[1, 1, 1]], [[1, 1, 1]], 0.1), "ties at the threshold are kept").toEqual([[1, 1, 1]])
    expect(highEntropyMask([[1, 2]], [[0, 0]], 0.5)).toEqual([[0, 0]])
    expect(() => highEntropyMask([[1]], [[1]], 1.5)).toThrow(/\[0, 1\]/)
  })
})

describe("explained variance", () => {
  it("1 for perfect values, 0 for a constant, 0.75 for half-way values", () => {
    expect(explainedVariance([[1, 2, 3]], [[1, 2, 3]])).toBeCloseTo(1, 12)
    expect(explainedVariance([[2, 2, 2]], [[1, 2, 3]])).toBeCloseTo(0, 12)
    expect(explainedVariance([[1.5, 2, 2.5]], [[1, 2, 3]])).toBeCloseTo(0.75, 12)
    expect(flatVariance([[1, 2, 3]], false)).toBeCloseTo(2 / 3, 12)
  })
})

/**
 * Learning-rate schedules with linear warmup, as Hugging Face's
 * `get_{cosine,linear,constant}_schedule_with_warmup` (step = updates done
 * before this one, 0-based): warmup lr·s/W, then cosine ½(1+cos πp) or linear
 * (1−p) decay to 0 over the remaining steps, p = (s−W)/(T−W).
 *
 * @example
 * ```ts
 * import { learningRate } from "@refine-af/trainer-sft"
 * learningRate({ lr: 1e-3, warmupSteps: 10, schedule: "cosine" }, 5, 100) // 5e-4
 * ```
 */
export const learningRate = (o: { readonly lr: number; readonly warmupSteps: number; readonly schedule: "cosine" | "linear" | "constant" }, step: number, total: number): number => {
  if (step < o.warmupSteps) return (o.lr * step) / Math.max(1, o.warmupSteps)
  if (o.schedule === "constant") return o.lr
  const progress = (step - o.warmupSteps) / Math.max(1, total - o.warmupSteps)
  return o.schedule === "cosine" ? o.lr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress))) : o.lr * Math.max(0, 1 - progress)
}

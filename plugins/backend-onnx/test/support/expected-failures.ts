/**
 * Known gaps on onnxruntime's CPU provider at float32 vs the float64 reference
 * (tolerance 1e-5), by case id → reason. They must keep failing: a fix shows up
 * as an unexpected pass. Both are float32 rounding, not wrong kernels.
 */
export const cpuExpectedFailures: Readonly<Record<string, string>> = {
  "Expand#3 []->[4]":
    "loss = Σ y·proj nearly cancels here, so float32 rounding of the sum alone gives 3e-5 relative error (the forward case passes)",
  "Pow#9 [1]+[3]":
    "grad/b = Σ a^b·ln(a)·proj chains three float32-rounded ops and a broadcast sum: 1.04e-5 relative error (the forward case passes)"
}

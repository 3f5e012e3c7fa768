import { defineConfig } from "vitest/config"

// Tests that build a tiny model or compile model programs take seconds on the 2-core CI machine.
export default defineConfig({ test: { testTimeout: 120_000, hookTimeout: 120_000 } })

import { defineConfig } from "vitest/config"

// End-to-end tests spawn the CLI several times (tsx start-up is seconds on a
// loaded 2-core machine): generous timeouts, one file at a time.
export default defineConfig({
  test: {
    include: ["e2e/**/*.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false
  }
})

#!/usr/bin/env node
// The `refine-af` binary: registers tsx (TypeScript runs directly, no build
// step), then loads the CLI. Resolution is relative to this file, so it works
// from any working directory.
import { register } from "tsx/esm/api"

register()
await import("../src/main.ts")

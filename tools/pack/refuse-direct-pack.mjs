#!/usr/bin/env node
// `prepack` of every package under packages/: their package.json points at TypeScript sources
// (the repository runs them with tsx, no build step), so a plain `npm pack` / `npm publish` in a
// package folder would ship sources Node cannot import. Published tarballs come from tools/pack.
console.error(
  `npm pack refused: ${process.env.npm_package_name ?? "this package"}'s package.json points at src/*.ts.\n` +
    "Pack the built package instead:  npx tsx tools/pack/pack.ts --out <folder> <packages/name or plugins/name>   (from the repository root)"
)
process.exit(1)

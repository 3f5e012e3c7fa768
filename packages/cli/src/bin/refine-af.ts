#!/usr/bin/env node
/**
 * The installed `refine-af` binary (published as `dist/bin/refine-af.js`; the repository's
 * `bin/refine-af.js` runs the TypeScript sources through tsx instead): plain JavaScript, so
 * start-up compiles nothing.
 */
import "../main.ts"

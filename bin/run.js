#!/usr/bin/env node
// The entry point by its historical name (tests, benches and docs run `bin/run.js`): the CLI
// itself is bin/run.cjs, the `bin` the package installs (CommonJS: it starts faster).
import './run.cjs'

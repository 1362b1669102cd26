#!/usr/bin/env node
// The installed entry point (package.json `bin`). CommonJS on purpose: an ES module entry makes
// Node set up its ES module loader before running anything, ~14 ms of CPU, a fifth of what Node
// costs to start; the package is an ES module package, hence .cjs. bin/run.js (what a checkout
// runs) only imports this file.
//
// The direct path first (dist/bundle/direct.cjs, src/cli/direct.ts): `--version`, the list/show
// commands and `graph --object` without oclif's start-up. It hands back (undefined) whatever it
// does not take exactly as oclif would, and oclif runs that: the commands from the bundle
// `npm run build` makes in dist/bundle/ (bin/bundle.js, src/cli/loader.cts), listed by the
// manifest. TAILCALLS_NO_DIRECT=1 sends everything to oclif (the test that both paths print the
// same, and the build's run that fills oclif's code cache).
'use strict'

// The name `pids` shows for the processes holding our objects (bpftool and `tailcalls prog
// list` read it from /proc/PID/comm), as the seed's loader showed `observer`.
process.title = 'tailcalls'

const argv = process.argv.slice(2)
// The first words of what the direct path may take: nothing else pays for loading it.
const DIRECT_FIRST = ['--version', 'prog', 'map', 'link', 'graph']

async function main() {
  const direct =
    DIRECT_FIRST.includes(argv[0]) && !process.env.TAILCALLS_NO_DIRECT
      ? await require('../dist/bundle/load-direct.cjs').run(argv)
      : undefined
  if (direct === undefined) {
    const {execute} = require('../dist/bundle/load.cjs')
    await execute({dir: require('node:url').pathToFileURL(__filename).href})
  } else {
    process.exitCode = direct
  }
}

main()

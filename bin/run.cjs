#!/usr/bin/env node
// The installed entry point (package.json `bin`): oclif and the commands from the bundle `npm run
// build` makes in dist/bundle/ (bin/bundle.js, src/cli/loader.cts), the commands listed by the
// manifest. CommonJS, not an ES module like the rest of bin/: Node starts an ES module entry
// through its ESM loader, ~10 ms of CPU a short command pays on every run (bin/run.js, the
// entry the tests and benches spawn, loads this file).
'use strict'

// The name `pids` shows for the processes holding our objects (bpftool and `tailcalls prog
// list` read it from /proc/PID/comm), as the seed's loader showed `observer`.
process.title = 'tailcalls'

const argv = process.argv.slice(2)
// `graph … --object FILE.o` (a CI gate, run on every build) goes the direct way, without oclif's
// start-up (src/object/main.ts); it hands back (undefined) whatever it does not take exactly as
// the graph command does, --help included, and oclif runs that.
const objectGraph = argv[0] === 'graph' && argv.some((a) => a === '--object' || a.startsWith('--object='))
if (objectGraph) {
  // A run of a few hundred milliseconds at most: V8's optimising compiler (on its own threads)
  // would spend more CPU compiling the analysis than the compiled code saves before the process
  // ends (a third of the command's CPU on a 1,000-site object). A 15× budget leaves it to the
  // functions that stay hot, which on a large object still get optimised.
  require('node:v8').setFlagsFromString('--interrupt-budget=1000000')
}

async function main() {
  const direct = objectGraph ? await require('../dist/bundle/load-object.cjs').run(argv.slice(1)) : undefined
  if (direct === undefined) {
    const {execute} = require('../dist/bundle/load.cjs')
    await execute({dir: require('node:url').pathToFileURL(__filename).href})
  } else {
    process.exitCode = direct
  }
}

main()

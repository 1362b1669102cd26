#!/usr/bin/env node
// The installed entry point: oclif and the commands from the bundle `npm run build` makes in
// dist/bundle/ (bin/bundle.js, src/cli/loader.ts), the commands listed by the manifest.
import {createRequire} from 'node:module'

// The name `pids` shows for the processes holding our objects (bpftool and `tailcalls prog
// list` read it from /proc/PID/comm), as the seed's loader showed `observer`.
process.title = 'tailcalls'

const {execute} = createRequire(import.meta.url)('../dist/bundle/load.cjs')
await execute({dir: import.meta.url})

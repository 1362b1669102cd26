#!/usr/bin/env node
// The installed entry point: runs the compiled commands in dist/ through the manifest.
import {execute} from '@oclif/core'

// The name `pids` shows for the processes holding our objects (bpftool and `tailcalls prog
// list` read it from /proc/PID/comm), as the seed's loader showed `observer`.
process.title = 'tailcalls'

await execute({dir: import.meta.url})

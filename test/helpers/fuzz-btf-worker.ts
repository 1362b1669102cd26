// Worker side of runFuzzInWorker (fuzz-btf.ts): runs the cases and reports progress.
import assert from 'node:assert/strict'
import {parentPort, workerData} from 'node:worker_threads'

// What runFuzz imports, loaded (compiled by tsx) before the parent's stall clock starts.
import '../../src/btf/btf.js'
import '../../src/btf/describe.js'
import '../../src/render/btf-json.js'
import '../../src/render/parse.js'
import {runFuzz} from './fuzz-btf.js'

const port = parentPort ?? assert.fail('runs as a worker thread')
port.postMessage({loaded: true})
const stats = await runFuzz({...workerData, report: (i: number) => port.postMessage({progress: i})})
port.postMessage({done: stats})

// Worker side of runFuzzInWorker (fuzz-btf.js): runs the cases and reports progress.
import assert from 'node:assert/strict'
import {parentPort, workerData} from 'node:worker_threads'

import {runFuzz} from './fuzz-btf.js'

const port = parentPort ?? assert.fail('runs as a worker thread')
const stats = await runFuzz({...workerData, report: (i: number) => port.postMessage({progress: i})})
port.postMessage({done: stats})

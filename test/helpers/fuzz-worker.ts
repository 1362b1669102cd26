// Worker side of test/helpers/fuzz.ts: runs one range of cases of one target.
import assert from 'node:assert/strict'
import {parentPort, workerData} from 'node:worker_threads'

import {runCases} from './fuzz.js'

const port = parentPort ?? assert.fail('runs as a worker thread')
// Loaded (tsx has compiled this file's imports): the parent starts its per-case watchdog now.
port.postMessage({loaded: true})
port.postMessage(await runCases(workerData))

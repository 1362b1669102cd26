// Worker side of runFuzzInWorker (fuzz-btf.js): runs the cases and reports progress.
import {parentPort, workerData} from 'node:worker_threads'

import {runFuzz} from './fuzz-btf.js'

const stats = await runFuzz({...workerData, report: (i) => parentPort.postMessage({progress: i})})
parentPort.postMessage({done: stats})

// Worker side of test/helpers/fuzz.js: runs one range of cases of one target.
import {parentPort, workerData} from 'node:worker_threads'

import {runCases} from './fuzz.js'

parentPort.postMessage(await runCases(workerData))

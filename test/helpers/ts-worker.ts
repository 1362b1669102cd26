// A worker thread running a TypeScript module. Node does not pass a parent's `--import tsx` on
// to worker threads, so the worker first registers tsx's loader itself, then imports the module.
import {Worker, type WorkerOptions} from 'node:worker_threads'

const TSX_API = import.meta.resolve('tsx/esm/api')

export function tsWorker(module: URL, options: WorkerOptions = {}): Worker {
  const code = `import {register} from ${JSON.stringify(TSX_API)}\nregister()\nawait import(${JSON.stringify(module.href)})\n`
  return new Worker(code, {...options, eval: true})
}

// Run by test/kernel/pids.test.ts inside a new pid namespace (`unshare --pid --fork --mount-proc`):
// starts a pids-worker.ts holder there, builds the pid table both ways for its objects, prints
// {"held", "iter", "proc"} (the holder's own line, and each table's entries for its map and
// program), then lets the holder go and waits for it.
import {spawn} from 'node:child_process'
import {join} from 'node:path'

import {iterPidTables, procPidTables} from '../../src/kernel/pids.js'
import {ROOT} from './cli.js'

const holder = spawn(
  process.execPath,
  ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'pids-worker.ts'), 'tc-pids-ns', process.argv[2]],
  {stdio: ['pipe', 'pipe', 'inherit']},
)
const line = await new Promise<string>((resolve, reject) => {
  holder.stdout.setEncoding('utf8').once('data', resolve)
  holder.once('close', () => reject(new Error('the holder exited')))
})
const held = JSON.parse(line) as {map: number; pid: number; prog: number}
const pick = (t: ReturnType<typeof iterPidTables>) => ({
  map: t.get('map')?.get(held.map),
  prog: t.get('prog')?.get(held.prog),
})
const out = {held, iter: pick(iterPidTables(['prog', 'map'])), proc: pick(procPidTables(['prog', 'map']))}
await new Promise((resolve) => {
  holder.once('close', resolve)
  holder.stdin.end()
})
process.stdout.write(`${JSON.stringify(out)}\n`)

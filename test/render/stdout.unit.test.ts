// stdout through fd 1 (src/render/stdout.ts) when the reader is slow and then goes away: fd 1 is
// a non-blocking socket (what Node gives a child's stdout pipe), so write(2) soon says EAGAIN and
// the rest goes through process.stdout; when the reader then closes, that stream's late EPIPE
// 'error' event must end the output quietly (writeOut resolves false), not kill the process with
// an unhandled 'error' event and a stack trace (seen once from `graph --object … | head` on a
// busy machine, where the reader was slow to read its first chunk).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {test} from 'node:test'

import {ROOT} from '../helpers/cli.js'

const JSON_TS = pathToFileURL(join(ROOT, 'src', 'render', 'json.ts')).href

// 4 MiB: far more than a socket pair holds, so the synchronous writes must stop at EAGAIN. The
// child says so on stderr once writeOut has returned, i.e. once the rest waits in process.stdout.
const CHILD = `
import {writeOut} from ${JSON.stringify(JSON_TS)}
const done = writeOut('x'.repeat(4 << 20))
process.stderr.write('queued\\n')
const ok = await done
process.stderr.write(ok ? 'all written\\n' : 'reader gone\\n')
`

test('a slow reader that goes away: the rest queued in process.stdout ends quietly', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Never read: the pipe fills. Close it once the child has queued the rest.
  child.stdout.pause()
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    if (stderr.includes('queued\n')) child.stdout.destroy()
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.equal(stderr, 'queued\nreader gone\n')
  assert.equal(code, 0)
})

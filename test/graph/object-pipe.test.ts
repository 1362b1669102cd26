// `graph --object … | head`: a reader that goes away after the first bytes ends the command
// quietly, with its usual exit code and nothing on stderr (it used to die of an unhandled 'error'
// event with a stack trace). The object is large enough (100 programs, 1,000 tail-call sites;
// 256 KB of JSON, 340 KB of tree) that the output cannot fit in the pipe before the reader closes.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {compileBpf} from '../helpers/clang.js'
import {BIN} from '../helpers/cli.js'

let dir = ''
let object = ''

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailcalls-object-pipe-'))
  // The shape of bench/graph-object.mjs: program i tail-calls slots i+1 … i+10 of one array.
  const lines = ['#include <linux/types.h>', '#include <linux/bpf.h>', '#include <bpf/bpf_helpers.h>']
  for (let i = 0; i < 100; i++) lines.push(`int b${i}(struct __sk_buff *skb);`)
  const values = Array.from({length: 100}, (_, k) => `[${k}] = (void *)&b${k}`).join(', ')
  lines.push(
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);',
    '\t__uint(max_entries, 128);',
    '\t__type(key, __u32);',
    '\t__array(values, int (void *));',
    `} jt SEC(".maps") = { .values = { ${values} } };`,
  )
  for (let i = 0; i < 100; i++) {
    const calls = Array.from(
      {length: 10},
      (_, j) => `\tif (skb->len == ${j}) bpf_tail_call(skb, &jt, ${(i + j + 1) % 128});`,
    )
    lines.push(`SEC("tc")\nint b${i}(struct __sk_buff *skb)\n{\n${calls.join('\n')}\n\treturn ${i};\n}`)
  }

  lines.push('char LICENSE[] SEC("license") = "GPL";')
  writeFileSync(join(dir, 'many.bpf.c'), `${lines.join('\n')}\n`)
  object = compileBpf(join(dir, 'many.bpf.c'), join(dir, 'many.bpf.o'))
})

after(() => rmSync(dir, {force: true, recursive: true}))

/** Run the CLI and close its stdout after the first chunk, as `| head -c 1` does. */
function cutShort(args: string[]): Promise<{code: number | null; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout.once('data', () => child.stdout.destroy())
    child.on('close', (code) => resolve({code, stderr}))
  })
}

for (const format of ['json', 'tree']) {
  test(`graph --object --format ${format} whose reader goes away: its exit code, nothing on stderr`, async () => {
    const r = await cutShort(['graph', '--object', object, '--format', format])
    // 16: the generated chain is longer than 33 tail calls (an error finding), as in the bench.
    assert.equal(r.code, 16, r.stderr)
    assert.equal(r.stderr, '')
  })
}

// Pure parts of `prog run` and of `map update … value V`: the opts struct layout against libbpf's
// own header, bpftool's hex dump format, the JSON key order, and the value grammar.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'

import {hexDump, reportJson} from '../../src/run/prog-run.js'
import {isDataValue, parseTyped, parseValueArgs} from '../../src/slots/values.js'
import {TEST_RUN_OPTS} from '../../src/sys/layouts.js'

const HEADER = '/usr/include/bpf/bpf.h'

test(
  'TEST_RUN_OPTS is struct bpf_test_run_opts of the installed libbpf',
  {skip: !existsSync(HEADER) && 'no libbpf-dev headers'},
  () => {
    const fields = Object.keys(TEST_RUN_OPTS).filter((k) => k !== 'size')
    const dir = mkdtempSync(join(tmpdir(), 'tailcalls-layout-'))
    try {
      const prints = fields
        .map((f) => `printf(",\\"${f}\\":%zu", offsetof(struct bpf_test_run_opts, ${f}));`)
        .join('\n')
      writeFileSync(
        join(dir, 'l.c'),
        `#include <stdio.h>
#include <stddef.h>
#include <bpf/bpf.h>
int main(void) { printf("{\\"size\\":%zu", sizeof(struct bpf_test_run_opts)); ${prints} printf("}\\n"); return 0; }`,
      )
      execFileSync('gcc', [join(dir, 'l.c'), '-o', join(dir, 'l')])
      assert.deepEqual(JSON.parse(execFileSync(join(dir, 'l'), {encoding: 'utf8'})), {...TEST_RUN_OPTS})
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  },
)

// The expected text is what bpftool 7.1 prints for these bytes (`prog run … data_out -`).
test("hexDump is bpftool's: offset, byte pairs, padding, ASCII split after 8", () => {
  const bytes = Buffer.from([...Buffer.from('ABCDEFGHIJKLMNOP'), 0x00, 0x7f, 0x41])
  assert.equal(
    hexDump(bytes),
    '0000000\t4142 4344 4546 4748 494a 4b4c 4d4e 4f50 | ABCDEFGH IJKLMNOP\n' +
      '0000010\t007f 41                                 | ..A\n',
  )
  assert.equal(hexDump(Buffer.alloc(0)), '')
})

test("the JSON: bpftool's keys first, in its order; output bytes only when written to stdout", () => {
  const base = {
    prog: {id: 1, name: 'p', type: 'xdp'},
    repeat: 1,
    result: {ctxOut: Buffer.from([9]), dataOut: Buffer.from([1, 2]), duration: 10, retval: 3},
    tailCalls: null,
  }
  assert.deepEqual(Object.keys(JSON.parse(reportJson({...base, ctxOut: '-', dataOut: '-'}))), [
    'data_out',
    'ctx_out',
    'retval',
    'duration',
    'data_size_out',
    'ctx_size_out',
    'repeat',
    'prog',
    'tail_calls',
  ])
  const toFile = JSON.parse(reportJson({...base, dataOut: 'out.bin'}))
  assert.equal(toFile.data_out, undefined)
  assert.equal(toFile.data_size_out, 2)
  assert.equal(JSON.parse(reportJson({...base, tailCalls: undefined})).tail_calls, undefined)
})

test('map update … value V: data values, bytes and numbers', () => {
  assert.equal(isDataValue(['pinned', 'x', 'key', '0', 'value', '2']), true)
  assert.equal(isDataValue(['pinned', 'x', 'key', '0', 'value', 'hex', '02']), true)
  assert.equal(isDataValue(['pinned', 'x', 'key', '0', 'value', '99999999999']), true)
  assert.equal(isDataValue(['pinned', 'x', 'key', '0', 'value', 'id', '3']), false, 'bpftool’s value PROG')
  assert.equal(isDataValue(['pinned', 'x', 'key', '0', 'prog', 'id', '3']), false)
  assert.deepEqual(parseTyped(['0x10'], 'value'), {number: 16n})
  assert.deepEqual(parseTyped(['1', '0', '0x2', '0'], 'value'), {bytes: [1, 0, 2, 0]})
  assert.deepEqual(parseTyped(['hex', '0a', 'ff'], 'value'), {bytes: [10, 255]})
  assert.throws(() => parseTyped(['hex', 'zz'], 'value'), /can't parse value byte 'zz'/)
  assert.throws(() => parseTyped(['256', '0'], 'key'), /can't parse key byte '256'/)
  assert.throws(() => parseTyped(['x'], 'key'), /can't parse key 'x'/)
  assert.deepEqual(parseValueArgs(['id', '7', 'key', '0', 'value', '2']), {
    key: {number: 0n},
    map: {by: 'id', id: 7},
    value: {number: 2n},
  })
  assert.throws(() => parseValueArgs(['id', '7', 'value', '2']), /expected MAP \(two words\) then 'key K'/)
})

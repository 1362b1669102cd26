// The committed BPF object matches its source, and the TypeScript layouts match the C header.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {CHAIN_STATS, EVENT, SHARED_STATE} from '../../src/sys/layouts.js'
import {ROOT} from '../helpers/cli.js'

let dir
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailcalls-object-'))
})
after(() => rmSync(dir, {force: true, recursive: true}))

/** The clang major that builds the committed bpf/tailcalls.bpf.o: Debian 12's, as on CI's host. */
const COMMITTED_WITH_CLANG = 14

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, {encoding: 'utf8', maxBuffer: 1 << 26, ...opts})

/** What matters of an object: its programs (section, name, instructions) and its maps (BTF). */
function describeObject(path) {
  const disasm = run('llvm-objdump', ['-d', '--no-show-raw-insn', path])
    .split('\n')
    .filter((l) => !l.includes('file format'))
    .join('\n')
  const btf = run('bpftool', ['btf', 'dump', 'file', path])
  const maps = btf
    .split('\n')
    .filter((l) => /^\[\d+\] (DATASEC '\.maps'|VAR '[A-Z_]+')/.test(l) || /^\s+type_id=\d+ offset=/.test(l))
  const funcs = btf
    .split('\n')
    .filter((l) => / FUNC '/.test(l))
    .map((l) => l.replace(/^\[\d+\] /, '').replace(/type_id=\d+ /, ''))
  return {disasm, funcs, maps}
}

test('the committed object is what the source builds', (t) => {
  let committed
  try {
    committed = execFileSync('git', ['show', 'HEAD:bpf/tailcalls.bpf.o'], {cwd: ROOT, maxBuffer: 1 << 26})
  } catch {
    t.skip('not a git checkout: nothing committed to compare')
    return
  }

  writeFileSync(join(dir, 'committed.bpf.o'), committed)
  run('make', ['-s', '-B', '-C', join(ROOT, 'bpf'), `OUT=${join(dir, 'fresh.bpf.o')}`])
  const a = describeObject(join(dir, 'committed.bpf.o'))
  const b = describeObject(join(dir, 'fresh.bpf.o'))
  assert.deepEqual(a.funcs, b.funcs, 'same programs')
  assert.ok(a.funcs.some((f) => f.startsWith("FUNC 'prog3_v2'")))
  assert.deepEqual(a.maps, b.maps, 'same maps')
  // Another clang allocates registers and orders instructions its own way: Debian 13's clang 19
  // builds the same source into other instructions. Only the clang that builds the committed object
  // can say it is the source's; under any other the programs and maps above are what is compared
  // (and the event layout by the test below). CI's npm test runs with that clang.
  const major = Number(/clang version (\d+)/.exec(run('clang', ['--version']))?.[1])
  if (major !== COMMITTED_WITH_CLANG) {
    t.diagnostic(`clang ${major}, not ${COMMITTED_WITH_CLANG}: instructions not compared with the committed object's`)
    return
  }
  assert.equal(
    a.disasm,
    b.disasm,
    'same instructions (so the same event layout): rebuild with `npm run build:bpf` and commit bpf/tailcalls.bpf.o',
  )
})

test('the working-tree object (what the tests load) is what the source builds', () => {
  run('make', ['-s', '-B', '-C', join(ROOT, 'bpf'), `OUT=${join(dir, 'fresh2.bpf.o')}`])
  const a = describeObject(join(ROOT, 'bpf', 'tailcalls.bpf.o'))
  const b = describeObject(join(dir, 'fresh2.bpf.o'))
  assert.equal(a.disasm, b.disasm)
})

test('src/sys/layouts.ts matches bpf/tailcalls.h', () => {
  const src = `
#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>
#include "tailcalls.h"
int main(void) {
  printf("{\\"event\\":{\\"size\\":%zu,\\"ts_ns\\":%zu,\\"kind\\":%zu,\\"prog\\":%zu,\\"cpu_id\\":%zu,\\"tgid\\":%zu,\\"per_event_count\\":%zu,\\"total_count\\":%zu,\\"slot\\":%zu},",
    sizeof(struct event), offsetof(struct event, ts_ns), offsetof(struct event, kind), offsetof(struct event, prog),
    offsetof(struct event, cpu_id), offsetof(struct event, tgid), offsetof(struct event, per_event_count),
    offsetof(struct event, total_count), offsetof(struct event, slot));
  printf("\\"shared\\":{\\"size\\":%zu,\\"per_event_count\\":%zu,\\"total_count\\":%zu},",
    sizeof(struct SharedState), offsetof(struct SharedState, per_event_count), offsetof(struct SharedState, total_count));
  printf("\\"stats\\":{\\"size\\":%zu,\\"runs\\":%zu,\\"tail_call_failed\\":%zu,\\"ringbuf_drops\\":%zu,\\"progs\\":%d,\\"slots\\":%d}}\\n",
    sizeof(struct chain_stats), offsetof(struct chain_stats, runs), offsetof(struct chain_stats, tail_call_failed),
    offsetof(struct chain_stats, ringbuf_drops), STAGE_PROGS, TAIL_CALL_SLOTS);
  return 0;
}`
  writeFileSync(join(dir, 'layout.c'), src)
  run('cc', ['-I', join(ROOT, 'bpf'), join(dir, 'layout.c'), '-o', join(dir, 'layout')])
  const c = JSON.parse(run(join(dir, 'layout'), []))
  assert.deepEqual(c.event, {...EVENT})
  assert.deepEqual(c.shared, {...SHARED_STATE})
  assert.deepEqual(
    {...c.stats, progs: undefined, slots: undefined},
    {...CHAIN_STATS, progs: undefined, slots: undefined},
  )
  assert.equal(c.stats.progs, 4)
  assert.equal(c.stats.slots, 2)
})

test('the bundled object is the default and is shipped in package.json files', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  // The object only, not its sources (test/package.test.ts checks the packed file list).
  assert.ok(pkg.files.includes('bpf/tailcalls.bpf.o'))
})

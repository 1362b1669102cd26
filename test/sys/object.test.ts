// The committed BPF objects (the chain, bpf/tailcalls.bpf.o, and the pids iterator,
// bpf/pids.bpf.o) match their sources, and the TypeScript layouts match the C headers.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {CHAIN_STATS, EVENT, PIDS_KIND, PIDS_RECORD, SHARED_STATE} from '../../src/sys/layouts.js'
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

/** Build both objects into `dir` (never over the working tree's): fresh<suffix>.bpf.o, pids<suffix>.bpf.o. */
function buildObjects(suffix: string): {chain: string; pids: string} {
  const out = {chain: join(dir, `fresh${suffix}.bpf.o`), pids: join(dir, `pids${suffix}.bpf.o`)}
  run('make', ['-s', '-B', '-C', join(ROOT, 'bpf'), `OUT=${out.chain}`, `PIDS_OUT=${out.pids}`])
  return out
}

const OBJECTS = [
  {file: 'tailcalls.bpf.o', func: "FUNC 'prog3_v2'", key: 'chain'},
  {file: 'pids.bpf.o', func: "FUNC 'tailcalls_pids'", key: 'pids'},
] as const

test('the committed objects are what the sources build', (t) => {
  const fresh = buildObjects('')
  for (const o of OBJECTS) {
    let committed
    try {
      committed = execFileSync('git', ['show', `HEAD:bpf/${o.file}`], {cwd: ROOT, maxBuffer: 1 << 26})
    } catch {
      t.skip('not a git checkout: nothing committed to compare')
      return
    }

    writeFileSync(join(dir, `committed-${o.file}`), committed)
    const a = describeObject(join(dir, `committed-${o.file}`))
    const b = describeObject(fresh[o.key])
    assert.deepEqual(a.funcs, b.funcs, `${o.file}: same programs`)
    assert.ok(a.funcs.some((f) => f.startsWith(o.func)))
    assert.deepEqual(a.maps, b.maps, `${o.file}: same maps`)
    // Another clang allocates registers and orders instructions its own way: Debian 13's clang 19
    // builds the same source into other instructions. Only the clang that builds the committed
    // objects can say they are the sources'; under any other the programs and maps above are what
    // is compared (and the layouts by the test below). CI's npm test runs with that clang.
    const major = Number(/clang version (\d+)/.exec(run('clang', ['--version']))?.[1])
    if (major !== COMMITTED_WITH_CLANG) {
      t.diagnostic(`clang ${major}, not ${COMMITTED_WITH_CLANG}: instructions not compared with the committed objects'`)
      return
    }
    assert.equal(
      a.disasm,
      b.disasm,
      `${o.file}: same instructions (so the same record layouts): rebuild with \`npm run build:bpf\` and commit bpf/${o.file}`,
    )
    // The same flags (the source path made relative) make the same bytes in any checkout.
    assert.ok(committed.equals(readFileSync(fresh[o.key])), `${o.file}: the same bytes as a rebuild`)
  }
})

test('the working-tree objects (what the tests load) are what the sources build', () => {
  const fresh = buildObjects('2')
  for (const o of OBJECTS) {
    const a = describeObject(join(ROOT, 'bpf', o.file))
    const b = describeObject(fresh[o.key])
    assert.equal(a.disasm, b.disasm, o.file)
  }
})

test('the pids iterator needs nothing but itself: no maps, no externs, one program', () => {
  const {pids} = buildObjects('3')
  const sections = run('llvm-objdump', ['-h', pids])
  // No .rodata/.data/.bss (each would be a map) and no .maps; no __ksym externs (libbpf would read
  // all of /proc/kallsyms to resolve them).
  assert.doesNotMatch(sections, /\.(rodata|data|bss|maps|ksyms)\b/)
  assert.match(sections, / iter\/task_file /)
  assert.doesNotMatch(run('llvm-objdump', ['-t', pids]), /\*UND\*.*\S+_fops/)
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

test('src/sys/layouts.ts matches bpf/pids.h', () => {
  const src = `
#include <stdio.h>
#include <stddef.h>
#include "pids.h"
int main(void) {
  printf("{\\"size\\":%zu,\\"id\\":%zu,\\"tgid\\":%zu,\\"kind\\":%zu,\\"comm\\":%zu,\\"commSize\\":%zu,",
    sizeof(struct pids_record), offsetof(struct pids_record, id), offsetof(struct pids_record, tgid),
    offsetof(struct pids_record, kind), offsetof(struct pids_record, comm), sizeof(((struct pids_record *)0)->comm));
  printf("\\"kinds\\":{\\"prog\\":%d,\\"map\\":%d,\\"link\\":%d,\\"btf\\":%d}}\\n", PIDS_PROG, PIDS_MAP, PIDS_LINK, PIDS_BTF);
  return 0;
}`
  writeFileSync(join(dir, 'pids-layout.c'), src)
  run('cc', ['-I', join(ROOT, 'bpf'), join(dir, 'pids-layout.c'), '-o', join(dir, 'pids-layout')])
  const {kinds, ...record} = JSON.parse(run(join(dir, 'pids-layout'), []))
  assert.deepEqual(record, {...PIDS_RECORD})
  assert.deepEqual(kinds, {...PIDS_KIND})
})

test('the bundled objects are shipped in package.json files', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  // The objects only, not their sources (test/package.test.ts checks the packed file list).
  assert.ok(pkg.files.includes('bpf/tailcalls.bpf.o'))
  assert.ok(pkg.files.includes('bpf/pids.bpf.o'))
})

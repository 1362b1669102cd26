// Every way `tailcalls load` can fail, through the real CLI binary: one line on stderr that
// says what to do, a distinct exit code, no stack trace, and nothing left in the kernel.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'
import {EXIT} from '../../src/errors.js'
import {setTimeout as sleep} from 'node:timers/promises'

import {ROOT, runCli} from '../helpers/cli.js'
import {bpftoolJson} from '../helpers/kernel.js'
import {runAsNobody} from '../helpers/nobody.js'
import {needsRoot} from '../helpers/root.js'

let dir: string
const objects: Record<string, string> = {}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailcalls-errors-'))
  for (const name of ['incomplete', 'rejected']) {
    objects[name] = join(dir, `${name}.bpf.o`)
    execFileSync('clang', [
      '-O2',
      '-g',
      '-target',
      'bpf',
      `-I/usr/include/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`,
      '-c',
      join(ROOT, 'test', 'fixtures', `${name}.bpf.c`),
      '-o',
      objects[name],
    ])
  }
})

after(() => rmSync(dir, {force: true, recursive: true}))

/** One stderr line, the given code, no stack trace, stdout empty (text mode). */
function assertOneLine(result, code, pattern) {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr: ${result.stderr}`)
  assert.match(lines[0], /^tailcalls: error: /)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
  assert.equal(result.stdout, '')
}

/** Max ids now, to spot anything a failed run created (ids only grow). */
function maxIds() {
  const max = (kind) => Math.max(0, ...bpftoolJson([kind, 'list']).map((o) => o.id))
  return {link: max('link'), prog: max('prog')}
}

/**
 * Nothing the failed run created is left: no program of the chain's names and no
 * sched_process_exec link newer than `base` that no process holds. The failed CLI has exited, so
 * whatever it left would be held by nothing but a pin or the kernel's leak; objects of other
 * loaders on the machine (concurrent tests, other users) are held by their processes and are
 * not ours to judge. The kernel frees objects after an RCU grace period: poll while they go.
 */
async function assertNothingLoaded(base) {
  const left = async () => {
    const progs = JSON.parse((await runCli(['prog', 'list', '--json'])).stdout)
      .filter((p) => p.id > base.prog && /^prog[123]/.test(p.name ?? '') && (p.pids ?? []).length === 0)
      .map((p) => `program ${p.name} ${p.id}`)
    const links = JSON.parse((await runCli(['link', 'list', '--json'])).stdout)
      .filter((l) => l.id > base.link && l.tp_name === 'sched_process_exec' && (l.pids ?? []).length === 0)
      .map((l) => `link ${l.id}`)
    return [...progs, ...links]
  }

  let now = await left()
  let last = Date.now()
  while (now.length > 0 && Date.now() - last < 30_000) {
    await sleep(200)
    const next = await left()
    if (next.length < now.length) last = Date.now() // still going away
    now = next
  }

  assert.deepEqual(now, [], 'nothing the failed run created is left in the kernel')
}

test('object path missing', needsRoot, async () => {
  assertOneLine(
    await runCli(['load', '--object', '/nonexistent/x.bpf.o']),
    EXIT.notFound,
    /object file not found: .*omit --object/,
  )
})

test('not an ELF, and an ELF that is not BPF', needsRoot, async () => {
  assertOneLine(
    await runCli(['load', '--object', join(ROOT, 'package.json')]),
    EXIT.invalidObject,
    /is not an ELF file; build the BPF object with/,
  )
  assertOneLine(
    await runCli(['load', '--object', '/bin/true']),
    EXIT.invalidObject,
    /not a BPF object .*clang -target bpf/,
  )
})

test('an object without the chain programs and maps names what is missing', needsRoot, async () => {
  const base = maxIds()
  assertOneLine(
    await runCli(['load', '--object', objects.incomplete]),
    EXIT.invalidObject,
    /lacks program prog2, program prog3, map PER_CPU_MAP, map CHAIN_STATS, map EVENTS/,
  )
  await assertNothingLoaded(base)
})

test('a verifier rejection shows the verifier lines and leaves nothing loaded', needsRoot, async () => {
  const base = maxIds()
  const result = await runCli(['load', '--object', objects.rejected])
  assert.equal(result.code, EXIT.verifier, result.stderr)
  const lines = result.stderr.trimEnd().split('\n')
  assert.match(
    lines.at(-1)!,
    /^tailcalls: error: the kernel verifier rejected program prog2: invalid access to map value.*; fix the program source/,
  )
  // The verifier's own last lines come first, indented.
  assert.ok(
    lines.slice(0, -1).every((l) => l.startsWith('  ')),
    result.stderr,
  )
  assert.ok(lines.some((l) => /invalid access to map value/.test(l)))
  await assertNothingLoaded(base)
})

test('no kernel BTF', needsRoot, async () => {
  assertOneLine(
    await runCli(['load'], {env: {TAILCALLS_KERNEL_BTF: '/nonexistent/vmlinux'}}),
    EXIT.kernelSupport,
    /exposes no BTF .*CONFIG_DEBUG_INFO_BTF=y/,
  )
})

test('not root: no CAP_BPF', needsRoot, async () => {
  assertOneLine(
    await runAsNobody(['load']),
    EXIT.permission,
    /permission denied: .*needs CAP_BPF.*which this process lacks.*; run as root/,
  )
})

test('bad flags are usage errors (exit 2) in one line', needsRoot, async () => {
  assertOneLine(
    await runCli(['load', '--ringbuf-size', '1000']),
    EXIT.usage,
    /--ringbuf-size 1000 is not a power of two/,
  )
  assertOneLine(await runCli(['load', '--count', 'x']), EXIT.usage, /Expected an integer .*see `tailcalls load --help`/)
  assertOneLine(await runCli(['load', '--bogus']), EXIT.usage, /Nonexistent flag: --bogus/)
})

test('--json errors also print bpftool\'s {"error": …} on stdout', needsRoot, async () => {
  const result = await runCli(['load', '--json', '--object', '/nonexistent.o'])
  assert.equal(result.code, EXIT.notFound)
  assert.match(JSON.parse(result.stdout).error, /object file not found/)
  assert.equal(result.stderr.trimEnd().split('\n').length, 1)
})

test('the verifier reason skips register-state lines (5.10 prints them on their own line)', async () => {
  const {verifierReason} = await import('../../src/libbpf/object.js')
  const v510 = [
    '8: (79) r6 = *(u64 *)(r0 +32)',
    'R0_w=map_value(id=0,off=0,ks=4,vs=8,imm=0) R6_w=inv0 R10=fp0 fp-8=mmmm????',
    'invalid access to map value, value_size=8 off=32 size=8',
    'R0 min value is outside of the allowed memory range',
    'processed 8 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  ]
  assert.equal(
    verifierReason(v510),
    'invalid access to map value, value_size=8 off=32 size=8 — R0 min value is outside of the allowed memory range',
  )
})

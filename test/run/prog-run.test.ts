// `tailcalls prog run` against `bpftool prog run` on the same programs and inputs: same return
// values, same output bytes (files, JSON arrays, the hex dump), same JSON keys. The programs are
// loaded with our own `load --pin-path --no-attach` (bpftool only runs them). Then what bpftool
// does not say (output sizes, the tail-call reach) and the errors: one line each, with its exit code.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {runCli} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {assertErrorLine, buildObject, removePinFolder, scratchDir} from '../helpers/load.js'
import {needsRoot} from '../helpers/root.js'

const scratch = scratchDir()
const dir = `/sys/fs/bpf/tailcalls-run-io-${process.pid}`
const file = (name: string) => join(scratch.dir, name)
let report: any
const pin = (name: string) => `${dir}/${name}`

/** A frame: destination MAC 01..06, source MAC 07..0c, IPv4 ethertype, then `rest` bytes counting up. */
function frame(rest: number): Buffer {
  const b = Buffer.alloc(14 + rest)
  for (let i = 0; i < 12; i++) b[i] = i + 1
  b.writeUInt16BE(0x0800, 12)
  for (let i = 0; i < rest; i++) b[14 + i] = (i * 7) & 0xff
  return b
}

before(async () => {
  const object = buildObject(scratch.dir, 'tailcall-scenarios/run-io')
  writeFileSync(file('frame-64'), frame(50))
  writeFileSync(file('frame-200'), frame(186))
  // struct __sk_buff as far as cb[]: mark (offset 8) = 5, the rest zero (the kernel refuses other fields).
  const ctx = Buffer.alloc(64)
  ctx.writeUInt32LE(5, 8)
  writeFileSync(file('ctx'), ctx)
  if (process.geteuid?.() !== 0) return
  const r = await runCli(['load', object, '--pin-path', dir, '--no-attach', '--json'])
  assert.equal(r.code, 0, r.stderr)
  report = JSON.parse(r.stdout)
})

after(async () => {
  if (report) {
    const r = await runCli(['unload', '--pin-path', dir])
    assert.equal(r.code, 0, r.stderr)
    await assertGone({
      maps: Object.fromEntries(report.maps.map((m: any) => [m.name, m.id])),
      programs: Object.fromEntries(report.programs.map((p: any) => [p.name, p.id])),
    })
  }

  await removePinFolder(dir)
  scratch.cleanup()
})

async function ours(args: string[], input?: Buffer): Promise<any> {
  const r = await runCli(['prog', 'run', ...args], {input})
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  return args.includes('--json') ? JSON.parse(r.stdout) : r.stdout
}

function bpftool(args: string[], json = true): any {
  const out = execFileSync('bpftool', [...(json ? ['--json'] : []), 'prog', 'run', ...args], {encoding: 'utf8'})
  return json ? JSON.parse(out) : out
}

/** Both tools on one program and input: the same retval and the same data_out bytes. */
async function sameAsBpftool(
  prog: string,
  input: string,
  extra: {ours: string[]; bpftool: string[]} = {ours: [], bpftool: []},
) {
  const a = await ours(['pinned', pin(prog), '--data-in', input, '--data-out', '-', ...extra.ours, '--json'])
  const b = bpftool(['pinned', pin(prog), 'data_in', input, 'data_out', '-', ...extra.bpftool])
  assert.equal(a.retval, b.retval, 'retval')
  assert.deepEqual(a.data_out, b.data_out, 'data_out bytes')
  // bpftool's keys, in bpftool's order, then ours.
  assert.deepEqual(Object.keys(a).slice(0, 3), Object.keys(b).slice(0, 3))
  assert.deepEqual(Object.keys(b), ['data_out', 'retval', 'duration'])
  assert.equal(a.data_size_out, b.data_out.length)
  return a
}

describe('prog run = bpftool prog run', needsRoot, () => {
  test('an XDP program whose tail call falls through, then reaches its stage: same retval and bytes', async () => {
    // Slot empty: the MACs swapped, XDP_PASS.
    let a = await sameAsBpftool('xdp_entry', file('frame-64'))
    assert.equal(a.retval, 2)
    assert.deepEqual(a.data_out.slice(0, 12), [7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6])
    assert.equal(a.data_out[14], 0)
    assert.equal(a.tail_calls.prog_arrays[0].slots.length, 0)
    assert.deepEqual(a.tail_calls.reaches, [])

    const r = await runCli(['map', 'update', 'pinned', pin('io_slots'), 'key', '0', 'prog', 'pinned', pin('xdp_stage')])
    assert.equal(r.code, 0, r.stderr)
    // Through the stage: XDP_TX, and the stage's mark after the Ethernet header.
    a = await sameAsBpftool('xdp_entry', file('frame-64'))
    assert.equal(a.retval, 3)
    assert.equal(a.data_out[14], 0xab)
    a = await sameAsBpftool('xdp_entry', file('frame-200'), {bpftool: ['repeat', '50'], ours: ['--repeat', '50']})
    assert.equal(a.data_out.length, 200)
    assert.equal(a.repeat, 50)
    // What bpftool does not say: the prog array the run went through, and where it leads.
    assert.deepEqual(a.tail_calls.prog_arrays, [
      {
        id: report.maps.find((m: any) => m.name === 'io_slots').id,
        max_entries: 1,
        name: 'io_slots',
        slots: [{key: 0, prog_id: report.programs.find((p: any) => p.name === 'xdp_stage').id, prog_name: 'xdp_stage'}],
      },
    ])
    assert.deepEqual(
      a.tail_calls.reaches.map((p: any) => p.name),
      ['xdp_stage'],
    )
    assert.equal(a.tail_calls.longest_chain, 1)
    assert.equal(a.tail_calls.cyclic, false)
  })

  test('--data-out FILE and data_out FILE hold the same bytes; the packet from stdin runs the same', async () => {
    await ours(['pinned', pin('xdp_entry'), '--data-in', file('frame-200'), '--data-out', file('ours.bin')])
    bpftool(['pinned', pin('xdp_entry'), 'data_in', file('frame-200'), 'data_out', file('bpftool.bin')], false)
    assert.deepEqual(readFileSync(file('ours.bin')), readFileSync(file('bpftool.bin')))
    const fromStdin = await ours(
      ['pinned', pin('xdp_entry'), '--data-in', '-', '--data-out', file('stdin.bin'), '--json'],
      readFileSync(file('frame-200')),
    )
    assert.equal(fromStdin.retval, 3)
    assert.deepEqual(readFileSync(file('stdin.bin')), readFileSync(file('bpftool.bin')))
  })

  test("the text: bpftool's hex dump and return line, then the sizes and the tail calls", async () => {
    const text: string = await ours(['pinned', pin('xdp_entry'), '--data-in', file('frame-64'), '--data-out', '-'])
    const theirs: string = bpftool(['pinned', pin('xdp_entry'), 'data_in', file('frame-64'), 'data_out', '-'], false)
    const dump = (s: string) => s.split('\n').filter((l) => /^[0-9a-f]{7}\t/.test(l))
    assert.equal(dump(theirs).length, 4)
    assert.deepEqual(dump(text), dump(theirs))
    const returnLine = /^Return value: (\d+), duration: \d+ns$/m
    assert.equal(returnLine.exec(text)?.[1], returnLine.exec(theirs)?.[1])
    assert.match(text, /^data out 64 bytes \(above\)$/m)
    assert.match(text, /^tail calls through io_slots \(id \d+\): \[0\] xdp_stage$/m)
    assert.match(text, /^reaches xdp_stage \(id \d+\); longest chain: 1$/m)
  })

  test('a tc program on a context: same retval, same ctx_out bytes (file and JSON)', async () => {
    const a = await ours([
      'pinned',
      pin('tc_mark'),
      '--data-in',
      file('frame-64'),
      '--ctx-in',
      file('ctx'),
      '--ctx-out',
      '-',
      '--json',
    ])
    const b = bpftool(['pinned', pin('tc_mark'), 'data_in', file('frame-64'), 'ctx_in', file('ctx'), 'ctx_out', '-'])
    assert.equal(a.retval, 6, 'the mark given (5) plus one')
    assert.equal(a.retval, b.retval)
    assert.deepEqual(a.ctx_out, b.ctx_out)
    assert.deepEqual(Object.keys(b), ['ctx_out', 'retval', 'duration'])
    assert.equal(Buffer.from(a.ctx_out).readUInt32LE(48), 64, 'cb[0]: the packet length')
    assert.equal(a.ctx_size_out, a.ctx_out.length)
    assert.equal(a.tail_calls, null, 'a program that uses no prog array makes no tail calls')

    await ours([
      'pinned',
      pin('tc_mark'),
      '--data-in',
      file('frame-64'),
      '--ctx-in',
      file('ctx'),
      '--ctx-out',
      file('c1'),
    ])
    bpftool(
      ['pinned', pin('tc_mark'), 'data_in', file('frame-64'), 'ctx_in', file('ctx'), 'ctx_out', file('c2')],
      false,
    )
    assert.deepEqual(readFileSync(file('c1')), readFileSync(file('c2')))
  })

  test('errors: one line, its exit code, what to do', async () => {
    const run = (args: string[], input?: Buffer) => runCli(['prog', 'run', ...args], {input})
    // A type the kernel cannot test-run (a tp_btf program).
    assertErrorLine(
      await run(['pinned', pin('traced')]),
      EXIT.kernelSupport,
      /cannot test-run traced .*type tracing.*attach it/,
    )
    // A type with no test run at all (a kprobe): ENOTSUPP.
    assertErrorLine(
      await run(['pinned', pin('probed')]),
      EXIT.kernelSupport,
      /cannot test-run probed .*type kprobe.*ENOTSUPP/,
    )
    // An input the type refuses: XDP needs a packet.
    assertErrorLine(
      await run(['pinned', pin('xdp_entry')]),
      EXIT.usage,
      /refused the input for xdp_entry .*type xdp.*--data-in/,
    )
    // Too little room for the output.
    assertErrorLine(
      await run(['pinned', pin('xdp_entry'), '--data-in', file('frame-200'), '--data-size-out', '16']),
      EXIT.usage,
      /does not fit.*--data-size-out/,
    )
    assertErrorLine(
      await run(['pinned', pin('xdp_entry'), '--data-in', file('missing')]),
      EXIT.notFound,
      /cannot read --data-in/,
    )
    assertErrorLine(await run(['name', `no_such_prog_${process.pid}`]), EXIT.notFound, /no program with name/)
    assertErrorLine(await run([]), EXIT.usage, /missing PROG/)
    assertErrorLine(
      await run(['pinned', pin('tc_mark'), '--data-in', '-', '--ctx-in', '-']),
      EXIT.usage,
      /both --data-in and --ctx-in from standard input/,
    )
    assertErrorLine(await run(['pinned', pin('tc_mark'), '--repeat', '0']), EXIT.usage, /repeat/)
    // Under --json the same line is bpftool's {"error": …} on stdout.
    const r = await run(['pinned', pin('traced'), '--json'])
    assert.equal(r.code, EXIT.kernelSupport)
    assert.match(JSON.parse(r.stdout).error, /cannot test-run traced/)
  })
})

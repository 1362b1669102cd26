// Unit: decoding and formatting chain events, on records captured from the real kernel
// (test/fixtures/events.bin: two execs; the second one with slot 1 emptied).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {WallClock, decodeEvent, formatJson, formatText} from '../../src/chain/events.js'
import {EVENT} from '../../src/sys/layouts.js'
import {ROOT} from '../helpers/cli.js'

const bytes = readFileSync(join(ROOT, 'test', 'fixtures', 'events.bin'))
const events = Array.from({length: bytes.length / EVENT.size}, (_, i) => decodeEvent(bytes, i * EVENT.size))

/** A clock whose offset is zero, so kernel timestamps print as themselves. */
function fixedClock() {
  const clock = new WallClock()
  const offsetNs = 1_700_000_000_000_000_000n - events[0].ts_ns
  Object.defineProperty(clock, 'offsetNs', {value: offsetNs})
  Object.defineProperty(clock, 'offsetUs', {value: Number(offsetNs / 1000n)})
  Object.defineProperty(clock, 'offsetSubUs', {value: Number(offsetNs % 1000n)})
  return clock
}

test('captured records decode to the seed counters', () => {
  assert.equal(events.length, 6)
  assert.deepEqual(
    events.map((e) => [e.prog, e.kind, e.per_event_count, e.total_count]),
    [
      ['prog1', 0, 1, 1],
      ['prog2', 0, 2, 2],
      ['prog3', 0, 3, 3],
      ['prog1', 0, 1, 4],
      ['prog2', 0, 2, 5],
      ['prog2', 1, 2, 5],
    ],
  )
  assert.equal(events[5].slot, 1)
  assert.equal(new Set(events.slice(0, 3).map((e) => e.tgid)).size, 1)
  assert.ok(events.every((e, i) => i === 0 || e.ts_ns >= events[i - 1].ts_ns))
})

test('text lines are the seed format', () => {
  const clock = fixedClock()
  const first = formatText(events[0], clock)
  assert.equal(
    first,
    `2023-11-14T22:13:20.000000Z  INFO ebpf::progs: [prog1] cpu_id: ${events[0].cpu_id}, tgid: ${events[0].tgid}, per_event_count: 1, total_count: 1`,
  )
  const failed = formatText(events[5], clock)
  assert.match(
    failed,
    /^2023-11-14T22:13:20\.\d{6}Z ERROR ebpf::progs: \[prog2\] tail_call failed: TAIL_CALL_MAP\[1\] is empty, cpu_id: \d+, tgid: \d+, per_event_count: 2, total_count: 5$/,
  )
})

test('JSON lines parse and carry the seed keys', () => {
  const clock = fixedClock()
  for (const e of events) {
    const obj = JSON.parse(formatJson(e, clock))
    assert.deepEqual(Object.keys(obj).slice(0, 8), [
      'timestamp',
      'level',
      'event',
      'prog',
      'cpu_id',
      'tgid',
      'per_event_count',
      'total_count',
    ])
    assert.equal(obj.prog, e.prog)
    assert.equal(obj.total_count, e.total_count)
  }

  assert.deepEqual(JSON.parse(formatJson(events[5], clock)), {
    cpu_id: events[5].cpu_id,
    event: 'tail_call_failed',
    level: 'ERROR',
    map: 'TAIL_CALL_MAP',
    per_event_count: 2,
    prog: 'prog2',
    slot: 1,
    tgid: events[5].tgid,
    timestamp: JSON.parse(formatJson(events[5], clock)).timestamp,
    total_count: 5,
  })
})

test('microseconds are zero-padded and the second prefix cache rolls over', () => {
  const clock = fixedClock()
  const base = events[0].ts_ns
  assert.match(clock.iso(base + 1_000n), /\.000001Z$/)
  assert.match(clock.iso(base + 999_999_000n), /:20\.999999Z$/)
  assert.match(clock.iso(base + 1_000_000_000n), /:21\.000000Z$/)
})

test('the hot-path formatter equals the decode-then-format path', async () => {
  const {formatRecord} = await import('../../src/chain/events.js')
  const clock = fixedClock()
  for (let i = 0; i < events.length; i++) {
    assert.equal(formatRecord(bytes, i * EVENT.size, clock, true), formatJson(events[i], clock))
    assert.equal(formatRecord(bytes, i * EVENT.size, clock, false), formatText(events[i], clock))
  }
})

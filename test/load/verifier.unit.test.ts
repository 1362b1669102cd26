// The generic loader's pure parts: which object takes the chain's path, how a verifier refusal
// is said as the tail-call rule it breaks, and the readable line of a decoded record.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {TailcallsError} from '../../src/errors.js'
import {readableLine} from '../../src/load/events.js'
import {wantsGeneric} from '../../src/load/plan.js'
import {explainVerifier} from '../../src/load/verifier.js'

const refusal = (reason: string, details: string[]) =>
  new TailcallsError('verifier', `the kernel verifier rejected program entry: ${reason}`, {details})

test('a verifier refusal of a tail-call rule names the rule and keeps the verifier lines', () => {
  const cases: Array<[string, RegExp]> = [
    ['tail_calls are not allowed in non-JITed programs with bpf-to-bpf calls', /need Linux 5\.10\+ and a JIT/],
    ['tail_calls are not allowed in programs with bpf-to-bpf calls', /need Linux 5\.10\+ and a JIT/],
    [
      'tail_calls are not allowed when call stack of previous frames is 288 bytes. Too large',
      /callers' frames total less than 256 bytes/,
    ],
    ['function calls are not allowed while holding a lock', /no tail call while a bpf_spin_lock/],
    [
      'bpf_tail_call cannot be used inside bpf_rcu_read_lock-ed region',
      /no tail call while a bpf_spin_lock, an RCU read section/,
    ],
  ]
  for (const [reason, rule] of cases) {
    const details = ['19: (85) call bpf_tail_call#12', reason]
    const e = explainVerifier(refusal(reason, details)) as TailcallsError
    assert.equal(e.exitCode, 7)
    assert.match(e.message, new RegExp(`${reason.replaceAll(/[.()[\]+]/g, '\\$&')} \\(tail-call rule: `))
    assert.match(e.message, rule)
    assert.deepEqual(e.details, details)
    assert.ok(e.hint)
  }

  // Anything else is left as it was.
  const other = refusal('R1 invalid mem access', ['R1 invalid mem access'])
  assert.equal(explainVerifier(other), other)
  const plain = new Error('x')
  assert.equal(explainVerifier(plain), plain)
})

test('the generic flags send any object to the generic loader', () => {
  const none = {noAttach: false, slots: []}
  assert.equal(wantsGeneric(none), false)
  assert.equal(wantsGeneric({...none, slots: ['m[0]=p']}), true)
  assert.equal(wantsGeneric({...none, noAttach: true}), true)
  assert.equal(wantsGeneric({...none, xdp: 'eth0'}), true)
  assert.equal(wantsGeneric({...none, events: 'ev'}), true)
})

test('a decoded record reads as name=value, strings quoted, nested values as JSON', () => {
  assert.equal(readableLine('{"tgid":7,"stage":2,"comm":"true"}'), 'tgid=7 stage=2 comm="true"')
  assert.equal(readableLine('{"a":{"b":[1,2]}}'), 'a={"b":[1,2]}')
  assert.equal(readableLine('[1,2]'), '[1,2]')
  assert.equal(readableLine('{"s":"\\u001b[2J"}'), 's="\\u001b[2J"')
})

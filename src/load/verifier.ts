/**
 * A verifier refusal whose reason is a tail-call rule, said as that rule. The verifier's words
 * stay in the message and its last lines follow it; the rule and what to change come first.
 */
import {TailcallsError} from '../errors.js'
import {RULES} from '../object/graph.js'

interface Known {
  match: RegExp
  rule: string
  hint: string
}

const KNOWN: Known[] = [
  {
    hint: 'move the tail call out of the subprogram into the program itself, or build for a JIT-enabled kernel (net.core.bpf_jit_enable=1)',
    match: /tail_calls are not allowed in (non-JITed )?programs with bpf-to-bpf calls/,
    rule: RULES['bpf2bpf-tail-call-kernel'],
  },
  {
    hint: "shrink the callers' stack (fewer or smaller locals) or make the tail call from the program itself",
    match: /tail_calls are not allowed when call stack of previous frames is \d+ bytes/,
    rule: RULES['subprog-stack'],
  },
  {
    hint: 'release the lock (or leave the RCU section, re-enable preemption) before bpf_tail_call',
    match:
      /(function calls are not allowed while holding a lock|bpf_tail_call.*(lock|rcu|preempt|irq)|cannot be used inside bpf_rcu_read_lock|tail_call.*(lock|rcu|preempt|irq)|BPF_EXIT instruction.*cannot be used inside bpf_(rcu_read_lock|preempt_disable)|bpf_spin_lock-ed region)/i,
    rule: RULES['tail-call-in-lock'],
  },
]

/** The verifier error rewritten around the tail-call rule it breaks; other errors as they are. */
export function explainVerifier(error: unknown, lockedPrograms: Set<string> = new Set()): unknown {
  if (!(error instanceof TailcallsError) || !error.details) return error
  const m = /^the kernel verifier rejected program (\S+): /.exec(error.message)
  const text = error.details.join('\n')
  let known = KNOWN.find((k) => k.match.test(text) || k.match.test(error.message))
  // The lock check's words vary between kernels; the object analysis knows where the lock is.
  if (!known && m && lockedPrograms.has(m[1]) && /lock|rcu|preempt|irq/i.test(text)) known = KNOWN[2]
  if (!known) return error
  return new TailcallsError('verifier', `${error.message} (tail-call rule: ${known.rule})`, {
    cause: error.cause,
    details: error.details,
    hint: known.hint,
  })
}

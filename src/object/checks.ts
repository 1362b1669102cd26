/**
 * What the kernel will refuse, read from the object before loading it. Each check names the rule
 * it enforces; graph.ts turns the results into findings.
 *
 * - Prog array compatibility: the first program that uses a prog array becomes its owner, and
 *   every program later loaded against it or put into it must have the owner's program type
 *   (always), the same attach function prototype for tracing/LSM/ext/struct_ops programs
 *   (kernels 6.12+ and stable backports), and the same expected attach type (6.18+ and stable
 *   backports). A program loaded against an incompatible array fails to load (EINVAL); one put
 *   into it fails the map update (EINVAL).
 * - Stack with tail calls in subprograms: a tail call replaces only the frame of the subprogram
 *   that makes it, so its callers' frames stay on the stack under every program of the chain. The
 *   verifier therefore refuses a subprogram that contains a tail call when the frames of its
 *   callers add up to 256 bytes or more ("tail_calls are not allowed when call stack of previous
 *   frames is N bytes"); each frame counts rounded up to 16 bytes when JIT-compiled (32 bytes,
 *   and at least 32, on the interpreter and older kernels).
 * - Tail calls and bpf-to-bpf calls in one program: refused outright before Linux 5.10 ("tail_calls
 *   are not allowed in programs with bpf-to-bpf calls"); since 5.10 allowed when the JIT supports
 *   it (x86-64 from 5.10, arm64 from 6.0), never on the interpreter.
 * - Held locks: a tail call never returns to release what it holds, so the verifier refuses one
 *   while a bpf_spin_lock is held, inside bpf_rcu_read_lock(), with preemption disabled
 *   (bpf_preempt_disable) or IRQs saved (bpf_local_irq_save).
 */
import type {ObjProgram} from './decode.js'
import {INSN} from './decode.js'

export const TAIL_CALL_STACK_LIMIT = 256
const FUNC = {tailCall: 12, spinLock: 93, spinUnlock: 94} as const
const CALL = 0x85
const LD_IMM64 = 0x18

export interface StackProblem {
  /** The subprogram with the tail call. */
  func: string
  /** Linked index of the call into it. */
  callInsn: number
  /** Callers' frames, outermost first, with their stack bytes. */
  frames: {name: string; stack: number}[]
  /** Sum of the callers' frames as a JIT-ing kernel counts them (16-byte rounding). */
  depthJit: number
  /** The same with 32-byte rounding (interpreter, older kernels). */
  depthOld: number
}

const round = (n: number, to: number, atLeastOne: boolean) => Math.ceil(Math.max(n, atLeastOne ? 1 : 0) / to) * to

function callsOf(p: ObjProgram, fi: number): {insn: number; callee: number}[] {
  const from = p.funcs[fi].at
  const to = from + p.funcs[fi].func.length
  const out: {insn: number; callee: number}[] = []
  for (let i = from; i < to; i++) {
    const o = i * INSN
    if (p.insns[o] === LD_IMM64) {
      i++
      continue
    }

    if (p.insns[o] === CALL && p.insns[o + 1] >> 4 === 1) {
      const target = i + p.insns.readInt32LE(o + 4) + 1
      const callee = p.funcs.findIndex((f) => f.at === target)
      if (callee > 0) out.push({callee, insn: i})
    }
  }

  return out
}

/** Subprograms with a tail call whose callers' frames reach the verifier's 256 bytes. */
export function stackProblems(p: ObjProgram): StackProblem[] {
  const out: StackProblem[] = []
  const seen = new Set<string>()
  // Depth-first over call paths; the verifier allows 8 frames, which bounds the walk.
  const walk = (fi: number, frames: number[], depth: number) => {
    if (depth > 8) return
    for (const c of callsOf(p, fi)) {
      if (frames.includes(c.callee)) continue // recursion is refused by the verifier anyway
      const path = [...frames, fi]
      const callee = p.funcs[c.callee].func
      if (callee.hasTailCall) {
        const stacks = path.map((f) => p.funcs[f].func.stackDepth)
        const depthJit = stacks.reduce((s, n) => s + round(n, 16, false), 0)
        const depthOld = stacks.reduce((s, n) => s + round(n, 32, true), 0)
        const key = `${c.insn}`
        if (depthOld >= TAIL_CALL_STACK_LIMIT && !seen.has(key)) {
          seen.add(key)
          out.push({
            callInsn: c.insn,
            depthJit,
            depthOld,
            frames: path.map((f) => ({name: p.funcs[f].func.name, stack: p.funcs[f].func.stackDepth})),
            func: callee.name,
          })
        }
      }

      walk(c.callee, path, depth + 1)
    }
  }

  walk(0, [], 1)
  return out
}

/** Does the program mix bpf-to-bpf calls and tail calls (the 5.10 rule)? */
export function mixesCallsAndTailCalls(p: ObjProgram): boolean {
  return p.funcs.length > 1 && p.funcs.some((f) => f.func.hasTailCall)
}

export interface LockProblem {
  insn: number
  /** What is held: `bpf_spin_lock`, `bpf_rcu_read_lock`, … */
  held: string[]
  /** Held on every path to the tail call (else only on some). */
  always: boolean
}

const LOCKS = [
  {name: 'bpf_spin_lock', bit: 1},
  {name: 'bpf_rcu_read_lock', bit: 2},
  {name: 'bpf_preempt_disable', bit: 4},
  {name: 'bpf_local_irq_save', bit: 8},
] as const
const KFUNC_EFFECT: Record<string, {set?: number; clear?: number}> = {
  bpf_local_irq_restore: {clear: 8},
  bpf_local_irq_save: {set: 8},
  bpf_preempt_disable: {set: 4},
  bpf_preempt_enable: {clear: 4},
  bpf_rcu_read_lock: {set: 2},
  bpf_rcu_read_unlock: {clear: 2},
}

/** Whether the program calls anything that takes a lock, RCU or the like (else no pass is needed). */
function takesLocks(p: ObjProgram, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const o = i * INSN
    const code = p.insns[o]
    if (code === LD_IMM64) {
      i++
      continue
    }

    if (code !== CALL) continue
    const src = p.insns[o + 1] >> 4
    if (src === 0 && p.insns.readInt32LE(o + 4) === FUNC.spinLock) return true
    if (src === 2 && KFUNC_EFFECT[p.kfuncs.get(i) ?? '']?.set) return true
  }

  return false
}

/**
 * Tail calls made while a lock, an RCU read section, disabled preemption or saved IRQs are held:
 * a forward pass over each function of the linked program with "held on some path" and "held on
 * every path" sets (a subprogram is assumed to start with nothing held and to leave what it
 * took balanced, as the verifier requires).
 */
export function lockProblems(p: ObjProgram): LockProblem[] {
  const n = Math.floor(p.insns.length / INSN)
  if (!takesLocks(p, n)) return []
  const may = new Int16Array(n).fill(-1) // -1: not reached
  const must = new Int16Array(n).fill(0xff)
  const work: number[] = []
  const push = (i: number, m: number, a: number) => {
    if (i < 0 || i >= n) return
    const nm = may[i] === -1 ? m : may[i] | m
    const na = may[i] === -1 ? a : must[i] & a
    if (nm === may[i] && na === must[i]) return
    may[i] = nm
    must[i] = na
    work.push(i)
  }

  for (const f of p.funcs) push(f.at, 0, 0)
  const found = new Map<number, LockProblem>()
  let budget = n * 32 + 64
  while (work.length > 0 && budget-- > 0) {
    const i = work.pop()!
    const o = i * INSN
    const code = p.insns[o]
    const src = p.insns[o + 1] >> 4
    const imm = p.insns.readInt32LE(o + 4)
    const off = p.insns.readInt16LE(o + 2)
    let m = may[i]
    let a = must[i]
    const cls = code & 7
    if (code === LD_IMM64) {
      push(i + 2, m, a)
      continue
    }

    if (cls !== 5 && cls !== 6) {
      push(i + 1, m, a)
      continue
    }

    const op = code & 0xf0
    if (op === 0x90) continue // exit
    if (op === 0x80) {
      if (cls === 5 && src === 0 && imm === FUNC.tailCall && m !== 0) {
        found.set(i, {always: a !== 0, held: LOCKS.filter((l) => (m & l.bit) !== 0).map((l) => l.name), insn: i})
      }

      let set = 0
      let clear = 0
      if (src === 0 && imm === FUNC.spinLock) set = 1
      if (src === 0 && imm === FUNC.spinUnlock) clear = 1
      const k = src === 2 ? KFUNC_EFFECT[p.kfuncs.get(i) ?? ''] : undefined
      if (k) {
        set |= k.set ?? 0
        clear |= k.clear ?? 0
      }

      m = (m | set) & ~clear
      a = (a | set) & ~clear
      push(i + 1, m, a)
      continue
    }

    const target = i + (cls === 6 && op === 0 ? imm : off) + 1
    push(target, m, a)
    if (op !== 0) push(i + 1, m, a)
  }

  return [...found.values()].sort((x, y) => x.insn - y.insn)
}

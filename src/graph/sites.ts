/**
 * Tail-call sites in a program's translated (xlated) instructions.
 *
 * What the kernel hands back (kernel/bpf/syscall.c, bpf_insn_prepare_dump): every tail call,
 * whatever the verifier turned it into, reads `call` with imm = BPF_FUNC_tail_call (12); every
 * map pointer the program loads is a `ld_imm64` whose src_reg is BPF_PSEUDO_MAP_FD (1) and whose
 * imm is the map's **id** (bpftool prints `r2 = map[id:N]`); BPF_PSEUDO_MAP_VALUE (2) is a pointer
 * into a map's value, not a map.
 *
 * For each `call bpf_tail_call` we want r2 (the prog array) and r3 (the slot). Clang usually
 * materialises both right before the call, but not always (hoisted constants, a key that
 * depends on a branch, spills under register pressure, constant blinding's `r11` dance), so
 * this is a small constant propagation over the control-flow graph rather than a peephole:
 * every register holds one of "not reached yet" < {map id | up to 8 constants | stack
 * pointer} < "unknown", joined at block entries until nothing changes. The lattice has
 * height 3, so the fixpoint is reached in a bounded number of passes; a hard cap on work
 * keeps even a hostile buffer (this runs on whatever the kernel or a fixture file hands us)
 * from taking long. Malformed input never throws: it yields fewer facts and a `problems` list.
 *
 * The kernel emits a direct (patched) jump only when the verifier proved map *and* key
 * constant on every path to the call (the x86 JIT then emits a jump it re-patches on every
 * slot update; otherwise the indirect sequence with bounds and NULL checks); the same condition here gives
 * `path: 'direct'`, anything else `'indirect'` (the slow retpoline path, ~14× a direct hop).
 */
import {BPF_FUNC} from '../sys/uapi.js'

export const BPF_FUNC_TAIL_CALL = BPF_FUNC.tail_call
export const INSN_SIZE = 8
/** More distinct constants than this at one point = unknown (keeps sets and passes bounded). */
const MAX_CONSTS = 8
/** A budget of instruction visits; real programs (1M insns max) converge well under it. */
const WORK_PER_INSN = 64
/** The verifier's MAX_CALL_FRAMES: bpf-to-bpf calls nest at most this deep. */
const MAX_FRAMES = 8

// Instruction classes and fields (include/uapi/linux/bpf.h, bpf_common.h).
const CLS = {ld: 0, ldx: 1, st: 2, stx: 3, alu: 4, jmp: 5, jmp32: 6, alu64: 7} as const
const OP = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
  end: 0xd0,
} as const
const JOP = {ja: 0x00, call: 0x80, exit: 0x90} as const
const SRC_X = 0x08
const MODE = {imm: 0x00, abs: 0x20, ind: 0x40, mem: 0x60, memsx: 0x80, atomic: 0xc0} as const
const SIZE_BYTES = [4, 2, 1, 8] as const // BPF_W 0x00, BPF_H 0x08, BPF_B 0x10, BPF_DW 0x18
const PSEUDO = {mapFd: 1, mapValue: 2, call: 1} as const
const R10 = 10
/** r0–r10 plus the JIT's scratch register AX (r11), which constant blinding uses. */
const NREGS = 12
const U64 = (1n << 64n) - 1n

/** One abstract value. `undefined` in a state means "no path reached here yet". */
type Val =
  | {k: 'unknown'}
  | {k: 'consts'; v: bigint[]} // sorted, 1..MAX_CONSTS values, each a u64
  | {k: 'map'; ids: number[]} // a map pointer: one of these map ids
  | {k: 'fp'; off: number} // r10 + off (a pointer into this frame's stack)

const UNKNOWN: Val = {k: 'unknown'}

interface StackSlot {
  off: number
  size: number
  val: Val
}

interface State {
  regs: (Val | undefined)[]
  /** Constants and pointers spilled to this frame's stack, by byte offset from r10. */
  stack: StackSlot[]
}

export type SiteKey =
  | {kind: 'constant'; value: number}
  /** The key depends on the path: one of these values (still the indirect path in the kernel). */
  | {kind: 'one-of'; values: number[]}
  | {kind: 'unknown'}

export interface TailCallSite {
  /** Index (in 8-byte instruction slots, as bpftool numbers them) of the `call bpf_tail_call`. */
  insn: number
  /** The prog array's map id, when r2 is one known map on every path. */
  mapId?: number
  /** Several maps reach r2 on different paths. */
  mapIds?: number[]
  key: SiteKey
  /** What the kernel does at run time: a patched direct jump, or the indirect (slower) path. */
  path: 'direct' | 'indirect'
  /**
   * For a site in a subprogram whose prog array or key comes from its caller: the bpf-to-bpf
   * calls (instruction indices, outermost first) through which this context reaches it. Such a
   * site is reported once per calling context, each with what that caller passes.
   */
  via?: number[]
}

export interface SiteAnalysis {
  sites: TailCallSite[]
  /** Instruction count (8-byte slots). */
  insns: number
  /** Map ids loaded with `ld_imm64 map[id:N]` anywhere in the program. */
  mapRefs: number[]
  /** Structural problems (truncated buffer, jumps out of range, analysis cut short): facts may be missing. */
  problems: string[]
}

interface Insn {
  code: number
  dst: number
  src: number
  off: number
  imm: number
}

function decode(buf: Uint8Array, i: number): Insn {
  const p = i * INSN_SIZE
  const regs = buf[p + 1]
  const off = ((buf[p + 2] | (buf[p + 3] << 8)) << 16) >> 16
  const imm = buf[p + 4] | (buf[p + 5] << 8) | (buf[p + 6] << 16) | (buf[p + 7] << 24)
  return {code: buf[p], dst: regs & 0x0f, off, imm, src: regs >> 4}
}

const cls = (code: number) => code & 0x07
const isLdImm64 = (code: number) => code === (CLS.ld | MODE.imm | 0x18)

/** Successors of instruction i (indices), and whether it ends a basic block. */
function successors(ins: Insn[], i: number, n: number, problems: string[]): {ends: boolean; next: number[]} {
  const {code} = ins[i]
  const c = cls(code)
  if (isLdImm64(code)) return {ends: false, next: [i + 2]}
  if (c !== CLS.jmp && c !== CLS.jmp32) return {ends: false, next: [i + 1]}
  const op = code & 0xf0
  if (op === JOP.call) return {ends: false, next: [i + 1]}
  if (op === JOP.exit) return {ends: true, next: []}
  // `gotol` (BPF_JMP32 | BPF_JA) carries its offset in imm.
  const off = c === CLS.jmp32 && op === JOP.ja ? ins[i].imm : ins[i].off
  const target = i + off + 1
  const next: number[] = []
  if (target >= 0 && target < n) next.push(target)
  else problems.push(`insn ${i}: jump to ${target} is outside the program`)
  if (op !== JOP.ja) next.push(i + 1)
  return {ends: true, next}
}

function consts(values: bigint[]): Val {
  // One value (most constants): nothing to sort or deduplicate.
  if (values.length === 1) return {k: 'consts', v: [values[0] & U64]}
  const uniq = [...new Set(values.map((v) => v & U64))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return uniq.length > MAX_CONSTS ? UNKNOWN : {k: 'consts', v: uniq}
}

function join(a: Val | undefined, b: Val | undefined): Val | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a.k === 'unknown' || b.k === 'unknown') return UNKNOWN
  // The same facts on both sides (most registers at most joins): the join is either one.
  if (sameVal(a, b)) return a
  if (a.k === 'consts' && b.k === 'consts') return consts([...a.v, ...b.v])
  if (a.k === 'map' && b.k === 'map') {
    const ids = [...new Set([...a.ids, ...b.ids])].sort((x, y) => x - y)
    return ids.length > MAX_CONSTS ? UNKNOWN : {ids, k: 'map'}
  }

  if (a.k === 'fp' && b.k === 'fp' && a.off === b.off) return a
  return UNKNOWN
}

function sameVal(a: Val | undefined, b: Val | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a.k !== b.k) return false
  if (a.k === 'consts')
    return a.v.length === (b as typeof a).v.length && a.v.every((x, i) => x === (b as typeof a).v[i])
  if (a.k === 'map')
    return a.ids.length === (b as typeof a).ids.length && a.ids.every((x, i) => x === (b as typeof a).ids[i])
  if (a.k === 'fp') return a.off === (b as typeof a).off
  return true
}

function joinState(into: State | undefined, from: State): {changed: boolean; state: State} {
  if (!into) return {changed: true, state: {regs: [...from.regs], stack: [...from.stack]}}
  let changed = false
  const regs: (Val | undefined)[] = new Array(into.regs.length)
  for (let r = 0; r < into.regs.length; r++) {
    const v = into.regs[r]
    const j = join(v, from.regs[r])
    if (j !== v && !sameVal(j, v)) changed = true
    regs[r] = j
  }
  // A slot survives only if both sides hold it with the same extent; values are joined.
  const stack: StackSlot[] = []
  for (const s of into.stack) {
    const t = from.stack.find((x) => x.off === s.off && x.size === s.size)
    if (!t) {
      changed = true
      continue
    }

    const val = join(s.val, t.val)!
    if (!sameVal(val, s.val)) changed = true
    if (val.k !== 'unknown') stack.push({off: s.off, size: s.size, val})
    else changed = true
  }

  return {changed, state: {regs, stack}}
}

function entryState(): State {
  // r1 = context and r10 = frame pointer at a function's entry; nothing else is known.
  const regs: (Val | undefined)[] = new Array(NREGS).fill(UNKNOWN)
  regs[R10] = {k: 'fp', off: 0}
  return {regs, stack: []}
}

/** Apply one ALU operation to constant sets (pairwise, both operands known). */
function alu(op: number, is64: boolean, a: Val, b: Val): Val {
  if (op === OP.mov) {
    if (is64) return b
    return b.k === 'consts' ? consts(b.v.map((x) => x & 0xffff_ffffn)) : UNKNOWN
  }

  // Pointer arithmetic on the frame pointer keeps the stack slot we point to.
  if (is64 && a.k === 'fp' && b.k === 'consts' && b.v.length === 1 && (op === OP.add || op === OP.sub)) {
    const k = BigInt.asIntN(64, b.v[0])
    const off = a.off + Number(op === OP.add ? k : -k)
    return Number.isSafeInteger(off) ? {k: 'fp', off} : UNKNOWN
  }

  if (a.k !== 'consts' || (b.k !== 'consts' && op !== OP.neg)) return UNKNOWN
  const bv = b.k === 'consts' ? b.v : [0n]
  if (a.v.length * bv.length > MAX_CONSTS * MAX_CONSTS) return UNKNOWN
  const width = is64 ? 64 : 32
  const mask = is64 ? U64 : 0xffff_ffffn
  const out: bigint[] = []
  for (const x0 of a.v) {
    for (const y0 of bv) {
      const x = x0 & mask
      const y = y0 & mask
      const sh = Number(y & BigInt(width - 1))
      let r: bigint
      switch (op) {
        case OP.add: {
          r = x + y
          break
        }
        case OP.sub: {
          r = x - y
          break
        }
        case OP.mul: {
          r = x * y
          break
        }
        case OP.or: {
          r = x | y
          break
        }
        case OP.and: {
          r = x & y
          break
        }
        case OP.xor: {
          r = x ^ y
          break
        }
        case OP.lsh: {
          r = x << BigInt(sh)
          break
        }
        case OP.rsh: {
          r = x >> BigInt(sh)
          break
        }
        case OP.arsh: {
          r = BigInt.asIntN(width, x) >> BigInt(sh)
          break
        }
        case OP.neg: {
          r = -x
          break
        }
        default: {
          return UNKNOWN
        } // div/mod (offset-encoded signed variants), endianness swaps
      }

      out.push(BigInt.asUintN(width, r))
    }
  }

  return consts(out)
}

function clobberStack(st: State, off: number, size: number): void {
  st.stack = st.stack.filter((s) => s.off + s.size <= off || off + size <= s.off)
}

/** Execute one instruction on the abstract state (in place). Records tail-call sites. */
// Register access for step(): plain functions, not closures made per instruction (this runs once
// per instruction visit; a closure per visit is most of the cost on a cold start).
function setReg(st: State, r: number, v: Val): void {
  if (r < NREGS && r !== R10) st.regs[r] = v
}

function getReg(st: State, r: number): Val {
  return r < NREGS ? (st.regs[r] ?? UNKNOWN) : UNKNOWN
}

function step(ins: Insn[], i: number, st: State, onTailCall: (i: number, regs: (Val | undefined)[]) => void): void {
  const x = ins[i]
  const c = cls(x.code)
  switch (c) {
    case CLS.alu:
    case CLS.alu64: {
      const op = x.code & 0xf0
      const is64 = c === CLS.alu64
      if (op === OP.end || ((op === OP.mov || op === OP.div || op === OP.mod) && x.off !== 0)) {
        // byte swaps, movsx, sdiv/smod: rare around tail calls; give up precision.
        setReg(st, x.dst, UNKNOWN)
        return
      }

      const b: Val = x.code & SRC_X ? getReg(st, x.src) : {k: 'consts', v: [BigInt.asUintN(64, BigInt(x.imm))]}
      setReg(st, x.dst, alu(op, is64, getReg(st, x.dst), b))
      return
    }

    case CLS.ld: {
      if (isLdImm64(x.code)) {
        const hi = i + 1 < ins.length ? ins[i + 1].imm : 0
        if (x.src === PSEUDO.mapFd) setReg(st, x.dst, {ids: [x.imm >>> 0], k: 'map'})
        else if (x.src === 0) setReg(st, x.dst, consts([(BigInt(hi >>> 0) << 32n) | BigInt(x.imm >>> 0)]))
        else setReg(st, x.dst, UNKNOWN) // map value pointers, BTF ids, function pointers
        return
      }

      // Legacy packet loads (LD_ABS/LD_IND) behave like a helper call.
      for (let r = 0; r <= 5; r++) setReg(st, r, UNKNOWN)
      return
    }

    case CLS.ldx: {
      const mode = x.code & 0xe0
      const size = SIZE_BYTES[(x.code >> 3) & 3]
      const base = getReg(st, x.src)
      let v: Val = UNKNOWN
      if (mode === MODE.mem && base.k === 'fp') {
        const off = base.off + x.off
        const slot = st.stack.find((s) => s.off === off && s.size === size)
        // A narrow fill reads back a narrow constant (stored already truncated); a pointer only whole.
        if (slot && (size === 8 || slot.val.k === 'consts')) v = slot.val
      }

      setReg(st, x.dst, v)
      return
    }

    case CLS.st:
    case CLS.stx: {
      const mode = x.code & 0xe0
      const size = SIZE_BYTES[(x.code >> 3) & 3]
      const base = getReg(st, x.dst)
      if (mode === MODE.atomic) {
        // Fetching atomics write back into src (cmpxchg into r0).
        setReg(st, x.src, UNKNOWN)
        setReg(st, 0, UNKNOWN)
        if (base.k === 'fp') clobberStack(st, base.off + x.off, size)
        return
      }

      if (base.k !== 'fp') return // a store into a map value or the context: not our stack
      const off = base.off + x.off
      clobberStack(st, off, size)
      let v: Val = c === CLS.st ? {k: 'consts', v: [BigInt.asUintN(64, BigInt(x.imm))]} : getReg(st, x.src)
      if (size < 8) v = v.k === 'consts' ? consts(v.v.map((n) => n & ((1n << BigInt(size * 8)) - 1n))) : UNKNOWN
      if (v.k !== 'unknown') st.stack.push({off, size, val: v})
      return
    }

    case CLS.jmp:
    case CLS.jmp32: {
      const op = x.code & 0xf0
      if (op !== JOP.call || c !== CLS.jmp) return
      if (x.src === 0 && x.imm === BPF_FUNC_TAIL_CALL) onTailCall(i, st.regs)
      // Helpers, kfuncs and bpf-to-bpf calls clobber r0–r5; a stack pointer passed in
      // r1–r5 lets the callee write our stack.
      let leaksStack = false
      for (let r = 1; r <= 5; r++) if (getReg(st, r).k === 'fp') leaksStack = true
      for (let r = 0; r <= 5; r++) setReg(st, r, UNKNOWN)
      if (leaksStack) st.stack = []
      return
    }

    default: {
      return
    }
  }
}

/** The analysis of one program's xlated instructions. Never throws. */
export function findTailCallSites(xlated: Uint8Array): SiteAnalysis {
  const problems: string[] = []
  const n = Math.floor(xlated.length / INSN_SIZE)
  if (xlated.length % INSN_SIZE !== 0)
    problems.push(`${xlated.length % INSN_SIZE} trailing bytes ignored (not a whole instruction)`)
  // Plain loops, not Array.from({length}): V8's generic array-like path costs more than the decode.
  const ins: Insn[] = new Array(n)
  for (let i = 0; i < n; i++) ins[i] = decode(xlated, i)

  // Slots that are the second half of a ld_imm64 are not instructions.
  const isInsn = new Uint8Array(n).fill(1)
  const mapRefs = new Set<number>()
  for (let i = 0; i < n; i++) {
    if (!isInsn[i] || !isLdImm64(ins[i].code)) continue
    if (i + 1 >= n) {
      problems.push(`insn ${i}: ld_imm64 is cut off`)
      isInsn[i] = 0
      continue
    }

    isInsn[i + 1] = 0
    if (ins[i].src === PSEUDO.mapFd || ins[i].src === PSEUDO.mapValue) mapRefs.add(ins[i].imm >>> 0)
  }

  // Basic blocks: leaders are 0, jump targets, the instruction after a block end, and the
  // entries of bpf-to-bpf callees (which start from an unknown state of their own).
  const leader = new Uint8Array(n)
  const calleeEntry = new Uint8Array(n)
  if (n > 0) leader[0] = 1
  // Successors of the jumps; every other instruction falls through (fallthrough() below): an
  // array per instruction would be most of this loop's allocations.
  const succ: (number[] | undefined)[] = new Array(n)
  const fallthrough = (i: number): number[] => {
    const t = isLdImm64(ins[i].code) ? i + 2 : i + 1
    return t < n ? [t] : []
  }

  for (let i = 0; i < n; i++) {
    if (!isInsn[i]) continue
    const code = ins[i].code
    if (isLdImm64(code) || (cls(code) !== CLS.jmp && cls(code) !== CLS.jmp32)) {
      // Falls through to the next instruction (which is never half of a ld_imm64) and ends no block:
      // what successors() says for it, without its allocations (most instructions are these).
      continue
    }

    const {ends, next} = successors(ins, i, n, problems)
    const valid = next.filter((t) => {
      if (t >= n) return false
      if (!isInsn[t]) {
        problems.push(`insn ${i}: jump into the middle of a ld_imm64 at ${t - 1}`)
        return false
      }

      return true
    })
    succ[i] = valid
    if (ends) for (const t of valid) leader[t] = 1
    if (ends && i + 1 < n && isInsn[i + 1]) leader[i + 1] = 1
    const x = ins[i]
    if (cls(x.code) === CLS.jmp && (x.code & 0xf0) === JOP.call && x.src === PSEUDO.call) {
      // Interpreted programs keep the callee's offset in imm; after JIT it is in off (imm = subprog index).
      for (const rel of [x.off, x.imm]) {
        const t = i + rel + 1
        if (rel !== 0 && t > 0 && t < n && isInsn[t]) {
          leader[t] = 1
          calleeEntry[t] = 1
        }
      }
    }
  }

  // Blocks: start → [start, end], with successor block starts.
  const blockOf = new Int32Array(n).fill(-1)
  const blocks: {end: number; start: number; succ: number[]}[] = []
  let b: {end: number; start: number; succ: number[]} | undefined
  for (let i = 0; i < n; i++) {
    if (!isInsn[i]) continue
    if (leader[i] || b === undefined) {
      b = {end: i, start: i, succ: []}
      blocks.push(b)
    }

    b.end = i
    blockOf[i] = blocks.length - 1
  }

  for (const b of blocks)
    b.succ = [...new Set((succ[b.end] ?? fallthrough(b.end)).map((t) => blockOf[t]).filter((t) => t >= 0))]
  const hasPred = new Uint8Array(blocks.length)
  for (const b of blocks) for (const s of b.succ) hasPred[s] = 1

  let budget = Math.max(n, 1) * WORK_PER_INSN
  let exhausted = false
  /** Where a bpf-to-bpf call at insn i goes (the callee's first instruction), if we can tell. */
  const calleeOf = (i: number): number | undefined => {
    for (const rel of [ins[i].off, ins[i].imm]) {
      const t = i + rel + 1
      if (rel !== 0 && t > 0 && t < n && calleeEntry[t]) return t
    }

    return undefined
  }

  /**
   * The fixpoint from the given entry blocks. Records, per tail-call site, r2 and r3 joined over
   * every path, and per bpf-to-bpf call, the caller's r1–r5 there (what the callee starts with).
   */
  const solve = (entries: {block: number; state: State}[]) => {
    const inState: (State | undefined)[] = new Array(blocks.length).fill(undefined)
    const queued = new Uint8Array(blocks.length)
    const work: number[] = []
    for (const e of entries) {
      inState[e.block] = e.state
      work.push(e.block)
      queued[e.block] = 1
    }

    const siteRegs = new Map<number, {r2: Val | undefined; r3: Val | undefined}>()
    const callArgs = new Map<number, (Val | undefined)[]>()
    // The site's facts are the join over every pass that reached it (each pass is at least as
    // general as the previous one, so the last one wins).
    const onTailCall = (i: number, regs: (Val | undefined)[]) => siteRegs.set(i, {r2: regs[2], r3: regs[3]})
    while (work.length > 0) {
      if (budget <= 0) {
        exhausted = true
        break
      }

      const bi = work.shift()!
      queued[bi] = 0
      const b = blocks[bi]
      const st: State = {regs: [...inState[bi]!.regs], stack: [...inState[bi]!.stack]}
      for (let i = b.start; i <= b.end; i++) {
        if (!isInsn[i]) continue
        budget--
        const x = ins[i]
        if (cls(x.code) === CLS.jmp && (x.code & 0xf0) === JOP.call && x.src === PSEUDO.call) {
          // A pointer into this frame's stack means nothing in the callee's frame.
          const args = st.regs.slice(0, 6).map((v) => (v?.k === 'fp' ? UNKNOWN : v))
          const prev = callArgs.get(i)
          callArgs.set(i, prev ? args.map((v, r) => join(prev[r], v)) : args)
        }

        step(ins, i, st, onTailCall)
      }

      for (const s of b.succ) {
        const {changed, state} = joinState(inState[s], st)
        if (!changed) continue
        inState[s] = state
        if (!queued[s]) {
          queued[s] = 1
          work.push(s)
        }
      }
    }

    return {callArgs, siteRegs}
  }

  // Entry, callee entries and blocks nothing jumps to (dead code, or callees the JIT encoding
  // hid from us) all start from "unknown".
  const roots = blocks.flatMap((b, bi) =>
    bi === 0 || calleeEntry[b.start] || !hasPred[bi] ? [{block: bi, state: entryState()}] : [],
  )
  const main = solve(roots)

  // A subprogram's tail call whose map or key comes from its caller (a prog array passed as an
  // argument): analyse the subprogram once per call site, from what that caller passes, so each
  // caller's array resolves. Nested calls are followed the same way, up to the verifier's 8 frames.
  const contexts = new Map<number, {via: number[]; r2: Val | undefined; r3: Val | undefined}[]>()
  const follow = (callArgs: Map<number, (Val | undefined)[]>, via: number[]) => {
    if (via.length >= MAX_FRAMES - 1) return
    for (const [call, args] of [...callArgs].sort((a, b) => a[0] - b[0])) {
      const t = calleeOf(call)
      if (t === undefined || budget <= 0) continue
      // Only what a callee can use: map pointers and constants in r1–r5.
      if (!args.slice(1, 6).some((v) => v?.k === 'map' || v?.k === 'consts')) continue
      const state = entryState()
      for (let r = 1; r <= 5; r++) state.regs[r] = args[r] ?? UNKNOWN
      const r = solve([{block: blockOf[t], state}])
      for (const [insn, regs] of r.siteRegs) {
        const list = contexts.get(insn) ?? []
        list.push({...regs, via: [...via, call]})
        contexts.set(insn, list)
      }

      follow(r.callArgs, [...via, call])
    }
  }

  follow(main.callArgs, [])
  if (exhausted)
    problems.push('analysis stopped early (work budget exhausted); some call sites may be reported as unknown')

  const sites: TailCallSite[] = []
  for (let i = 0; i < n; i++) {
    const x = ins[i]
    if (!isInsn[i] || x.code !== (CLS.jmp | JOP.call) || x.src !== 0 || x.imm !== BPF_FUNC_TAIL_CALL) continue
    const plain = describeSite(i, main.siteRegs.get(i))
    const perCaller = (contexts.get(i) ?? []).map((c) => ({...describeSite(i, c), via: c.via}))
    // Split by caller only where a caller tells more than the subprogram alone (its map or key).
    const knows = (x: TailCallSite) => x.mapId !== undefined || x.mapIds !== undefined
    const better = perCaller.some(
      (c) => (!knows(plain) && knows(c)) || (plain.key.kind !== 'constant' && c.key.kind === 'constant'),
    )
    if (!better) {
      sites.push(plain)
      continue
    }

    // The kernel patches a direct jump only if every path brings the same map and key.
    const same = perCaller.every(
      (c) =>
        c.path === 'direct' &&
        c.mapId === perCaller[0].mapId &&
        c.key.kind === 'constant' &&
        perCaller[0].key.kind === 'constant' &&
        c.key.value === perCaller[0].key.value,
    )
    for (const c of perCaller) sites.push({...c, path: same ? 'direct' : 'indirect'})
  }

  return {insns: n, mapRefs: [...mapRefs].sort((a, b) => a - b), problems: [...new Set(problems)].slice(0, 20), sites}
}

function describeSite(insn: number, regs: {r2: Val | undefined; r3: Val | undefined} | undefined): TailCallSite {
  const r2 = regs?.r2
  const r3 = regs?.r3
  const site: TailCallSite = {insn, key: {kind: 'unknown'}, path: 'indirect'}
  if (r2?.k === 'map') {
    if (r2.ids.length === 1) site.mapId = r2.ids[0]
    else site.mapIds = r2.ids
  }

  if (r3?.k === 'consts') {
    // The helper takes the index as u32.
    const values = [...new Set(r3.v.map((v) => Number(v & 0xffff_ffffn)))].sort((a, b) => a - b)
    site.key = values.length === 1 ? {kind: 'constant', value: values[0]} : {kind: 'one-of', values}
  }

  if (site.mapId !== undefined && site.key.kind === 'constant') site.path = 'direct'
  return site
}

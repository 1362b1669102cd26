/**
 * `tailcalls prog run PROG`: bpftool's `prog run` (BPF_PROG_TEST_RUN on any loaded program,
 * inputs from files or stdin, outputs to files or stdout), plus what bpftool does not say: the
 * output sizes, and for a program that makes tail calls, the prog arrays it goes through and the
 * programs it can reach (the live tail-call graph from that program), so a return value can be
 * read against the chain that produced it.
 *
 * JSON keys and their order are bpftool's (`data_out`, `ctx_out` as arrays of byte values when
 * written to stdout, then `retval` and `duration`); ours follow: `data_size_out`, `ctx_size_out`,
 * `repeat`, `prog` and `tail_calls`.
 */
import {readFileSync, writeFileSync} from 'node:fs'

import {TailcallsError, fromErrno} from '../errors.js'
import {closeFd} from '../kernel/ids.js'
import {progFullName, progInfo} from '../kernel/info.js'
import {progTypeName} from '../kernel/names.js'
import {type Selector, describeSelector, select} from '../kernel/select.js'
import {type TestRunResult, testRun} from '../kernel/test-run.js'
import {toJson} from '../render/json.js'
import {objectLabel} from '../render/label.js'
import {SysError, isErrno} from '../sys/error.js'
import {BPF_PROG_TYPE} from '../sys/uapi.js'

/** bpftool's default room for data_out / ctx_out when an input is given. */
const DEFAULT_SIZE_OUT = 32 * 1024

export interface ProgRunOptions {
  selector: Selector
  dataIn?: string
  ctxIn?: string
  dataOut?: string
  ctxOut?: string
  dataSizeOut?: number
  ctxSizeOut?: number
  repeat: number
  json: boolean
  /** Leave out the tail-call reach (it reads every prog array in the kernel). */
  noGraph?: boolean
}

export interface TailCallReach {
  prog_arrays: {
    id: number
    name: string
    max_entries: number
    slots: {key: number; prog_id: number; prog_name?: string}[]
  }[]
  reaches: {id: number; name: string}[]
  /** Tail calls on the longest path from this program; null when a cycle makes it unbounded. */
  longest_chain: number | null
  cyclic: boolean
  findings: {kind: string; severity: string; message: string}[]
}

export interface ProgRunReport {
  prog: {id: number; name: string; type: string | number}
  result: TestRunResult
  repeat: number
  tailCalls: TailCallReach | null | undefined
  dataOut?: string
  ctxOut?: string
}

/** Program types whose input is a packet (data_in), with the smallest packet the kernel takes. */
const PACKET_TYPES = new Set<number>([
  BPF_PROG_TYPE.SOCKET_FILTER,
  BPF_PROG_TYPE.SCHED_CLS,
  BPF_PROG_TYPE.SCHED_ACT,
  BPF_PROG_TYPE.XDP,
  BPF_PROG_TYPE.CGROUP_SKB,
  BPF_PROG_TYPE.LWT_IN,
  BPF_PROG_TYPE.LWT_OUT,
  BPF_PROG_TYPE.LWT_XMIT,
  BPF_PROG_TYPE.LWT_SEG6LOCAL,
  BPF_PROG_TYPE.FLOW_DISSECTOR,
])

/** What a program of this type takes as input, for the hint of a refused run. */
function inputHint(type: number): string {
  if (PACKET_TYPES.has(type))
    return 'give --data-in FILE with a packet of at least 14 bytes (an Ethernet header); --ctx-in takes the context struct (e.g. __sk_buff), optional'
  if (type === BPF_PROG_TYPE.RAW_TRACEPOINT || type === BPF_PROG_TYPE.RAW_TRACEPOINT_WRITABLE)
    return 'give its arguments as --ctx-in FILE (8 bytes per argument), no --data-in'
  if (type === BPF_PROG_TYPE.SYSCALL) return 'give its context as --ctx-in FILE, no --data-in'
  if (type === BPF_PROG_TYPE.SK_LOOKUP) return 'give --ctx-in FILE with a struct bpf_sk_lookup, no --data-in'
  if (type === BPF_PROG_TYPE.TRACING) return 'fentry/fexit/fmod_ret programs take no --data-in or --ctx-in'
  return 'check --data-in / --ctx-in against what this program type takes'
}

function readInput(path: string, what: string, stdin: () => Buffer): Buffer {
  try {
    return path === '-' ? stdin() : readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new TailcallsError(code === 'ENOENT' ? 'notFound' : 'usage', `cannot read ${what} '${path}': ${code}`, {
      hint: `give a readable file, or - for stdin`,
    })
  }
}

function openOne(sel: Selector): number {
  const s = select('prog', sel)
  if (s.fds.length === 1) return s.fds[0]
  const ids: number[] = []
  for (const fd of s.fds) {
    try {
      ids.push(progInfo(fd).id)
    } finally {
      closeFd(fd)
    }
  }

  throw new TailcallsError('usage', `${describeSelector(sel)} matches ${ids.length} programs (ids ${ids.join(', ')})`, {
    hint: `run one by id: prog run id ${ids[0]}`,
  })
}

/** The kernel's refusal, in the words of the program type and what to do about it. */
function refusal(error: SysError, prog: ProgRunReport['prog'], typeId: number): TailcallsError {
  const who = `${objectLabel(prog)}, type ${prog.type}`
  // A tracing program other than fentry/fexit/fmod_ret (tp_btf, iter, …) gets EFAULT, not ENOTSUPP:
  // the kernel's tracing test run only knows how to trigger those three.
  const tracingOther = typeId === BPF_PROG_TYPE.TRACING && isErrno(error, 'EFAULT')
  if (tracingOther || isErrno(error, 'ENOTSUPP', 'EOPNOTSUPP')) {
    const tracing =
      typeId === BPF_PROG_TYPE.TRACING ? ' (of tracing programs only fentry, fexit and fmod_ret can be)' : ''
    return new TailcallsError(
      'kernelSupport',
      `the kernel cannot test-run ${who}: BPF_PROG_TEST_RUN is not supported for this program type${tracing} (${error.code})`,
      {
        cause: error,
        hint: 'attach it and trigger its event instead (`tailcalls load`), and watch it with `tailcalls stats` or `tailcalls events`; socket_filter, tc, xdp, raw_tp, fentry/fexit, syscall and flow_dissector programs can be test-run',
      },
    )
  }

  if (isErrno(error, 'EINVAL'))
    return new TailcallsError('usage', `the kernel refused the input for ${who} (EINVAL)`, {
      cause: error,
      hint: inputHint(typeId),
    })
  if (isErrno(error, 'ENOSPC'))
    return new TailcallsError('usage', `the output of ${who} does not fit the room given (ENOSPC)`, {
      cause: error,
      hint: 'give a larger --data-size-out / --ctx-size-out',
    })
  return fromErrno(error)
}

/** Which prog arrays the program's tail calls go through, and what they reach (the live graph). */
async function reachOf(progId: number): Promise<TailCallReach | null> {
  const {collectReachable} = await import('../graph/collect.js')
  const {buildGraph} = await import('../graph/graph.js')
  const g = buildGraph(collectReachable([progId]), {selected: [progId]})
  const nodes = g.programs
  const sites = nodes.flatMap((p) => p.sites)
  if (!nodes.find((p) => p.id === progId)?.sites.length) return null
  const used = new Set(sites.flatMap((s) => (s.mapId === undefined ? [] : [s.mapId])))
  const chain = g.chains.find((c) => c.root === progId)
  return {
    cyclic: chain?.cyclic ?? false,
    findings: g.findings
      // Links are not read (a test run needs no attachment): "no attached program uses it" says nothing here.
      .filter((f) => f.kind !== 'unused-map' && f.kind !== 'analysis')
      .map((f) => ({kind: f.kind, message: f.message, severity: f.severity})),
    longest_chain: chain?.longest ?? null,
    prog_arrays: g.maps
      .filter((m) => used.has(m.id))
      .map((m) => ({
        id: m.id,
        max_entries: m.maxEntries,
        name: m.name,
        slots: m.slots.map((s) => ({key: s.slot, prog_id: s.progId, prog_name: s.progName})),
      })),
    reaches: nodes.filter((p) => p.id !== progId).map((p) => ({id: p.id, name: p.name})),
  }
}

function writeOutput(path: string, bytes: Buffer, what: string): void {
  try {
    writeFileSync(path, bytes)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new TailcallsError('usage', `cannot write ${what} to '${path}': ${code}`, {hint: 'give a writable path'})
  }
}

function checkOptions(o: ProgRunOptions): void {
  if (o.dataIn === '-' && o.ctxIn === '-')
    throw new TailcallsError('usage', 'cannot read both --data-in and --ctx-in from standard input', {
      hint: 'give one of them as a file',
    })
  if (o.dataOut !== undefined && o.dataIn === undefined)
    throw new TailcallsError('usage', '--data-out needs --data-in', {
      hint: 'the program writes data out only for data in',
    })
  if (o.ctxOut !== undefined && o.ctxIn === undefined)
    throw new TailcallsError('usage', '--ctx-out needs --ctx-in', {
      hint: 'the kernel returns the context only when one is given',
    })
  if (o.dataOut === '-' && o.ctxOut === '-' && !o.json)
    throw new TailcallsError('usage', 'cannot write both --data-out and --ctx-out to standard output', {
      hint: 'give one of them as a file (or use --json, which holds both)',
    })
}

/** Run it; returns what was run and what came back (the caller prints it). */
export async function progRun(o: ProgRunOptions): Promise<ProgRunReport> {
  checkOptions(o)
  const stdin = () => readFileSync(0)
  const data = o.dataIn === undefined ? undefined : readInput(o.dataIn, '--data-in', stdin)
  const ctx = o.ctxIn === undefined ? undefined : readInput(o.ctxIn, '--ctx-in', stdin)
  const fd = openOne(o.selector)
  let report: ProgRunReport
  let nrMapIds: number
  try {
    const info = progInfo(fd)
    nrMapIds = info.nrMapIds ?? 0
    const prog = {id: info.id, name: progFullName(fd, info), type: progTypeName(info.type)}
    let result: TestRunResult
    try {
      result = testRun(fd, {
        ctx,
        ctxSizeOut: ctx ? (o.ctxSizeOut ?? DEFAULT_SIZE_OUT) : 0,
        data,
        dataSizeOut: data ? (o.dataSizeOut ?? DEFAULT_SIZE_OUT) : 0,
        repeat: o.repeat,
      })
    } catch (error) {
      if (error instanceof SysError) throw refusal(error, prog, info.type)
      throw error
    }

    report = {prog, repeat: o.repeat, result, tailCalls: undefined}
  } finally {
    closeFd(fd)
  }

  if (o.dataOut !== undefined && o.dataOut !== '-' && report.result.dataOut)
    writeOutput(o.dataOut, report.result.dataOut, 'data out')
  if (o.ctxOut !== undefined && o.ctxOut !== '-' && report.result.ctxOut)
    writeOutput(o.ctxOut, report.result.ctxOut, 'ctx out')
  report.dataOut = o.dataOut
  report.ctxOut = o.ctxOut
  // A program that uses no map makes no tail calls: skip the scan of the kernel's prog arrays.
  if (!o.noGraph && nrMapIds > 0) {
    try {
      report.tailCalls = await reachOf(report.prog.id)
    } catch (error) {
      // Without CAP_SYS_ADMIN (a pinned program run with CAP_BPF only) the kernel cannot be
      // scanned: the run itself stands, the reach is left out.
      if (!isErrno(error, 'EPERM', 'EACCES')) throw error
    }
  } else if (!o.noGraph) report.tailCalls = null

  return report
}

/** bpftool's hex dump of `prog run … data_out -`: offset, 16 bytes in pairs, then printable ASCII. */
export function hexDump(bytes: Buffer): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 16) {
    let line = `${i.toString(16).padStart(7, '0')}\t`
    for (let j = i; j < i + 16; j++) {
      line += j < bytes.length ? bytes[j].toString(16).padStart(2, '0') : '  '
      if (j % 2) line += ' '
    }

    line += '| '
    for (let j = i; j < i + 16 && j < bytes.length; j++) {
      const c = bytes[j]
      line += c < 0x20 || c > 0x7e ? '.' : String.fromCharCode(c)
      if (j === i + 7) line += ' '
    }

    out += `${line}\n`
  }

  return out
}

/** The JSON document: bpftool's keys in bpftool's order, then ours. */
export function reportJson(r: ProgRunReport): string {
  const doc: Record<string, unknown> = {}
  if (r.dataOut === '-' && r.result.dataOut) doc.data_out = [...r.result.dataOut]
  if (r.ctxOut === '-' && r.result.ctxOut) doc.ctx_out = [...r.result.ctxOut]
  doc.retval = r.result.retval
  doc.duration = r.result.duration
  doc.data_size_out = r.result.dataOut?.length ?? 0
  doc.ctx_size_out = r.result.ctxOut?.length ?? 0
  doc.repeat = r.repeat
  doc.prog = r.prog
  if (r.tailCalls !== undefined) doc.tail_calls = r.tailCalls
  return `${toJson(doc)}\n`
}

/** The text: bpftool's line, then the sizes and the tail calls. */
export function reportText(r: ProgRunReport): string {
  let out = ''
  if (r.dataOut === '-' && r.result.dataOut) out += hexDump(r.result.dataOut)
  if (r.ctxOut === '-' && r.result.ctxOut) out += hexDump(r.result.ctxOut)
  out += `Return value: ${r.result.retval}, duration${r.repeat > 1 ? ' (average)' : ''}: ${r.result.duration}ns\n`
  const sizes: string[] = []
  if (r.result.dataOut) sizes.push(`data out ${r.result.dataOut.length} bytes${where(r.dataOut)}`)
  if (r.result.ctxOut) sizes.push(`ctx out ${r.result.ctxOut.length} bytes${where(r.ctxOut)}`)
  if (sizes.length > 0) out += `${sizes.join(', ')}\n`
  const t = r.tailCalls
  if (t) {
    const arrays = t.prog_arrays.map((m) => {
      const slots = m.slots.map((s) => `[${s.key}] ${s.prog_name ?? `id ${s.prog_id}`}`).join(', ')
      return `${objectLabel(m)}: ${slots || '(all slots empty)'}`
    })
    out += `tail calls through ${arrays.join('; ') || '(no prog array resolved)'}\n`
    const reached = t.reaches.map((p) => objectLabel(p)).join(', ')
    const longest =
      t.longest_chain === null
        ? 'unbounded (a cycle: the kernel stops it after 33 tail calls)'
        : String(t.longest_chain)
    out += `reaches ${reached || 'no program (every slot it uses is empty)'}; longest chain: ${longest}\n`
    for (const f of t.findings) out += `  ${f.severity}: ${f.message}\n`
  }

  return out
}

function where(path: string | undefined): string {
  if (path === undefined) return ''
  return path === '-' ? ' (above)' : ` → ${path}`
}

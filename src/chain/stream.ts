/**
 * Streaming a chain's events to stdout until Ctrl-C, SIGTERM/SIGHUP, --count or --duration,
 * then a summary that accounts for every event: received, dropped by the ring buffer
 * (counted in the kernel), and what the chain's own counters saw.
 */
import {type Batch, RingBufferReader} from '../libbpf/ringbuf.js'
import {toJson} from '../render/json.js'
import {EVENT, EVENT_KIND, STAGE_PROGS, TAIL_CALL_SLOTS} from '../sys/layouts.js'
import type {ChainStats} from './chain.js'
import {WallClock, formatRecord} from './events.js'
import {STOP_SIGNALS} from './interrupt.js'

export interface EventSource {
  eventsFd: number
  stats(): ChainStats
  /**
   * Stop new events at the source (detach prog1), before the final drain. Returns true when
   * it did stop them (a pinned chain keeps running: nothing to stop).
   */
  detach(): boolean | void
}

export interface StreamOptions {
  json: boolean
  count?: number
  durationSec?: number
  out: NodeJS.WritableStream & {writableNeedDrain?: boolean}
  /** Status lines (never events). */
  status: (line: string) => void
  /** How often the kernel's drop counter is checked while streaming. */
  dropCheckMs?: number
  /**
   * The counters to count from. A chain this process just created starts from zero, and so
   * does its ring: pass ZERO_STATS so events that arrive before streaming starts are
   * accounted exactly. Default: the counters read when streaming starts (a pinned chain).
   */
  baseline?: ChainStats
  /** Counts events written to `out` until the reader took them (see settleOutput). */
  ledger?: OutputLedger
}

export const ZERO_STATS: ChainStats = {
  ringbufDrops: 0,
  runs: Object.fromEntries(STAGE_PROGS.map((p) => [p, 0])),
  tailCallFailed: Array.from({length: TAIL_CALL_SLOTS}, () => 0),
}

export interface StreamSummary {
  events: Record<string, number>
  events_total: number
  tail_call_failed: number[]
  ringbuf_drops: number
  /** Events consumed after --count was reached (not printed). */
  unprinted: number
  /**
   * Ring-buffer records that were not one struct event (wrong size: an object given with
   * --object that sends something else). Skipped, never decoded from stale bytes.
   */
  malformed_records: number
  /** What the chain's per-CPU counters saw while we streamed: runs per program. */
  stage_runs: Record<string, number>
  stop_reason: 'count' | 'duration' | 'signal' | 'closed-output'
  signal?: string
  duration_s: number
  /** CPU time this process spent while streaming (user + system), for the event-path bench. */
  cpu_us: number
  /**
   * Events written to stdout that never reached the reader: it stopped reading and the user
   * asked twice to stop (see settleOutput). 0 unless output was abandoned.
   */
  undelivered: number
}

export async function streamEvents(source: EventSource, opts: StreamOptions): Promise<StreamSummary> {
  const clock = new WallClock()
  const started = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  const baseline = opts.baseline ?? source.stats()
  const ledger = opts.ledger ?? new OutputLedger()
  const events: Record<string, number> = Object.fromEntries(STAGE_PROGS.map((p) => [p, 0]))
  const failed = Array.from({length: TAIL_CALL_SLOTS}, () => 0)
  let printed = 0
  let unprinted = 0
  let lastDrops = 0

  let finish!: (reason: StreamSummary['stop_reason'], signal?: string) => void
  const done = new Promise<{reason: StreamSummary['stop_reason']; signal?: string}>((resolve) => {
    let settled = false
    finish = (reason, signal) => {
      if (settled) return
      settled = true
      resolve({reason, signal})
    }
  })

  const onBatch = ({buf, count}: Batch) => {
    let chunk = ''
    for (let i = 0; i < count; i++) {
      if (opts.count !== undefined && printed >= opts.count) {
        unprinted += count - i
        break
      }

      const off = i * EVENT.size
      if (buf.readUInt32LE(off + EVENT.kind) === EVENT_KIND.tailCallFailed) {
        // A slot number from the record (another object via --object may send anything): only
        // the chain's slots are array entries; a huge index would make a huge sparse array.
        const slot = buf.readUInt32LE(off + EVENT.slot)
        if (slot < TAIL_CALL_SLOTS) failed[slot]++
        else events.unknown = (events.unknown ?? 0) + 1
      } else {
        const prog = STAGE_PROGS[buf.readUInt32LE(off + EVENT.prog)] ?? 'unknown'
        events[prog] = (events[prog] ?? 0) + 1
      }

      chunk += formatRecord(buf, off, clock, opts.json) + '\n'
      printed++
    }

    if (chunk && !outputClosed) {
      const ok = ledger.write(opts.out, chunk, count)
      // A slow reader: stop draining the ring; the kernel side counts what it drops.
      if (!ok) {
        reader.pause()
        opts.out.once('drain', () => reader.resume())
      }
    }

    if (opts.count !== undefined && printed >= opts.count) finish('count')
  }

  let outputClosed = false
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      outputClosed = true
      finish('closed-output')
    }
  }

  opts.out.on('error', onOutputError)
  const reader = new RingBufferReader(source.eventsFd, EVENT.size, onBatch)

  const checkDrops = () => {
    const drops = source.stats().ringbufDrops - baseline.ringbufDrops
    if (drops > lastDrops) {
      const delta = drops - lastDrops
      lastDrops = drops
      if (opts.json && !outputClosed) {
        opts.out.write(
          `{"timestamp":"${new Date().toISOString()}","level":"WARN","event":"ringbuf_drops","dropped":${delta},"dropped_total":${drops}}\n`,
        )
      } else {
        opts.status(`warning: the ring buffer dropped ${delta} events (${drops} in all); the reader is too slow`)
      }
    }
  }

  const dropTimer = setInterval(checkDrops, opts.dropCheckMs ?? 1000)
  const signals = STOP_SIGNALS
  const onSignal = (signal: string) => finish('signal', signal)
  for (const s of signals) process.on(s, onSignal)
  const durationTimer =
    opts.durationSec === undefined ? undefined : setTimeout(() => finish('duration'), opts.durationSec * 1000)

  opts.status('Waiting for Ctrl-C...')
  reader.start()
  const {reason, signal} = await done

  // Teardown order: stop producing, drain what is already in the ring, then count.
  for (const s of signals) process.off(s, onSignal)
  clearInterval(dropTimer)
  if (durationTimer) clearTimeout(durationTimer)
  const stopped = source.detach() === true
  reader.drain()
  let end = source.stats()
  if (stopped) {
    // A program that began on another CPU just before the detach may still be running: it has
    // counted its run and not yet reserved its event. Drain until events + drops account for
    // every run (bounded: the tracepoint stops calling into a detached program at once).
    const deadline = Date.now() + 250
    const accounted = () => printed + unprinted + reader.malformed + end.ringbufDrops - baseline.ringbufDrops
    const runs = () =>
      sum(Object.values(end.runs)) -
      sum(Object.values(baseline.runs)) +
      sum(end.tailCallFailed) -
      sum(baseline.tailCallFailed)
    while (accounted() < runs() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
      reader.drain()
      end = source.stats()
    }
  }

  reader.close()
  checkDrops()
  opts.out.off('error', onOutputError)

  const stageRuns = Object.fromEntries(STAGE_PROGS.map((p) => [p, end.runs[p] - baseline.runs[p]]))
  const cpu = process.cpuUsage(cpuStart)
  return {
    cpu_us: cpu.user + cpu.system,
    duration_s: Number(process.hrtime.bigint() - started) / 1e9,
    events,
    events_total: printed,
    ringbuf_drops: end.ringbufDrops - baseline.ringbufDrops,
    signal,
    stage_runs: stageRuns,
    stop_reason: reason,
    malformed_records: reader.malformed,
    tail_call_failed: failed,
    undelivered: 0,
    unprinted,
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

/** Events written to stdout that the kernel has not yet taken from this process. */
export class OutputLedger {
  pending = 0
  /** A write failed (EPIPE: the reader went away): nothing pending will ever be delivered. */
  failed = false

  write(out: NodeJS.WritableStream, chunk: string, events: number): boolean {
    this.pending += events
    return out.write(chunk, (error) => {
      if (error) this.failed = true
      else this.pending -= events
    })
  }
}

type Out = NodeJS.WritableStream & {writableLength?: number; destroyed?: boolean}

/**
 * After the chain is freed, wait until stdout has handed everything to the reader (Node keeps
 * unwritten output in memory while a pipe is full; a stream into a pipe nobody reads must not
 * hold anything in the kernel, and it does not: this runs after close()). The reader resuming
 * ends the wait; a second SIGINT/SIGTERM/SIGHUP gives up (`abandoned`: the caller must exit
 * with process.exit()) and says how many events were never read (the summary's `undelivered`).
 */
export async function settleOutput(
  out: Out,
  ledger: OutputLedger,
  status: (line: string) => void,
  json: boolean,
): Promise<{undelivered: number; abandoned: boolean}> {
  // The reader went away (EPIPE): what was still buffered never reached anyone.
  const gone = () => ledger.failed || out.destroyed === true || Boolean((out as {errored?: unknown}).errored)
  if (gone()) return {abandoned: false, undelivered: ledger.pending}
  const pendingBytes = () => (out.destroyed ? 0 : (out.writableLength ?? 0))
  if (ledger.pending === 0) return {abandoned: false, undelivered: 0}
  const gaveUp = await new Promise<boolean>((resolve) => {
    // Done when every write's callback ran (the kernel took the bytes), not merely when
    // writableLength reads 0: the callbacks of a batched write run a little later.
    const timer = setInterval(() => {
      if (ledger.pending === 0 || gone()) finish(false)
    }, 20)
    const onSignal = () => finish(true)
    const onClose = () => finish(false)
    const finish = (abandoned: boolean) => {
      clearInterval(timer)
      for (const s of STOP_SIGNALS) process.off(s, onSignal)
      out.off('close', onClose)
      out.off('error', onClose)
      resolve(abandoned)
    }

    // Listen before saying so: whoever reads the line may signal at once, and a signal with no
    // listener left (the stream's own were removed when it stopped) kills Node outright.
    for (const s of STOP_SIGNALS) process.on(s, onSignal)
    out.on('close', onClose)
    out.on('error', onClose)
    status(
      json
        ? toJson({waiting_for_reader: {bytes: pendingBytes(), events: ledger.pending}})
        : `Waiting for the reader to take the last ${pendingBytes()} bytes of output (${ledger.pending} events); signal again to drop them`,
    )
  })
  // process.stdout cannot be destroyed (Node keeps fd 1 open, and its pending writes keep the
  // process alive): the caller exits with process.exit() once the summary is out.
  return {abandoned: gaveUp, undelivered: ledger.pending}
}

export function formatSummary(s: StreamSummary): string {
  const perProg = Object.entries(s.events)
    .filter(([p, n]) => n > 0 || p !== 'prog3_v2')
    .map(([p, n]) => `${p} ${n}`)
    .join(', ')
  const failed = s.tail_call_failed.reduce((a, b) => a + b, 0)
  const failedSlots = failed ? ` (${s.tail_call_failed.map((n, i) => `slot ${i}: ${n}`).join(', ')})` : ''
  let extra = s.unprinted ? `; ${s.unprinted} more received after --count` : ''
  if (s.undelivered) extra += `; ${s.undelivered} written but never read (the reader stopped)`
  if (s.malformed_records) extra += `; ${s.malformed_records} records of the wrong size skipped`
  return `Summary: ${s.events_total} events in ${s.duration_s.toFixed(1)} s (${perProg}); failed tail calls: ${failed}${failedSlots}; ring-buffer drops: ${s.ringbuf_drops}${extra}`
}

/**
 * Chain events: decoding the ring-buffer record (struct event) and rendering it as the
 * seed's log line or as one NDJSON object.
 */
import {EVENT, EVENT_KIND, STAGE_PROGS} from '../sys/layouts.js'

export interface ChainEvent {
  ts_ns: bigint
  kind: number
  prog: string
  cpu_id: number
  tgid: number
  per_event_count: number
  total_count: number
  slot: number
}

export function decodeEvent(buf: Buffer, offset = 0): ChainEvent {
  const prog = buf.readUInt32LE(offset + EVENT.prog)
  return {
    cpu_id: buf.readUInt32LE(offset + EVENT.cpu_id),
    kind: buf.readUInt32LE(offset + EVENT.kind),
    per_event_count: buf.readUInt32LE(offset + EVENT.per_event_count),
    prog: STAGE_PROGS[prog] ?? `prog#${prog}`,
    slot: buf.readUInt32LE(offset + EVENT.slot),
    tgid: buf.readUInt32LE(offset + EVENT.tgid),
    total_count: buf.readUInt32LE(offset + EVENT.total_count),
    ts_ns: buf.readBigUInt64LE(offset + EVENT.ts_ns),
  }
}

/**
 * Kernel timestamps (bpf_ktime_get_ns, CLOCK_MONOTONIC) to UTC wall-clock strings with
 * microseconds, as the seed prints them. process.hrtime is CLOCK_MONOTONIC too, so one
 * offset taken at start converts every event.
 */
export class WallClock {
  private readonly offsetNs: bigint
  private readonly offsetUs: number
  private readonly offsetSubUs: number
  private cachedSecond = -1
  private cachedPrefix = ''

  constructor() {
    this.offsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
    this.offsetUs = Number(this.offsetNs / 1000n)
    this.offsetSubUs = Number(this.offsetNs % 1000n)
  }

  iso(monotonicNs: bigint): string {
    return this.isoUs(Number((monotonicNs + this.offsetNs) / 1000n))
  }

  /**
   * The hot path: kernel nanoseconds as a Number (exact to well under a microsecond for
   * any uptime below decades), no BigInt arithmetic.
   */
  isoFromNs(monotonicNs: number): string {
    return this.isoUs(Math.floor((monotonicNs + this.offsetSubUs) / 1000) + this.offsetUs)
  }

  private isoUs(us: number): string {
    const second = Math.floor(us / 1_000_000)
    if (second !== this.cachedSecond) {
      this.cachedSecond = second
      this.cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19)
    }

    return `${this.cachedPrefix}.${String(us % 1_000_000).padStart(6, '0')}Z`
  }
}

/** `2024-10-09T08:03:46.976944Z  INFO ebpf::progs: [prog1] cpu_id: 0, tgid: 97003, per_event_count: 1, total_count: 1` */
export function formatText(e: ChainEvent, clock: WallClock): string {
  const counters = `cpu_id: ${e.cpu_id}, tgid: ${e.tgid}, per_event_count: ${e.per_event_count}, total_count: ${e.total_count}`
  if (e.kind === EVENT_KIND.tailCallFailed) {
    return `${clock.iso(e.ts_ns)} ERROR ebpf::progs: [${e.prog}] tail_call failed: TAIL_CALL_MAP[${e.slot}] is empty, ${counters}`
  }

  return `${clock.iso(e.ts_ns)}  INFO ebpf::progs: [${e.prog}] ${counters}`
}

/** One NDJSON line, keyed with the seed's names. Built by hand: this is the hot path. */
export function formatJson(e: ChainEvent, clock: WallClock): string {
  const common = `"prog":"${e.prog}","cpu_id":${e.cpu_id},"tgid":${e.tgid},"per_event_count":${e.per_event_count},"total_count":${e.total_count}`
  if (e.kind === EVENT_KIND.tailCallFailed) {
    return `{"timestamp":"${clock.iso(e.ts_ns)}","level":"ERROR","event":"tail_call_failed",${common},"map":"TAIL_CALL_MAP","slot":${e.slot}}`
  }

  return `{"timestamp":"${clock.iso(e.ts_ns)}","level":"INFO","event":"stage",${common}}`
}

/**
 * Format the record at `offset` straight from the ring-buffer bytes, without building a
 * ChainEvent: `tailcalls load` calls this once per event.
 */
export function formatRecord(buf: Buffer, offset: number, clock: WallClock, json: boolean): string {
  const ns = buf.readUInt32LE(offset + EVENT.ts_ns + 4) * 4_294_967_296 + buf.readUInt32LE(offset + EVENT.ts_ns)
  const progIndex = buf.readUInt32LE(offset + EVENT.prog)
  const prog = STAGE_PROGS[progIndex] ?? `prog#${progIndex}`
  const cpu = buf.readUInt32LE(offset + EVENT.cpu_id)
  const tgid = buf.readUInt32LE(offset + EVENT.tgid)
  const pec = buf.readUInt32LE(offset + EVENT.per_event_count)
  const total = buf.readUInt32LE(offset + EVENT.total_count)
  const failed = buf.readUInt32LE(offset + EVENT.kind) === EVENT_KIND.tailCallFailed
  const ts = clock.isoFromNs(ns)
  if (json) {
    const common = `"prog":"${prog}","cpu_id":${cpu},"tgid":${tgid},"per_event_count":${pec},"total_count":${total}`
    return failed
      ? `{"timestamp":"${ts}","level":"ERROR","event":"tail_call_failed",${common},"map":"TAIL_CALL_MAP","slot":${buf.readUInt32LE(offset + EVENT.slot)}}`
      : `{"timestamp":"${ts}","level":"INFO","event":"stage",${common}}`
  }

  const counters = `cpu_id: ${cpu}, tgid: ${tgid}, per_event_count: ${pec}, total_count: ${total}`
  return failed
    ? `${ts} ERROR ebpf::progs: [${prog}] tail_call failed: TAIL_CALL_MAP[${buf.readUInt32LE(offset + EVENT.slot)}] is empty, ${counters}`
    : `${ts}  INFO ebpf::progs: [${prog}] ${counters}`
}

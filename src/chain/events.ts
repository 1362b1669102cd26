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
  private cachedSecond = -1
  private cachedPrefix = ''

  constructor() {
    this.offsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
  }

  iso(monotonicNs: bigint): string {
    const us = Number((monotonicNs + this.offsetNs) / 1000n)
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

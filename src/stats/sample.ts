/**
 * One stats tick: the kernel's per-program counters and the chain's own per-stage counters,
 * as totals and as deltas over the interval since the previous sample.
 *
 * The kernel charges a whole tail-call chain to the program the hook ran (prog1): a tail
 * call jumps into the next program past the stats accounting, so prog2/prog3 report
 * run_cnt 0 (measured: always 0, on every kernel the tests run on). The chain's CHAIN_STATS counters fill that gap:
 * runs per stage, failed tail calls per slot, ring-buffer drops.
 */
import type {ChainStats} from '../chain/chain.js'
import {progInfo} from '../kernel/info.js'
import {SLOT} from '../sys/layouts.js'
import type {StatsTarget} from './target.js'

export interface Sample {
  /** CLOCK_MONOTONIC ns. */
  at: bigint
  progs: Map<number, {runCnt: bigint; runTimeNs: bigint}>
  chain: ChainStats
}

export function takeSample(target: StatsTarget): Sample {
  const progs = new Map<number, {runCnt: bigint; runTimeNs: bigint}>()
  for (const p of target.programs) {
    const info = progInfo(p.fd)
    progs.set(p.id, {runCnt: info.runCnt ?? 0n, runTimeNs: info.runTimeNs ?? 0n})
  }

  return {at: process.hrtime.bigint(), chain: target.chainStats(), progs}
}

export interface ProgramTick {
  name: string
  id: number
  /** Kernel counters (cumulative while stats were on, by anyone). */
  run_cnt: number
  run_time_ns: number
  /** run_time_ns / run_cnt, cumulative; null when run_cnt is 0. */
  avg_ns: number | null
  /** Over this interval. */
  run_cnt_delta: number
  run_time_ns_delta: number
  avg_ns_interval: number | null
  /** Δrun_cnt per second (bpftop's events/s). */
  events_per_s: number
  /** The chain's own counter for this stage (CHAIN_STATS), and over this interval. */
  stage_runs: number | null
  stage_runs_delta: number | null
  stage_runs_per_s: number | null
  /** Runs only through tail calls: the kernel's run_cnt stays 0 for it. */
  tail_called: boolean
}

export interface Tick {
  timestamp: string
  interval_s: number
  chain: {source: string; path?: string; pids?: number[]; chain_stats_map_id: number | null}
  kernel_stats: 'held fd' | 'off'
  programs: ProgramTick[]
  /** CHAIN_STATS per stage, whether or not the stage's program is still loaded. */
  stages: Array<{name: string; runs: number; runs_delta: number; runs_per_s: number}>
  tail_call_failed: Array<{slot: number; target: string; total: number; delta: number}>
  ringbuf_drops: {total: number; delta: number}
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits
const SLOT_NAMES = Object.fromEntries(Object.entries(SLOT).map(([prog, slot]) => [slot, prog]))

export function makeTick(target: StatsTarget, prev: Sample, cur: Sample, kernelStats: boolean): Tick {
  const seconds = Number(cur.at - prev.at) / 1e9
  const perSec = (n: number) => (seconds > 0 ? round(n / seconds) : 0)
  // The stage the chain's entry program is: prog1 in the bundled object.
  const entry = target.programs[0]?.name
  const programs = target.programs.map((p): ProgramTick => {
    const a = prev.progs.get(p.id) ?? {runCnt: 0n, runTimeNs: 0n}
    const b = cur.progs.get(p.id) ?? a
    const runCnt = Number(b.runCnt)
    const runTime = Number(b.runTimeNs)
    const dCnt = Number(b.runCnt - a.runCnt)
    const dTime = Number(b.runTimeNs - a.runTimeNs)
    const stage = cur.chain.runs[p.name]
    const stagePrev = prev.chain.runs[p.name]
    return {
      avg_ns: runCnt > 0 ? round(runTime / runCnt) : null,
      avg_ns_interval: dCnt > 0 ? round(dTime / dCnt) : null,
      events_per_s: perSec(dCnt),
      id: p.id,
      name: p.name,
      run_cnt: runCnt,
      run_cnt_delta: dCnt,
      run_time_ns: runTime,
      run_time_ns_delta: dTime,
      stage_runs: stage ?? null,
      stage_runs_delta: stage === undefined ? null : stage - stagePrev,
      stage_runs_per_s: stage === undefined ? null : perSec(stage - stagePrev),
      tail_called: p.name !== entry && (stage ?? 0) > 0 && runCnt === 0,
    }
  })
  return {
    chain: {chain_stats_map_id: target.chainStatsId, path: target.path, pids: target.pids, source: target.source},
    interval_s: round(seconds, 3),
    kernel_stats: kernelStats ? 'held fd' : 'off',
    programs,
    stages: Object.entries(cur.chain.runs).map(([name, runs]) => ({
      name,
      runs,
      runs_delta: runs - (prev.chain.runs[name] ?? 0),
      runs_per_s: perSec(runs - (prev.chain.runs[name] ?? 0)),
    })),
    ringbuf_drops: {delta: cur.chain.ringbufDrops - prev.chain.ringbufDrops, total: cur.chain.ringbufDrops},
    tail_call_failed: cur.chain.tailCallFailed.map((total, slot) => ({
      delta: total - (prev.chain.tailCallFailed[slot] ?? 0),
      slot,
      target: SLOT_NAMES[slot] ?? `slot ${slot}`,
      total,
    })),
    timestamp: new Date().toISOString(),
  }
}

/**
 * `tailcalls stats`: sample a chain's counters every interval. Kernel stats are on only
 * while this runs (a held BPF_ENABLE_STATS fd, closed on every exit path).
 */
import {TailcallsError} from '../errors.js'
import {StatsFd} from './enable.js'
import {type Tick, makeTick, takeSample} from './sample.js'
import {type TargetOptions, resolveTarget} from './target.js'

export interface StatsOptions extends TargetOptions {
  intervalS: number
  watch: boolean
  /** With watch: stop after this many ticks. */
  count?: number
  /** Enable kernel stats (run_cnt, run_time_ns); false reads only the chain's counters. */
  kernelStats: boolean
  onTick: (tick: Tick, index: number) => boolean | void
}

export interface StatsEnd {
  ticks: number
  stop_reason: 'once' | 'count' | 'signal'
}

export async function runStats(opts: StatsOptions): Promise<StatsEnd> {
  if (!Number.isFinite(opts.intervalS) || opts.intervalS < 0.01 || opts.intervalS > 3600) {
    throw new TailcallsError('usage', `--interval ${opts.intervalS} is out of range`, {
      hint: 'give seconds between 0.01 and 3600, e.g. --interval 0.5',
    })
  }

  // The chain first: a wrong --pid or --pin-path fails before stats are switched on.
  const target = resolveTarget(opts)
  let stats: StatsFd | undefined
  let stopped: string | undefined
  let wake: (() => void) | undefined
  const onSignal = (signal: string) => {
    stopped = signal
    wake?.()
  }

  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const s of signals) process.on(s, onSignal)
  try {
    if (opts.kernelStats) stats = StatsFd.enable()
    let prev = takeSample(target)
    let ticks = 0
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.intervalS * 1000)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      if (stopped && ticks > 0) return {stop_reason: 'signal', ticks}
      const cur = takeSample(target)
      opts.onTick(makeTick(target, prev, cur, stats !== undefined), ticks++)
      prev = cur
      if (!opts.watch) return {stop_reason: 'once', ticks}
      if (stopped) return {stop_reason: 'signal', ticks}
      if (opts.count !== undefined && ticks >= opts.count) return {stop_reason: 'count', ticks}
    }
  } finally {
    for (const s of signals) process.off(s, onSignal)
    stats?.close()
    target.close()
  }
}

/**
 * Signals while `tailcalls load` is still setting up (opening, loading, filling slots,
 * attaching, pinning), before the stream's own handlers take over.
 *
 * Without a handler, SIGINT/SIGTERM/SIGHUP kill Node at once: the kernel frees a non-pinned
 * chain, but the prog array dies through the kernel's deferred clear, and anyone opening it by
 * id in that window can leak it for good (see src/kernel/ids.ts). So the guard records the
 * signal, the load stops at the next phase boundary, Chain.close() frees everything and waits
 * for the prog array to vanish, and the command exits 128 + the signal number.
 */
import {constants} from 'node:os'

import {TailcallsError} from '../errors.js'
import {toJson} from '../render/json.js'

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
export type StopSignal = (typeof STOP_SIGNALS)[number]

/** What each phase does, for the one-line message. */
const DOING: Record<string, string> = {
  attach: 'attaching prog1',
  // `load FILE.o` (src/load/): its own phases.
  'attach-entries': 'attaching the entry programs',
  wire: 'filling the prog arrays',
  fill: 'filling TAIL_CALL_MAP',
  load: 'loading the programs',
  open: 'opening the object',
  pin: 'pinning the chain',
  stream: 'starting to stream',
}

export class SignalGuard {
  signal: StopSignal | undefined
  private wake: (() => void) | undefined
  private readonly handler = (signal: StopSignal) => {
    this.signal ??= signal
    this.wake?.()
  }

  constructor() {
    for (const s of STOP_SIGNALS) process.on(s, this.handler)
  }

  /** Throw `interrupted` (exit 128 + signo) if a signal arrived; the caller frees what it made. */
  check(phase: string): void {
    if (!this.signal) return
    const signo = constants.signals[this.signal]
    throw new TailcallsError(
      'interrupted',
      `interrupted by ${this.signal} before ${DOING[phase] ?? phase}; nothing was left in the kernel`,
      {
        exitCode: 128 + signo,
      },
    )
  }

  /**
   * The documented debug hook: TAILCALLS_DEBUG_PAUSE=<phase> waits before that phase (up to
   * TAILCALLS_DEBUG_PAUSE_MS, default 30 s) and says so on stderr, so a test can deliver a
   * signal in each phase. A signal ends the pause at once.
   */
  async pause(phase: string, status: (line: string) => void, json: boolean): Promise<void> {
    if (process.env.TAILCALLS_DEBUG_PAUSE !== phase || this.signal) return
    const ms = Number(process.env.TAILCALLS_DEBUG_PAUSE_MS ?? 30_000)
    status(
      json
        ? toJson({debug_paused_before: phase, pid: process.pid})
        : `Paused before ${phase} (TAILCALLS_DEBUG_PAUSE); pid ${process.pid}`,
    )
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wake = undefined
  }

  /** Before each phase: the debug pause, then stop if a signal arrived. */
  async before(phase: string, status: (line: string) => void, json: boolean): Promise<void> {
    await this.pause(phase, status, json)
    // Let a signal that arrived during a synchronous phase reach its handler.
    await new Promise((resolve) => setImmediate(resolve))
    this.check(phase)
  }

  dispose(): void {
    for (const s of STOP_SIGNALS) process.off(s, this.handler)
  }
}

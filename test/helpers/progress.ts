// Waits bounded by progress, not by the clock. CI shares its two cores with whatever else runs:
// a command that takes 0.3 s on a quiet machine can take a minute on a busy one, so no wait here
// gives up after a fixed time. A wait gives up only when the process it waits on shows no sign
// of life — no output and no CPU time (its own or its children's) — for IDLE_MS, which is a hang
// detector, far beyond any pause real work makes.
import {readFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

// Under qemu TCG (the kernel matrix) everything is ~50× slower than on the host.
export const SLOW = process.env.TAILCALLS_VM === '1' ? 6 : 1
export const IDLE_MS = 120_000 * SLOW

/** utime + stime + cutime + cstime of a process, in clock ticks; undefined once it is gone. */
export function cpuTicks(pid: number | undefined): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (error) {
    if (!(error instanceof Error)) throw error
    const {code} = error as NodeJS.ErrnoException
    if (code === 'ENOENT' || code === 'ESRCH') return undefined
    throw error
  }

  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
}

/**
 * Watch `pid` for signs of life. `touch()` records one seen from outside (output read); CPU time
 * is sampled once a second. `onIdle` runs once when nothing happened for idleMs.
 */
export function watchProgress(
  pid: number | undefined,
  {idleMs = IDLE_MS, onIdle}: {idleMs?: number; onIdle: (seconds: number) => void},
): {stop(): void; touch(): void} {
  let last = Date.now()
  let ticks = cpuTicks(pid)
  const timer = setInterval(() => {
    const now = cpuTicks(pid)
    if (now !== ticks) {
      ticks = now
      last = Date.now()
    } else if (Date.now() - last > idleMs) {
      clearInterval(timer)
      onIdle(Math.round((Date.now() - last) / 1000))
    }
  }, 1000)
  timer.unref()
  return {
    stop: () => clearInterval(timer),
    touch: () => {
      last = Date.now()
    },
  }
}

/**
 * Poll `predicate` until it is truthy. `progress()` returns something that changes while the
 * awaited work moves on (a count, a set size); the wait fails only after it stood still for
 * idleMs.
 */
export async function until<T>(
  predicate: () => T,
  what: string,
  {
    progress = () => 0,
    idleMs = IDLE_MS,
    everyMs = 20,
  }: {everyMs?: number; idleMs?: number; progress?: () => unknown} = {},
): Promise<NonNullable<T>> {
  let mark = progress()
  let last = Date.now()
  for (;;) {
    const v = predicate()
    if (v) return v as NonNullable<T>
    const now = progress()
    if (now !== mark) {
      mark = now
      last = Date.now()
    } else if (Date.now() - last > idleMs) {
      throw new Error(`no progress towards ${what} for ${Math.round(idleMs / 1000)} s`)
    }

    await sleep(everyMs)
  }
}

// Loss accounting under load, shared by test/chain/soak.test.ts (bounded) and bench/soak.mjs (100k):
// `tailcalls load --json` streams while a C exec storm (bench/ref/storm.c) runs N execs from W
// workers and prints the pid of every exec'd child. Then:
//   - every exec of the storm arrives as prog1 → prog2 → prog3 with the seed's counters
//     (per_event_count 1, 2, 3 on one CPU, total_count consecutive), or its missing stages are
//     covered by the drops the chain counted;
//   - events received + events dropped (counted in the kernel) == the runs the chain's own
//     counters saw, exactly, and the lines that reached us are exactly the events the CLI counted;
//   - the NDJSON drop records add up to the summary's drops.
import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import type {Readable} from 'node:stream'
import {closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync} from 'node:fs'
import {Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {StreamSummary} from '../../src/chain/stream.js'
import {BIN, ROOT} from './cli.js'
import {type CreatedIds, assertGone} from './kernel.js'
import {cpuTicks, watchProgress} from './progress.js'

export const STORM = join(ROOT, 'bench', 'results', 'storm')
const STORM_SRC = join(ROOT, 'bench', 'ref', 'storm.c')

/** Build the C exec storm into bench/results/ (git-ignored) when missing or stale. */
export function buildStorm(): string {
  if (!existsSync(STORM) || statSync(STORM).mtimeMs < statSync(STORM_SRC).mtimeMs) {
    mkdirSync(join(ROOT, 'bench', 'results'), {recursive: true})
    execFileSync('gcc', ['-O2', '-o', STORM, STORM_SRC])
  }

  return STORM
}

const PROG: Record<string, number> = {prog1: 0, prog2: 1, prog3: 2, prog3_v2: 3}

/** Run the storm; resolves {pids, seconds}. Bounded by its own count; killed (by pid) if it hangs. */
export function runStorm(execs: number, workers: number): Promise<{pids: number[]; seconds: number}> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(buildStorm(), [String(execs), String(workers), 'pids'], {stdio: ['ignore', 'pipe', 'inherit']})
    let text = ''
    const watch = watchProgress(child.pid, {onIdle: () => child.kill('SIGKILL')})
    child.stdout.setEncoding('utf8').on('data', (d) => {
      text += d
      watch.touch()
    })
    child.on('error', reject)
    child.on('close', (code) => {
      watch.stop()
      const seconds = (performance.now() - t0) / 1000
      if (code !== 0) return reject(new Error(`storm exited ${code}`))
      resolve({pids: text.split('\n').filter(Boolean).map(Number), seconds})
    })
  })
}

/**
 * Start `load --json` (stdout read and checked line by line here, never all kept as text).
 * Returns {ready, stop(signal), result}.
 */
/** What the reader of a load's stdout saw, counted line by line. */
export interface Seen {
  bad: string[]
  /** Per tgid: [prog, per_event_count, total_count, cpu_id] for each stage event, flattened. */
  byTgid: Map<number, number[]>
  dropRecords: number
  dropTotal: number
  lines: number
  other: number
  stage: number
  tailCallFailed: number
}

export function startLoad(
  extraArgs: string[] = [],
  {env = {}, fifo = false}: {env?: Record<string, string | undefined>; fifo?: boolean} = {},
) {
  // With `fifo`, stdout is a real pipe (a FIFO in a temp folder), as in `tailcalls load | jq`;
  // otherwise Node's stdio 'pipe', which is a socketpair.
  let out: 'pipe' | number = 'pipe'
  let reader: Readable | undefined
  let dir: string | undefined
  if (fifo) {
    dir = mkdtempSync(join(tmpdir(), 'tailcalls-fifo-'))
    const path = join(dir, 'out')
    execFileSync('mkfifo', [path])
    const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    out = openSync(path, 'w')
    reader = new Socket({fd: r, readable: true, writable: false})
  }

  const child = spawn(process.execPath, [BIN, 'load', '--json', ...extraArgs], {
    cwd: ROOT,
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: ['ignore', out, 'pipe'],
  })
  if (typeof out === 'number') {
    closeSync(out)
    if (dir) rmSync(dir, {force: true, recursive: true})
  } else {
    reader = child.stdout ?? undefined
  }

  const stdout: Readable = reader ?? assert.fail('spawned with a stdout pipe')

  const stderrStream = child.stderr ?? assert.fail('spawned with a stderr pipe')

  const seen: Seen = {
    byTgid: new Map(),
    dropRecords: 0,
    dropTotal: 0,
    lines: 0,
    other: 0,
    stage: 0,
    tailCallFailed: 0,
    bad: [],
  }
  let rest = ''
  stdout.setEncoding('utf8').on('data', (d) => {
    const parts = (rest + d).split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) {
      seen.lines++
      let e
      try {
        e = JSON.parse(line)
      } catch {
        if (seen.bad.length < 5) seen.bad.push(line)
        continue
      }

      if (e.event === 'stage') {
        seen.stage++
        let a = seen.byTgid.get(e.tgid)
        if (!a) seen.byTgid.set(e.tgid, (a = []))
        a.push(PROG[e.prog] ?? 9, e.per_event_count, e.total_count, e.cpu_id)
      } else if (e.event === 'tail_call_failed') {
        seen.tailCallFailed++
      } else if (e.event === 'ringbuf_drops') {
        seen.dropRecords += e.dropped
        seen.dropTotal = e.dropped_total
      } else {
        seen.other++
      }
    }
  })
  let stderr = ''
  stderrStream.setEncoding('utf8').on('data', (d) => (stderr += d))
  // Done when the process exited and its output was read to the end.
  const exited = Promise.all([
    new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
      child.on('exit', (code, signal) => resolve({code, signal})),
    ),
    new Promise((resolve) => stdout.on('close', resolve)),
    new Promise((resolve) => stderrStream.on('close', resolve)),
  ]).then(([r]) => r)
  const quit = new Promise((resolve) => child.on('exit', resolve))
  const ready = new Promise<CreatedIds & {maps: Record<string, number>; programs: Record<string, number>}>(
    (resolve, reject) => {
      const watch = watchProgress(child.pid, {
        onIdle(seconds) {
          clearInterval(t)
          reject(new Error(`load not ready: no output and no CPU time for ${seconds} s: ${stderr}`))
        },
      })
      const t = setInterval(() => {
        if (stderr.includes('Waiting for Ctrl-C...')) {
          clearInterval(t)
          watch.stop()
          resolve(JSON.parse(stderr.split('\n').find((l) => l.startsWith('{"loaded"')) ?? '{}').loaded)
        }
      }, 10)
      exited.then(() => {
        clearInterval(t)
        watch.stop()
        reject(new Error(`load exited early: ${stderr}`))
      })
    },
  )
  return {
    child,
    exited,
    /** The process has exited (its output may still be unread). */
    quit,
    /** Changes while the load makes progress (reads, output, CPU time): for waits. */
    progress: () => `${seen.lines} ${stderr.length} ${cpuTicks(child.pid)}`,
    ready,
    seen,
    /** The reader side of stdout: pause() it to play a slow consumer, resume() to read on. */
    stdout,
    stderr: () => stderr,
    /**
     * Send `signal` (none with null) and wait for the end; resolves {code, signal, stderr, summary}.
     * Fails if the process stays alive without CPU time or output for idleMs (a hang).
     */
    async stop(
      signal: NodeJS.Signals | null = 'SIGINT',
      {idleMs}: {idleMs?: number} = {},
    ): Promise<{
      code: number | null
      signal: NodeJS.Signals | null
      stderr: string
      summary: StreamSummary | undefined
    }> {
      if (signal && child.exitCode === null && child.signalCode === null) child.kill(signal)
      let watch: ReturnType<typeof watchProgress> | undefined
      const r = await Promise.race([
        exited,
        new Promise<never>((_resolve, reject) => {
          watch = watchProgress(child.pid, {
            idleMs,
            onIdle: (seconds) =>
              reject(
                new Error(
                  `load did not end: no output and no CPU time for ${seconds} s (exit ${child.exitCode}, stdout closed: ${stdout.destroyed}): ${stderr.slice(-1500)}`,
                ),
              ),
          })
        }),
      ]).finally(() => watch?.stop())
      const line = stderr.split('\n').find((l) => l.startsWith('{"summary"'))
      return {...r, stderr, summary: line ? JSON.parse(line).summary : undefined}
    },
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

/** Check the storm's execs and the summary's identity. Returns a list of problems (empty: all good). */
export function checkAccounting(
  seen: Seen,
  summary: StreamSummary,
  pids: number[],
): {complete: number; missing: number; problems: string[]; wrong: number} {
  const problems: string[] = []
  const s = summary
  const runs = sum(Object.values(s.stage_runs)) + sum(s.tail_call_failed)
  const accounted = s.events_total + s.unprinted + s.ringbuf_drops + s.malformed_records
  if (s.malformed_records !== 0) problems.push(`${s.malformed_records} malformed records from the bundled object`)
  if (accounted !== runs)
    problems.push(
      `received ${s.events_total} + unprinted ${s.unprinted} + dropped ${s.ringbuf_drops} = ${accounted} != ${runs} runs counted by the chain`,
    )
  if (seen.stage + seen.tailCallFailed !== s.events_total)
    problems.push(
      `${seen.stage + seen.tailCallFailed} event lines reached the reader, the CLI counted ${s.events_total}`,
    )
  if (seen.dropRecords !== s.ringbuf_drops)
    problems.push(`NDJSON drop records add up to ${seen.dropRecords}, the summary says ${s.ringbuf_drops}`)
  if (seen.bad.length)
    problems.push(`lines that are not JSON: ${seen.bad.map((l) => JSON.stringify(l.slice(0, 80))).join(', ')}`)
  for (const p of ['prog1', 'prog2', 'prog3']) {
    if (s.ringbuf_drops === 0 && s.events[p] !== s.stage_runs[p])
      problems.push(`${p}: ${s.events[p]} events, ${s.stage_runs[p]} runs, no drops`)
  }

  // Per exec of the storm: its stages, in order, with the seed's counters on one CPU. Pids are
  // reused over 100k execs (pid_max), so a tgid's events are cut into execs where the stage
  // number stops increasing; execs of one pid never overlap in time.
  const occurrences = new Map<number, number>()
  for (const pid of pids) occurrences.set(pid, (occurrences.get(pid) ?? 0) + 1)
  let missing = 0
  let complete = 0
  let wrong = 0
  for (const [pid, k] of occurrences) {
    const a = seen.byTgid.get(pid) ?? []
    const groups: {cpu: number; pec: number; prog: number; total: number}[][] = []
    for (let i = 0; i < a.length / 4; i++) {
      const e = {cpu: a[i * 4 + 3], pec: a[i * 4 + 1], prog: a[i * 4], total: a[i * 4 + 2]}
      const g = groups.at(-1)
      if (!g || e.prog <= (g.at(-1)?.prog ?? -1)) groups.push([e])
      else g.push(e)
    }

    let stages = 0
    for (const g of groups) {
      // per_event_count is the stage number whether or not earlier stages' events were dropped.
      const ok = g.every(
        (e, i) =>
          e.pec === e.prog + 1 &&
          e.prog <= 2 &&
          (i === 0 || (e.cpu === g[0].cpu && e.total - g[i - 1].total === e.prog - g[i - 1].prog)),
      )
      if (!ok) {
        wrong++
        if (wrong <= 3) problems.push(`exec ${pid}: stages ${JSON.stringify(g)}`)
      }

      if (g.length === 3) complete++
      stages += g.length
    }

    // Other processes on the machine may exec with the same pid too: only a shortfall counts.
    missing += Math.max(0, 3 * k - stages)
  }

  if (missing > s.ringbuf_drops)
    problems.push(`${missing} stages of the storm's execs are missing, only ${s.ringbuf_drops} drops were counted`)
  return {complete, missing, problems, wrong}
}

/**
 * One soak round: load, storm, stop, check, leak check. Returns the figures and the problems.
 * `reader` optionally delays reading stdout (a slow consumer): {pauseMs}.
 */
export async function soakRound({
  execs,
  workers,
  ringbufSize,
  settleMs = 300,
}: {
  execs: number
  ringbufSize?: number
  settleMs?: number
  workers: number
}) {
  const load = startLoad(ringbufSize ? ['--ringbuf-size', String(ringbufSize)] : [])
  const ids = await load.ready
  let stopped: Awaited<ReturnType<typeof load.stop>> | undefined
  try {
    const storm = await runStorm(execs, workers)
    await new Promise((r) => setTimeout(r, settleMs))
    stopped = await load.stop('SIGINT')
    const problems: string[] = []
    if (stopped.code !== 0)
      problems.push(`load exited ${stopped.code} (${stopped.signal}): ${stopped.stderr.slice(-500)}`)
    if (storm.pids.length !== execs) problems.push(`the storm reported ${storm.pids.length} pids for ${execs} execs`)
    if (!stopped.summary) return {ids, problems: [...problems, 'no summary']}
    const check = checkAccounting(load.seen, stopped.summary, storm.pids)
    await assertGone(ids)
    return {
      complete: check.complete,
      drops: stopped.summary.ringbuf_drops,
      events: stopped.summary.events_total,
      execRate: Math.round(execs / storm.seconds),
      execs,
      ids,
      missing: check.missing,
      problems: [...problems, ...check.problems],
      runs: sum(Object.values(stopped.summary.stage_runs)),
      seconds: storm.seconds,
      summary: stopped.summary,
      workers,
    }
  } finally {
    if (!stopped) await load.stop('SIGKILL')
  }
}

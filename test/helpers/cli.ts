// Run the CLI as a user does: spawn bin/run.js, read stdout, stderr and the exit code.
// No wait here is a fixed timer: a child is killed only when it shows no sign of life (no output,
// no CPU time) for IDLE_MS, see progress.js.
import {type ChildProcess, type ChildProcessByStdio, spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {fileURLToPath} from 'node:url'

import {IDLE_MS, watchProgress} from './progress.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

/** Children still running when the test process exits are killed (by pid), never left behind. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function track<C extends ChildProcess>(child: C): C {
  running.add(child)
  child.on('close', () => running.delete(child))
  return child
}

/** What a finished child left: exit code or signal, its output, and whether it was killed as hung. */
export interface CliResult {
  code: number | null
  hung: boolean
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

export interface RunOptions {
  command?: string
  cwd?: string
  env?: Record<string, string | undefined>
  idleMs?: number
  input?: string | Buffer
  prefix?: string[]
}

/** Run to completion. Resolves {code, signal, stdout, stderr, hung}; kills a child that hangs. */
export function runCli(
  args: string[],
  {env = {}, input, cwd = ROOT, command = process.execPath, prefix = [BIN], idleMs}: RunOptions = {},
): Promise<CliResult> {
  const child = spawn(command, [...prefix, ...args], {
    cwd,
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return collect(child, {idleMs, input})
}

export function collect(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
  {input, idleMs = IDLE_MS}: {idleMs?: number; input?: string | Buffer} = {},
): Promise<CliResult> {
  track(child)
  let stdout = ''
  let stderr = ''
  let hung = false
  const watch = watchProgress(child.pid, {
    idleMs,
    onIdle() {
      hung = true
      child.kill('SIGKILL')
    },
  })
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d
    watch.touch()
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d
    watch.touch()
  })
  if (input !== undefined) child.stdin?.end(input)
  else child.stdin?.end()
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      watch.stop()
      if (hung) stderr += `\n[test harness: killed after ${Math.round(idleMs / 1000)} s without output or CPU time]`
      resolve({code, hung, signal, stderr, stdout})
    })
  })
}

/**
 * Start a long-running command (e.g. `load`). Gives live access to its output lines and
 * stops it with a signal. The child is always killed by its own pid, never by name; it runs
 * until stop() (or the end of the test process), never against a clock.
 */
/** What a running CLI printed so far, as text and as complete lines. */
export interface CliState {
  stderr: string
  stderrLines: string[]
  stdout: string
  stdoutLines: string[]
}

export interface RunningCli {
  child: ChildProcessByStdio<null, Readable, Readable>
  exited: Promise<Omit<CliResult, 'hung'>>
  state: CliState
  stop(signal?: NodeJS.Signals): Promise<Omit<CliResult, 'hung'>>
  waitFor<T>(predicate: (state: CliState) => T, what?: string, options?: {idleMs?: number}): Promise<NonNullable<T>>
}

export function startCli(args: string[], {env = {}}: {env?: Record<string, string | undefined>} = {}): RunningCli {
  const child = track(
    spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: {...process.env, NO_COLOR: '1', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  const state: CliState = {stderr: '', stdout: '', stdoutLines: [], stderrLines: []}
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const w of waiters) w()
  }

  let outRest = ''
  let errRest = ''
  child.stdout.setEncoding('utf8').on('data', (d) => {
    state.stdout += d
    const parts = (outRest + d).split('\n')
    outRest = parts.pop() ?? ''
    state.stdoutLines.push(...parts)
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    state.stderr += d
    const parts = (errRest + d).split('\n')
    errRest = parts.pop() ?? ''
    state.stderrLines.push(...parts)
    wake()
  })
  const exited = new Promise<Omit<CliResult, 'hung'>>((resolve) => {
    child.on('close', (code, signal) => {
      wake()
      resolve({code, signal, stderr: state.stderr, stdout: state.stdout})
    })
  })
  let done = false
  exited.then(() => (done = true))

  /**
   * Wait until predicate(state) is truthy. Rejects if the process exits first, or shows no sign
   * of life (no output, no CPU time) for idleMs while the predicate stays false.
   */
  function waitFor<T>(
    predicate: (s: CliState) => T,
    what = 'condition',
    {idleMs = IDLE_MS}: {idleMs?: number} = {},
  ): Promise<NonNullable<T>> {
    return new Promise<NonNullable<T>>((resolve, reject) => {
      const check = () => {
        watch.touch()
        const v = predicate(state)
        if (v) {
          cleanup()
          resolve(v as NonNullable<T>)
        } else if (done) {
          cleanup()
          reject(new Error(`process exited before ${what}; stderr: ${state.stderr.slice(-2000)}`))
        }
      }

      const watch = watchProgress(child.pid, {
        idleMs,
        onIdle(seconds) {
          cleanup()
          reject(
            new Error(
              `no output and no CPU time for ${seconds} s while waiting for ${what}; stderr: ${state.stderr.slice(-2000)}`,
            ),
          )
        },
      })
      const cleanup = () => {
        watch.stop()
        waiters.delete(check)
      }

      waiters.add(check)
      check()
    })
  }

  async function stop(signal: NodeJS.Signals = 'SIGINT') {
    if (!done) child.kill(signal)
    return exited
  }

  return {child, exited, state, stop, waitFor}
}

// Run the CLI as a user does: spawn bin/run.js, read stdout, stderr and the exit code.
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

// Under qemu TCG (the kernel matrix) a node start alone takes 1–3 s, and much more with an exec
// load on the one vCPU: default timeouts are 6× longer there.
const SLOW = process.env.TAILCALLS_VM === '1' ? 6 : 1

/** Run to completion. Resolves {code, signal, stdout, stderr}; kills the child (by pid) after timeoutMs. */
export function runCli(args, {env = {}, timeoutMs = 30_000 * SLOW, input, cwd = ROOT, command = process.execPath, prefix = [BIN]} = {}) {
  const child = spawn(command, [...prefix, ...args], {cwd, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['pipe', 'pipe', 'pipe']})
  return collect(child, {input, timeoutMs})
}

export function collect(child, {input, timeoutMs = 30_000 * SLOW} = {}) {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  if (input !== undefined) child.stdin.end(input)
  else child.stdin.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stderr, stdout})
    })
  })
}

/**
 * Start a long-running command (e.g. `load`). Gives live access to its output lines and
 * stops it with a signal. The child is always killed by its own pid, never by name.
 */
export function startCli(args, {env = {}, timeoutMs = 120_000 * SLOW} = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  const state = {stderr: '', stdout: '', stdoutLines: [], stderrLines: []}
  const waiters = new Set()
  const wake = () => {
    for (const w of waiters) w()
  }

  let outRest = ''
  let errRest = ''
  child.stdout.setEncoding('utf8').on('data', (d) => {
    state.stdout += d
    const parts = (outRest + d).split('\n')
    outRest = parts.pop()
    state.stdoutLines.push(...parts)
    wake()
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    state.stderr += d
    const parts = (errRest + d).split('\n')
    errRest = parts.pop()
    state.stderrLines.push(...parts)
    wake()
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      wake()
      resolve({code, signal, stderr: state.stderr, stdout: state.stdout})
    })
  })
  let done = false
  exited.then(() => (done = true))

  /** Wait until predicate(state) is truthy; rejects after ms or if the process exits first. */
  function waitFor(predicate, ms = 20_000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = predicate(state)
        if (v) {
          cleanup()
          resolve(v)
        } else if (done) {
          cleanup()
          reject(new Error(`process exited before ${what}; stderr: ${state.stderr.slice(-2000)}`))
        }
      }

      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${what}; stderr: ${state.stderr.slice(-2000)}`))
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }

      waiters.add(check)
      check()
    })
  }

  async function stop(signal = 'SIGINT') {
    if (!done) child.kill(signal)
    return exited
  }

  return {child, exited, state, stop, waitFor}
}

// Child-process helpers for the kernel-matrix runner.
//
// Every process the runner starts is registered here, so that a timeout, an
// error or a SIGINT/SIGTERM of the runner kills exactly those processes (by
// pid, or by the process group the runner created for them) and nothing else.

import {spawn} from 'node:child_process'

const live = new Map() // pid -> { child, group }

export function track(child, {group = false} = {}) {
  if (child.pid) {
    live.set(child.pid, {child, group})
    child.once('exit', () => live.delete(child.pid))
  }
  return child
}

/** Kill one process the runner started (its own process group if it has one). */
export function killTracked(child, signal = 'SIGKILL') {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return
  const ent = live.get(child.pid)
  try {
    if (ent?.group) process.kill(-child.pid, signal)
    else process.kill(child.pid, signal)
  } catch {
    /* already gone */
  }
}

/** Kill every process the runner started that is still alive. Synchronous. */
export function killAll(signal = 'SIGKILL') {
  for (const {child} of [...live.values()]) killTracked(child, signal)
}

/** Resolve once every tracked process has exited (and been reaped), or after ms. */
export function waitAllExited(ms) {
  const pending = [...live.values()].map(
    ({child}) =>
      new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.once('exit', res))),
  )
  return Promise.race([Promise.all(pending), new Promise((res) => setTimeout(res, ms).unref())])
}

/**
 * Run a command to completion. Resolves { code, signal, stdout, stderr, timedOut }.
 * Never rejects for a non-zero exit; rejects only when the binary cannot start.
 */
export function run(cmd, args, {cwd, env, timeoutMs = 0, input, binary = false} = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, {cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true}), {
      group: true,
    })
    const out = []
    const err = []
    let timedOut = false
    let timer
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true
        killTracked(child, 'SIGKILL')
      }, timeoutMs)
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stdout = binary ? Buffer.concat(out) : Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      resolve({code, signal, stdout, stderr, timedOut})
    })
    if (input !== undefined) child.stdin.end(input)
    else child.stdin.end()
  })
}

/** Like run() but throws an Error with the command's stderr when it fails. */
export async function runOk(cmd, args, opts = {}) {
  const r = await run(cmd, args, opts)
  if (r.timedOut) throw new Error(`${cmd} ${args.join(' ')}: timed out after ${opts.timeoutMs / 1000}s`)
  if (r.code !== 0) {
    const msg = (r.stderr || r.stdout).trim().split('\n').slice(-6).join(' | ')
    throw new Error(
      `${cmd} ${args.slice(0, 6).join(' ')}${args.length > 6 ? ' …' : ''} exited ${r.code ?? r.signal}: ${msg}`,
    )
  }
  return r
}

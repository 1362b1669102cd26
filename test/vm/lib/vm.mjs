// Boot one kernel under qemu (TCG), with the host root shared read-only over 9p
// and a writable result share, and watch its serial console.
//
// The qemu process is the runner's own child; on timeout it is killed by its pid.

import {spawn} from 'node:child_process'
import {createWriteStream} from 'node:fs'
import {killTracked, track} from './proc.mjs'

export const QEMU = '/usr/bin/qemu-system-x86_64'

// Console lines that explain a guest that died.
const KERNEL_TROUBLE =
  /(Kernel panic - not syncing.*|BUG: .*|Oops: .*|general protection fault.*|Unable to mount root.*|Out of memory: .*|watchdog: BUG: soft lockup.*|INFO: task .* blocked for more than.*)/

/**
 * @returns {Promise<{exitCode:number|null, signal:string|null, timedOut:boolean, marks:Object, lastStage:string,
 *   trouble:string[], fault:string|null, wallMs:number, startError?:string}>}
 */
export function bootVm({vmlinuz, initramfs, shareDir, consoleLog, timeoutMs, smp = 2, memMiB = 2048, onLine}) {
  const args = [
    // The guest's name carries the runner's pid, so a check can find this runner's qemu
    // processes (and only those) from their command line.
    '-name',
    `tailcalls-vm-${process.pid}`,
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-smp',
    String(smp),
    '-m',
    String(memMiB),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    vmlinuz,
    '-initrd',
    initramfs,
    '-append',
    // no_timer_check: the kernel's boot-time check that the IO-APIC timer ticks fails when TCG
    // runs slowly (a busy host), and 6.1 then panics with "IO-APIC + timer doesn't work!".
    'console=ttyS0 rdinit=/init panic=-1 loglevel=4 random.trust_cpu=on no_timer_check',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${shareDir},mount_tag=results,security_model=none,multidevs=remap`,
    '-device',
    'virtio-rng-pci',
  ]
  const t0 = Date.now()
  const out = createWriteStream(consoleLog)
  out.write(`# ${QEMU} ${args.join(' ')}\n`)
  return new Promise((resolve) => {
    const marks = {}
    const trouble = []
    let lastStage = 'qemu-started'
    let fault = null
    let timedOut = false
    let buf = ''
    let settled = false
    const child = track(spawn(QEMU, args, {stdio: ['ignore', 'pipe', 'pipe']}))
    const finish = (res) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      out.end()
      resolve({marks, trouble, lastStage, fault, timedOut, wallMs: Date.now() - t0, ...res})
    }
    const line = (l) => {
      const ms = Date.now() - t0
      out.write(`[${(ms / 1000).toFixed(1).padStart(7)}] ${l}\n`)
      const m = l.match(/@@TAILCALLS-VM (\S+)\s*(.*)$/)
      if (m) {
        marks[m[1]] = ms
        lastStage = m[1]
        if (m[1] === 'fault') fault = m[2]
      } else {
        const k = l.match(KERNEL_TROUBLE)
        if (k && trouble.length < 5) trouble.push(k[1].trim())
      }
      onLine?.(l, ms)
    }
    const feed = (d) => {
      buf += d.toString('utf8').replace(/\r/g, '')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        line(buf.slice(0, i))
        buf = buf.slice(i + 1)
      }
    }
    child.stdout.on('data', feed)
    child.stderr.on('data', (d) => {
      for (const l of d.toString('utf8').split('\n')) if (l.trim()) line(`[qemu stderr] ${l}`)
    })
    const timer = setTimeout(() => {
      timedOut = true
      killTracked(child, 'SIGKILL')
    }, timeoutMs)
    child.on('error', (err) => finish({exitCode: null, signal: null, startError: err.message}))
    child.on('close', (code, signal) => {
      if (buf) line(buf)
      finish({exitCode: code, signal})
    })
  })
}

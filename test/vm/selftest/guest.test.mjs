// Self-test of the kernel-matrix runner: the guest environment the real tests rely on.
// Runs on the host too (as root); in a VM the runner sets TAILCALLS_VM_RELEASE.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, statSync, statfsSync} from 'node:fs'

const BPF_FS_MAGIC = 0xcafe4a11

test('uname -r is the kernel the runner booted', () => {
  const r = execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim()
  assert.ok(r.length > 0)
  if (process.env.TAILCALLS_VM_RELEASE) assert.equal(r, process.env.TAILCALLS_VM_RELEASE)
})

test('kernel BTF is exposed at /sys/kernel/btf/vmlinux', () => {
  assert.ok(existsSync('/sys/kernel/btf/vmlinux'))
  assert.ok(statSync('/sys/kernel/btf/vmlinux').size > 1_000_000)
})

// The runner mounts bpffs in the guest; on the host it is the machine's business.
const inVm = !!process.env.TAILCALLS_VM_RELEASE
const hostHasBpffs = existsSync('/sys/fs/bpf') && statfsSync('/sys/fs/bpf').type === BPF_FS_MAGIC
test('/sys/fs/bpf is a bpffs', {skip: !inVm && !hostHasBpffs ? 'host has no bpffs on /sys/fs/bpf' : false}, () => {
  assert.equal(statfsSync('/sys/fs/bpf').type, BPF_FS_MAGIC)
})

test('libbpf.so.1 is visible', () => {
  assert.ok(existsSync('/usr/lib/x86_64-linux-gnu/libbpf.so.1'))
})

test('bpftool prog list runs', () => {
  const r = spawnSync('bpftool', ['--json', 'prog', 'list'], {encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  assert.ok(Array.isArray(JSON.parse(r.stdout)))
})

test('the repo is writable (overlay) and /tmp is writable', async () => {
  const {writeFileSync, rmSync, mkdtempSync} = await import('node:fs')
  const d = mkdtempSync('/tmp/tailcalls-vm-selftest-')
  writeFileSync(`${d}/x`, 'x')
  rmSync(d, {recursive: true})
})

test('node start time', (t) => {
  const s = process.hrtime.bigint()
  execFileSync(process.execPath, ['-e', '0'])
  const ms = Number(process.hrtime.bigint() - s) / 1e6
  t.diagnostic(`node -e 0 took ${ms.toFixed(0)} ms`)
})

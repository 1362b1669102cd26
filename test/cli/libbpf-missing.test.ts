// The CLI on a machine whose libbpf.so.1 cannot be loaded, for real: each run gets a private
// mount namespace (unshare -m) in which an empty file is bind-mounted over the real
// libbpf.so.1, so the dynamic loader refuses it ("file too short") there and nowhere else.
// Expected: exit 4 (kernelSupport) and one line naming the library and the install command;
// never "internal error … please report it", never a stack trace.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {BIN, runCli} from '../helpers/cli.js'

/** The file the dynamic loader opens for libbpf.so.1 (from ldconfig's cache), symlinks resolved. */
function libbpfPath(): string | undefined {
  let cache = ''
  try {
    cache = execFileSync('ldconfig', ['-p'], {encoding: 'utf8'})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error // no ldconfig: try the usual places
  }

  const fromCache = /^\s*libbpf\.so\.1 \(.*\) => (\S+)$/m.exec(cache)?.[1]
  const candidates = [
    fromCache,
    '/lib/x86_64-linux-gnu/libbpf.so.1',
    '/usr/lib/x86_64-linux-gnu/libbpf.so.1',
    '/usr/lib64/libbpf.so.1',
    '/usr/lib/libbpf.so.1',
  ]
  const found = candidates.find((p) => p && existsSync(p))
  return found && realpathSync(found)
}

const lib = libbpfPath()
const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p))
const skip =
  process.getuid?.() !== 0
    ? 'needs root (mount namespaces)'
    : !unshare
      ? 'needs unshare(1)'
      : !lib
        ? 'libbpf.so.1 is not installed'
        : false

const dir = mkdtempSync(join(tmpdir(), 'tailcalls-nolibbpf-'))
const empty = join(dir, 'libbpf.so.1')
writeFileSync(empty, '')
after(() => rmSync(dir, {force: true, recursive: true}))

/** bin/run.js with `args`, in a mount namespace where libbpf.so.1 is an empty file. */
function runWithoutLibbpf(args: string[]) {
  // sh: bind-mount, then exec node on bin/run.js with the arguments ("$@").
  const script = 'mount --bind "$1" "$2" && shift 2 && exec "$0" "$@"'
  return runCli(args, {
    command: unshare as string,
    prefix: ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, empty, lib as string, BIN],
  })
}

const LINE = /^tailcalls: error: cannot load libbpf\.so\.1 \(.+\); install it: apt-get install libbpf1$/

for (const args of [['prog', 'list'], ['map', 'show', 'id', '1'], ['load', '--duration', '1'], ['graph']]) {
  test(`${args.join(' ')} without a loadable libbpf.so.1: exit 4, one line with the install hint`, {skip}, async () => {
    const r = await runWithoutLibbpf(args)
    assert.equal(r.code, 4, r.stderr)
    const lines = r.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], LINE)
    assert.doesNotMatch(r.stderr, /internal error|please report|\n\s+at /)
    assert.equal(r.stdout, '')
  })
}

test('under --json the same line is the {"error"} object on stdout', {skip}, async () => {
  const r = await runWithoutLibbpf(['prog', 'list', '--json'])
  assert.equal(r.code, 4, r.stderr)
  const {error} = JSON.parse(r.stdout) as {error: string}
  assert.match(`tailcalls: error: ${error}`, LINE)
  assert.match(r.stderr.trimEnd(), LINE)
})

test('--version never loads libbpf, so it still works', {skip}, async () => {
  const r = await runWithoutLibbpf(['--version'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^tailcalls\/\d+\.\d+\.\d+ /)
})

test('doctor reports the missing libbpf as its failed check, with the install command as the fix', {skip}, async () => {
  const r = await runWithoutLibbpf(['doctor', '--json'])
  assert.equal(r.code, 15, r.stderr)
  const report = JSON.parse(r.stdout) as {checks: Array<{detail: string; fix?: string; id: string; status: string}>}
  const check = report.checks.find((c) => c.id === 'libbpf')
  assert.equal(check?.status, 'fail')
  assert.match(check?.detail ?? '', /^cannot load libbpf\.so\.1 \(/)
  assert.equal(check?.fix, 'apt-get install libbpf1')
})

test('outside the namespace libbpf.so.1 is untouched', {skip}, async () => {
  const r = await runCli(['--version'])
  assert.equal(r.code, 0)
  assert.notEqual(realpathSync(lib!), empty)
  assert.ok(execFileSync('sh', ['-c', `test -s "${lib}" && echo nonempty`], {encoding: 'utf8'}).includes('nonempty'))
})

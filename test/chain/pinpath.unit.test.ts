// Pin-path confinement (src/chain/pinpath.ts), without bpffs: every path that is refused is
// refused before anything is written, with the reason and a usable hint. The paths that are
// accepted need a bpf filesystem and are exercised by pin.test.ts on the kernel.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {BPFFS_ROOT, DEFAULT_PIN_PATH, resolvePinDir} from '../../src/chain/pinpath.js'
import {EXIT, TailcallsError} from '../../src/errors.js'

const tmp = mkdtempSync(join(tmpdir(), 'tailcalls-pinpath-'))
after(() => rmSync(tmp, {force: true, recursive: true}))

/** resolvePinDir(path) throws a TailcallsError of `kind`'s exit code whose line matches `re`. */
function refused(path: string, code: number, re: RegExp): TailcallsError {
  let error: unknown
  try {
    resolvePinDir(path)
  } catch (error_) {
    error = error_
  }

  assert.ok(error instanceof TailcallsError, `${path}: refused with a TailcallsError, got ${String(error)}`)
  assert.equal(error.exitCode, code, `${path}: ${error.line()}`)
  assert.match(error.line(), re)
  return error
}

test('the default pin path is a tailcalls folder on /sys/fs/bpf', () => {
  assert.equal(DEFAULT_PIN_PATH, `${BPFFS_ROOT}/tailcalls`)
})

test('empty paths and `..` components are usage errors', () => {
  refused('', EXIT.usage, /^the pin path is empty; give a folder under a bpffs mount/)
  refused('/sys/fs/bpf/../../etc/tailcalls', EXIT.usage, /contains '\.\.'.*no '\.\.' components/)
  refused('../tailcalls', EXIT.usage, /contains '\.\.'/)
  // A `..` inside a name is a name, not a component: it fails on the name rule instead.
  refused('/sys/fs/bpf/tailcalls..x', EXIT.usage, /the pin folder name 'tailcalls\.\.x' is not allowed/)
})

test('the folder name must say tailcalls and use only letters, digits, _ and -', () => {
  for (const name of ['chain', 'TailCalls', 'tail calls', 'tailcalls.v2', 'tailcalls/', 'tailcalls$x', 'taılcalls']) {
    const path = `/sys/fs/bpf/${name}`
    // A trailing slash names the folder before it.
    if (name === 'tailcalls/') continue
    refused(
      path,
      EXIT.usage,
      new RegExp(
        `the pin folder name '.*' is not allowed: it must contain 'tailcalls' and only letters, digits, '_' and '-'; bpffs refuses dots`,
      ),
    )
  }
})

test('a parent folder that does not exist is notFound, with how to create it', () => {
  const parent = join(tmp, 'missing')
  const e = refused(
    join(parent, 'tailcalls'),
    EXIT.notFound,
    /^the folder .*\/missing does not exist; create it first \(mkdir -p .*\/missing\) on a bpffs mount$/,
  )
  assert.equal(e.errno, undefined)
})

test('a parent folder on another filesystem is refused, naming the filesystem; symlinks are resolved first', () => {
  const real = join(tmp, 'real')
  mkdirSync(real)
  refused(
    join(real, 'tailcalls-x'),
    EXIT.usage,
    /^\/.*\/real is not on a bpf filesystem \(it is on .+\); pins can only live on bpffs; give a folder under a bpffs mount/,
  )
  // Through a symlink: the message shows both spellings, so the user sees where it really points.
  const link = join(tmp, 'link')
  symlinkSync(real, link)
  refused(
    join(link, 'tailcalls-x'),
    EXIT.usage,
    new RegExp(
      `^${real.replaceAll('/', '\\/')} \\(${link.replaceAll('/', '\\/')} resolves to ${real.replaceAll('/', '\\/')}\\) is not on a bpf filesystem`,
    ),
  )
})

// tailcalls also works as an oclif plugin: a small host CLI that lists it in oclif.plugins
// (and dependencies, which oclif requires for core plugins) runs our commands.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {ROOT, runCli} from '../helpers/cli.js'
import {needsRoot} from '../helpers/root.js'

let host
before(() => {
  host = mkdtempSync(join(tmpdir(), 'tailcalls-host-'))
  writeFileSync(
    join(host, 'package.json'),
    JSON.stringify({
      dependencies: {'@oclif/core': '*', tailcalls: '*'},
      name: 'host-cli',
      oclif: {bin: 'host', dirname: 'host-cli', plugins: ['tailcalls'], topicSeparator: ' '},
      type: 'module',
      version: '1.0.0',
    }),
  )
  mkdirSync(join(host, 'bin'))
  writeFileSync(
    join(host, 'bin', 'run.js'),
    "import {execute} from '@oclif/core'\nawait execute({dir: import.meta.url})\n",
  )
  mkdirSync(join(host, 'node_modules', '@oclif'), {recursive: true})
  symlinkSync(ROOT, join(host, 'node_modules', 'tailcalls'))
  symlinkSync(join(ROOT, 'node_modules', '@oclif', 'core'), join(host, 'node_modules', '@oclif', 'core'))
})

after(() => rmSync(host, {force: true, recursive: true}))

test('a host CLI runs `load` from the tailcalls plugin', needsRoot, async () => {
  const opts = {cwd: host, prefix: [join(host, 'bin', 'run.js')]}
  const help = await runCli(['load', '--help'], opts)
  assert.equal(help.code, 0, help.stderr)
  assert.match(help.stdout, /\$ host load/)

  const run = await runCli(['load', '--duration', '1', '--json'], opts)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stderr, /^\{"loaded":/m)
  assert.match(run.stderr, /^\{"summary":/m)
  assert.match(run.stderr, /Exiting\.\.\.\n$/)
})

// The direct path's argument parsing (src/cli/direct.ts): it takes exactly what oclif would parse
// for the list/show commands, from the tables their classes declare, and hands back the rest.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {COMMANDS} from '../../src/cli/commands.js'
import {directTable} from '../../src/cli/direct-table.js'
import {parseDirect} from '../../src/cli/direct.js'

const TABLE = directTable(COMMANDS)

test('the table holds the list/show commands with their flags, arguments and needs', () => {
  assert.deepEqual(Object.keys(TABLE).sort(), [
    'link:list',
    'link:show',
    'map:list',
    'map:show',
    'prog:list',
    'prog:show',
  ])
  assert.deepEqual(TABLE['prog:show'].args, ['selector', 'value'])
  assert.deepEqual(TABLE['prog:list'].args, [])
  assert.deepEqual(TABLE['prog:show'].needs, {caps: 'admin-or-pinned'})
  assert.deepEqual(TABLE['prog:list'].flags, {
    bpffs: {allowNo: false, char: 'f', default: false},
    json: {allowNo: false, default: false},
    pids: {allowNo: true, char: undefined, default: true},
  })
})

test('parses what oclif parses: flags anywhere, short forms, --no-, defaults', () => {
  const run = parseDirect(['prog', 'show', '--json', 'id', '-f', '12', '--no-pids'], TABLE)
  assert.ok(run)
  assert.equal(run.id, 'prog:show')
  assert.deepEqual(run.args, {selector: 'id', value: '12'})
  assert.deepEqual(run.flags, {bpffs: true, json: true, pids: false})
  assert.equal(run.json, true)
  assert.deepEqual(run.rest, ['--json', 'id', '-f', '12', '--no-pids'])
  assert.deepEqual(parseDirect(['map', 'list'], TABLE)?.flags, {bpffs: false, json: false, pids: true})
  assert.deepEqual(parseDirect(['link', 'list', '--pids'], TABLE)?.flags, {bpffs: false, json: false, pids: true})
})

test('hands back (undefined) whatever oclif must answer', () => {
  const back = [
    [],
    ['prog'],
    ['prog', 'load'],
    ['prog:list'],
    ['prog', 'list', '--help'],
    ['prog', 'list', '-h'],
    ['prog', 'list', '--bogus'],
    ['prog', 'list', '--json', '--json'],
    ['prog', 'list', '--pids', '--no-pids'],
    ['prog', 'list', '--json=true'],
    ['prog', 'list', '-fx'],
    ['prog', 'list', '--no-json'],
    ['prog', 'list', '--no-bpffs'],
    ['prog', 'list', '--'],
    ['prog', 'list', 'id'],
    ['prog', 'show', 'id', '1', '2'],
    ['prog', 'show', 'id', ''],
    ['map', 'dump', 'id', '1'],
    ['link', 'list', '-x'],
  ]
  for (const argv of back) assert.equal(parseDirect(argv, TABLE), undefined, argv.join(' '))
})

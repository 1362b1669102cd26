// The direct path of `graph --object` (src/object/main.ts) takes only the arguments it handles
// exactly as the oclif command does; everything else goes to oclif (undefined here). The CLI
// tests (test/graph/object.test.ts) run both paths end to end.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {parseObjectArgs} from '../../src/object/main.js'

test('graph --object arguments the direct path takes, in every spelling oclif accepts', () => {
  assert.deepEqual(parseObjectArgs(['--object', 'x.o']), {format: undefined, json: false, object: 'x.o', slots: []})
  assert.deepEqual(
    parseObjectArgs(['--slot', 'm[0]=a', '--object=x.o', '--slot=m[1]=b', '--format', 'dot', '--json']),
    {format: 'dot', json: true, object: 'x.o', slots: ['m[0]=a', 'm[1]=b']},
  )
  assert.deepEqual(parseObjectArgs(['prog', 'name', 'entry', '--object', 'x.o', '--format=mermaid']), {
    format: 'mermaid',
    json: false,
    object: 'x.o',
    programs: ['entry'],
    slots: [],
  })
})

test('graph --object arguments left to oclif: help, unknown or repeated flags, missing values, other selectors', () => {
  for (const argv of [
    ['--object', 'x.o', '--help'],
    ['--object', 'x.o', '-h'],
    ['--object', 'x.o', '--colour'],
    ['--object', 'x.o', '--object', 'y.o'],
    ['--object', 'x.o', '--json', '--json'],
    ['--object', 'x.o', '--format', 'svg'],
    ['--object', 'x.o', '--format', 'dot', '--format', 'tree'],
    ['--object'],
    ['--object='],
    ['--object', '--json'],
    ['--object', 'x.o', '--slot'],
    ['--object', 'x.o', 'prog', 'id', '5'],
    ['--object', 'x.o', 'prog', 'name'],
    ['--object', 'x.o', 'extra'],
    ['--object', 'x.o', '--', 'prog'],
    ['--slot', 'm[0]=a'],
  ])
    assert.equal(parseObjectArgs(argv), undefined, argv.join(' '))
})

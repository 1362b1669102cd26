// fieldInt reads one `key:\tvalue` line of an fdinfo text in place.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {fieldInt} from '../../src/kernel/procfile.js'

const FDINFO =
  'pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\nprog_type:\t1\nprog_jited:\t1\nprog_tag:\ta04f5eef06a7f555\nmemlock:\t4096\nprog_id:\t30781\nrun_time_ns:\t0\n'

test('fieldInt: the integer of a line, only for a whole key at the start of a line', () => {
  assert.equal(fieldInt(FDINFO, 'pos'), 0)
  assert.equal(fieldInt(FDINFO, 'memlock'), 4096)
  assert.equal(fieldInt(FDINFO, 'prog_id'), 30781)
  assert.equal(fieldInt(FDINFO, 'run_time_ns'), 0)
  assert.equal(fieldInt(FDINFO, 'id'), undefined, 'prog_id is not id')
  assert.equal(fieldInt(FDINFO, 'prog'), undefined, 'a key is followed by its colon')
  assert.equal(fieldInt(FDINFO, 'map_id'), undefined)
  assert.equal(fieldInt('owner_prog_type:\t3\nprog_type:\t5\n', 'prog_type'), 5)
  assert.equal(fieldInt('a:  -12 \n', 'a'), -12)
  assert.equal(fieldInt('a:\tx\n', 'a'), undefined, 'no digits')
  assert.equal(fieldInt('a:\t9007199254740991', 'a'), 9_007_199_254_740_991)
  assert.equal(fieldInt('', 'a'), undefined)
})

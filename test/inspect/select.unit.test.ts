// bpftool's object grammar (src/inspect/select.ts), shared by every command that takes a
// program, map or link: keywords and their abbreviations, ids as strtoul(…, 0) reads them, name
// and tag rules, and one usage error (exit 2) naming what was expected. Selecting objects by
// these selectors needs the kernel and is covered through the CLI in inspect.test.ts.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {EXIT, TailcallsError} from '../../src/errors.js'
import {grammar, parseId, parseSelector} from '../../src/cli/selector.js'
import {type SelectableKind, describeSelector} from '../../src/kernel/select.js'

function usage(kind: SelectableKind, keyword: string | undefined, value: string | undefined, re: RegExp): void {
  assert.throws(
    () => parseSelector(kind, keyword, value),
    (e: unknown) => {
      assert.ok(e instanceof TailcallsError)
      assert.equal(e.exitCode, EXIT.usage)
      assert.match(e.line(), re)
      return true
    },
    `${kind} ${keyword} ${value}`,
  )
}

test('grammar per object kind, as the help texts print it', () => {
  assert.equal(grammar('prog'), 'id N | name NAME | tag TAG | pinned PATH')
  assert.equal(grammar('map'), 'id N | name NAME | pinned PATH')
  assert.equal(grammar('link'), 'id N | pinned PATH')
})

test('ids: decimal, 0x hex and 0 octal like strtoul(…, 0); nothing else, nothing past u32', () => {
  assert.equal(parseId('42'), 42)
  assert.equal(parseId(' 42 '), 42)
  assert.equal(parseId('0x2a'), 42)
  assert.equal(parseId('0X2A'), 42)
  assert.equal(parseId('052'), 42)
  assert.equal(parseId('0'), 0)
  assert.equal(parseId('4294967295'), 0xffff_ffff)
  assert.equal(parseId('0xffffffff'), 0xffff_ffff)
  for (const bad of [
    '4294967296',
    '0x100000000',
    '-1',
    '1e3',
    '12abc',
    '08',
    '0x',
    '',
    ' ',
    '1.5',
    '+1',
    '99999999999999999999',
  ]) {
    assert.equal(parseId(bad), undefined, JSON.stringify(bad))
  }
})

test('keywords may be abbreviated as in bpftool; values are kept as given (tags lower-cased)', () => {
  assert.deepEqual(parseSelector('prog', 'id', '7'), {by: 'id', id: 7})
  assert.deepEqual(parseSelector('prog', 'i', '0x10'), {by: 'id', id: 16})
  assert.deepEqual(parseSelector('map', 'n', 'TAIL_CALL_MAP'), {by: 'name', name: 'TAIL_CALL_MAP'})
  assert.deepEqual(parseSelector('prog', 't', 'ABCDEF0123456789'), {by: 'tag', tag: 'abcdef0123456789'})
  assert.deepEqual(parseSelector('link', 'p', '/sys/fs/bpf/x y'), {by: 'pinned', path: '/sys/fs/bpf/x y'})
  // A program's full (BTF) name may be long; a map's is the kernel's 15 characters.
  assert.deepEqual(parseSelector('prog', 'name', 'p'.repeat(127)), {by: 'name', name: 'p'.repeat(127)})
  assert.deepEqual(parseSelector('map', 'name', 'm'.repeat(15)), {by: 'name', name: 'm'.repeat(15)})
})

test('bad selectors: one usage error naming what was expected', () => {
  usage('prog', undefined, undefined, /^missing prog selector; give id N \| name NAME \| tag TAG \| pinned PATH$/)
  usage(
    'map',
    'tag',
    'abcdef0123456789',
    /^expected 'id', 'name' or 'pinned', got 'tag'; give id N \| name NAME \| pinned PATH$/,
  )
  usage('link', 'name', 'x', /^expected 'id' or 'pinned', got 'name'/)
  usage('prog', 'bogus', '1', /^expected 'id', 'name', 'tag' or 'pinned', got 'bogus'/)
  usage('prog', '', '1', /^missing prog selector/)
  usage('map', 'id', undefined, /^'id' needs a value/)
  usage('map', 'pinned', '', /^'pinned' needs a value/)
  usage('prog', 'id', '12abc', /^can't parse '12abc' as an id; an id is a whole number/)
  usage('prog', 'tag', 'xyz', /^can't parse 'xyz' as a tag; a tag is 16 hex digits/)
  usage('prog', 'tag', '0123456789abcdef0', /as a tag/)
  usage('prog', 'name', 'p'.repeat(128), /longer than 127 characters$/)
  usage(
    'map',
    'name',
    'a_name_longer_than_15',
    /^name 'a_name_longer_than_15' is longer than 15 characters; the kernel keeps 15 characters of a map name/,
  )
})

test('selectors describe themselves the way messages name them', () => {
  assert.equal(describeSelector({by: 'id', id: 3}), 'id 3')
  assert.equal(describeSelector({by: 'name', name: 'prog1'}), 'name prog1')
  assert.equal(describeSelector({by: 'pinned', path: '/sys/fs/bpf/a'}), 'pinned /sys/fs/bpf/a')
  assert.equal(describeSelector({by: 'tag', tag: '0011223344556677'}), 'tag 0011223344556677')
  // Round trip: what a message names parses back to the same selector.
  for (const sel of [
    {by: 'id', id: 3},
    {by: 'name', name: 'prog1'},
    {by: 'tag', tag: '0011223344556677'},
  ] as const) {
    const [keyword, value] = describeSelector(sel).split(' ')
    assert.deepEqual(parseSelector('prog', keyword, value), sel)
  }
})

// The command table the bundle starts from (src/cli/commands.ts), as the bundle's build assumes it.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {COMMANDS} from '../../src/cli/commands.js'

test('command ids sort the same by code units as by localeCompare (the bundle sorts them without ICU)', () => {
  // bin/bundle.js replaces oclif's localeCompare sort of the ids with a code-unit comparison.
  const ids = Object.keys(COMMANDS)
  const byLocale = [...ids].sort((a, b) => a.localeCompare(b))
  const byUnits = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  assert.deepEqual(byUnits, byLocale)
  // Reversed input too, so the comparison is exercised in both directions.
  assert.deepEqual(
    [...ids].reverse().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    byLocale,
  )
})

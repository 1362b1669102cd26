#!/usr/bin/env node
// The test runner behind `npm test`: every *.test.js and *.test.ts under test/ (TypeScript runs
// through tsx, importing the sources it tests), one file at a time, through node's test runner.
// Arguments, if any, are the files to run instead.
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function find(dir) {
  const out = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'vm' && entry.name !== 'helpers') out.push(...find(path))
    } else if (/\.test\.(js|ts)$/.test(entry.name)) {
      out.push(relative(root, path))
    }
  }

  return out.sort()
}

const files = process.argv.length > 2 ? process.argv.slice(2) : find(join(root, 'test'))
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {cwd: root, stdio: 'inherit'})
process.exit(r.status ?? 1)

#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry point: runs commands/ and src/ straight from TypeScript through tsx.
// package.json points oclif at the command list of the bundle, dist/bundle/load.cjs; here it
// gets the one in the sources, src/cli/commands.ts, and maps no paths itself.
import {execute, settings} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
pjson.oclif.commands = {...pjson.oclif.commands, target: './src/cli/commands.ts'}
settings.enableAutoTranspile = false
await execute({development: true, loadOptions: {pjson, root}})

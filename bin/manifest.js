#!/usr/bin/env node
// Writes oclif.manifest.json (what `oclif manifest` does, without the heavy `oclif` dev CLI):
// with it, oclif lists commands, shows help and --version without evaluating any command.
// Run by bin/bundle.js, after the bundle it reads the commands from.
import {Plugin} from '@oclif/core/config'
import {writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({errorOnManifestCreate: true, ignoreManifest: true, isRoot: true, root, type: 'core'})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
console.error(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`)

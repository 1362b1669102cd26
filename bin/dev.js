#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry point: runs commands/ and src/ straight from TypeScript (tsx).
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})

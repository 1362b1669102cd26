/**
 * The exporter's libraries (prom-client, yaml, bcryptjs), loaded with require() on first use:
 * only `tailcalls exporter` pays for them, and they stay outside the start-up bundle (bin/bundle.js
 * lists them as external). require(), not import(): the bundle runs from a V8 code cache, where a
 * dynamic import() of a package has no loader to call; all three ship CommonJS builds.
 */
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

export const loadPromClient = (): typeof import('prom-client') => require('prom-client')
export const loadYaml = (): typeof import('yaml') => require('yaml')
export const loadBcrypt = (): typeof import('bcryptjs') => require('bcryptjs')

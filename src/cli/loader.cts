/**
 * Loads a bundle (dist/bundle/tailcalls.cjs) with a V8 code cache. Built by bin/bundle.js
 * into dist/bundle/load.cjs, the module bin/run.js requires and package.json `oclif.commands`
 * names: it exports the bundle's exports (`execute`, `COMMANDS`), one instance per process.
 * Built again into dist/bundle/load-direct.cjs for dist/bundle/direct.cjs (the direct path,
 * src/cli/direct.ts) and into dist/bundle/load-object.cjs for dist/bundle/object.cjs
 * (`graph --object`, src/object/main.ts).
 *
 * Why: Node 20 compiles every module from source on every run (its own compile cache starts
 * in Node 22), and compiling @oclif/core is most of what a short command costs. The build runs
 * one command and saves what V8 compiled (`tailcalls.<digest>.cache`, named after the bundle's
 * contents, so a cache never meets another bundle); later runs start from it. V8 itself
 * rejects a cache made by another Node version, and the bundle is then compiled as usual.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Script} from 'node:vm'

/** The bundle this loader loads (`tailcalls`, `direct` or `object`), set by the build. */
declare const BUNDLE_NAME: string

/** A digest of the bundle, set by the build (bin/bundle.js) when it bundles this file. */
declare const BUNDLE_DIGEST: string

const bundle = join(__dirname, `${BUNDLE_NAME}.cjs`)

/** Set by the build to a bundle's name: write that bundle's code cache when this process exits. */
const WRITE_CACHE = 'TAILCALLS_WRITE_CODE_CACHE'

function load(): unknown {
  const source = readFileSync(bundle, 'utf8')
  const cacheFile = join(__dirname, `${BUNDLE_NAME}.${BUNDLE_DIGEST}.cache`)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch (error) {
    // No cache (a build without one, or a fresh checkout): compile from source.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }

  // The CommonJS wrapper, on the bundle's first line so that stack traces keep its line numbers.
  // Code compiled by node:vm cannot call import() itself (bin/bundle.js): it gets this module's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __tcImport) {${source}\n})`, {
    cachedData,
    filename: bundle,
  })
  const module = {exports: {}}
  const importer = (specifier: string): Promise<unknown> => import(specifier)
  // This loader's own require: it resolves from the bundle's folder as the bundle's would, without
  // loading node:module (which sets up parts of the ES module loader) on every start.
  script.runInThisContext()(module.exports, require, module, bundle, __dirname, importer)
  if (process.env[WRITE_CACHE] === BUNDLE_NAME) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()))
  return module.exports
}

export = load()

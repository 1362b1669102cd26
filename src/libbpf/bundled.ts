/**
 * The BPF objects shipped with the package (bpf/*.bpf.o, built from bpf/*.bpf.c), found from
 * wherever this module runs: src/libbpf/bundled.ts, dist/src/libbpf/bundled.js or a bundle in
 * dist/bundle/ → <root>/bpf/NAME.
 */
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {TailcallsError} from '../errors.js'

/** The path of bpf/NAME; notFound (with `hint` added) when the installation lacks it. */
export function bundledObjectFile(name: string, hint = ''): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'bpf', name)
    if (existsSync(candidate)) return candidate
  }

  throw new TailcallsError('notFound', `the bundled BPF object bpf/${name} is missing`, {
    hint: `rebuild it with \`npm run build:bpf\` (needs clang) or reinstall tailcalls${hint}`,
  })
}

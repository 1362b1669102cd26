// Compile a BPF C source under test/fixtures with the system clang, as bpf/Makefile does.
import {execFileSync} from 'node:child_process'
import {arch} from 'node:os'

const MULTIARCH =
  ({arm64: 'aarch64-linux-gnu', x64: 'x86_64-linux-gnu'} as Record<string, string>)[arch()] ?? 'x86_64-linux-gnu'

export function compileBpf(source: string, output: string): string {
  execFileSync(
    'clang',
    ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${MULTIARCH}`, '-Wall', '-c', source, '-o', output],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  return output
}

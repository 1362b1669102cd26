#!/usr/bin/env node
// `graph --object` against `bpftool prog loadall` of the same object, in one run: a generated
// object with 100 programs and 1,000 tail-call sites (10 per program, constant keys into one
// 128-slot prog array, slots filled statically so the graph has 100 edges). graph --object reads
// the ELF only; loadall has the kernel verify and JIT every program (pinned under
// /sys/fs/bpf/tailcalls-bench-<pid>, removed after each run, which frees them). Reports medians of
// --runs runs of each (interleaved), wall and CPU time (user + sys of the child, from
// getrusage(RUSAGE_CHILDREN): the kernel's verifier and JIT count for loadall), the ratio graph /
// loadall, and floors in the same run: `node -e 0` (what any Node program costs to start and
// exit), the same with --no-rehash-snapshot (the one Node flag found that cuts that start, not
// used: it gives up the per-process hash seed) and `tailcalls --version` (oclif's start-up, which
// graph --object no longer pays). tailcalls runs as a user runs it: the package's `bin`
// (bin/tailcalls.cjs) executed through its shebang.
// Children run without NODE_EXTRA_CA_CERTS: with it set, Node reads and parses that CA file at
// start-up (~100 ms here), a cost of the environment, not of either tool.
//   node bench/graph-object.mjs [--programs 100] [--sites 10] [--runs 7]
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {childrenCpuUs, median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {
    programs: {default: '100', type: 'string'},
    runs: {default: '7', type: 'string'},
    sites: {default: '10', type: 'string'},
  },
})
const P = Number(opt.programs)
const S = Number(opt.sites)
const RUNS = Number(opt.runs)

// Program i tail-calls slots i+1 … i+S (mod 128); slot k holds program k % P.
const lines = ['#include <linux/types.h>', '#include <linux/bpf.h>', '#include <bpf/bpf_helpers.h>']
for (let i = 0; i < P; i++) lines.push(`int b${i}(struct __sk_buff *skb);`)
lines.push(
  'struct {',
  '\t__uint(type, BPF_MAP_TYPE_PROG_ARRAY);',
  '\t__uint(max_entries, 128);',
  '\t__type(key, __u32);',
  '\t__array(values, int (void *));',
  `} jt SEC(".maps") = { .values = { ${Array.from({length: Math.min(P, 128)}, (_, k) => `[${k}] = (void *)&b${k}`).join(', ')} } };`,
)
for (let i = 0; i < P; i++) {
  const calls = Array.from(
    {length: S},
    (_, j) => `\tif (skb->len == ${j}) bpf_tail_call(skb, &jt, ${(i + j + 1) % 128});`,
  ).join('\n')
  lines.push(`SEC("tc")\nint b${i}(struct __sk_buff *skb)\n{\n${calls}\n\treturn ${i};\n}`)
}

lines.push('char LICENSE[] SEC("license") = "GPL";')
const dir = mkdtempSync(join(tmpdir(), 'tailcalls-bench-graph-'))
const src = join(dir, 'many.bpf.c')
const obj = join(dir, 'many.bpf.o')
writeFileSync(src, lines.join('\n') + '\n')
const arch = execFileSync('uname', ['-m'], {encoding: 'utf8'}).trim()
execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${arch}-linux-gnu`, '-c', src, '-o', obj])

const pin = `/sys/fs/bpf/tailcalls-bench-${process.pid}`
// The installed entry point (package.json `bin`), run through its `#!/usr/bin/env node`.
const bin = join(ROOT, 'bin', 'tailcalls.cjs')
const env = {...process.env}
delete env.NODE_EXTRA_CA_CERTS
function once(cmd, args) {
  const c0 = childrenCpuUs()
  const t0 = performance.now()
  const res = spawnSync(cmd, args, {env, maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe']})
  const wallMs = performance.now() - t0
  const cpuMs = (childrenCpuUs() - c0) / 1000
  if (res.status !== 0 && !(cmd === bin && res.status === 16))
    throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`)
  return {cpuMs, wallMs}
}

/** Each command once per round, rounds interleaved (a load change hits all alike); medians. */
function time(cmds) {
  const runs = cmds.map(() => ({cpu: [], wall: []}))
  for (let r = 0; r < RUNS; r++) {
    for (const [i, c] of cmds.entries()) {
      const m = once(c.cmd, c.args)
      c.after?.()
      runs[i].cpu.push(m.cpuMs)
      runs[i].wall.push(m.wallMs)
    }
  }

  return runs.map((x) => ({cpuMs: +median(x.cpu).toFixed(1), wallMs: +median(x.wall).toFixed(1)}))
}

try {
  // Exit 16: the generated chain is longer than 33 tail calls (an error finding), as intended.
  const check = JSON.parse(
    spawnSync(bin, ['graph', '--object', obj, '--json'], {
      encoding: 'utf8',
      env,
      maxBuffer: 1 << 28,
    }).stdout,
  )
  const sites = check.programs.reduce((n, p) => n + p.sites.length, 0)
  const [graph, loadall, nodeFloor, noRehashFloor, floor] = time([
    {args: ['graph', '--object', obj, '--json'], cmd: bin},
    {after: () => rmSync(pin, {force: true, recursive: true}), args: ['prog', 'loadall', obj, pin], cmd: 'bpftool'},
    {args: ['-e', '0'], cmd: process.execPath},
    // Node 20.20 derives its string-hash secret from a fresh seed at every start (a primality
    // search, a fifth of `node -e 0`); this flag keeps the seed baked into the binary instead.
    {args: ['--no-rehash-snapshot', '-e', '0'], cmd: process.execPath},
    // oclif's start-up (printing its version): what every other tailcalls command costs.
    {args: ['--version'], cmd: bin},
  ])
  console.log(
    JSON.stringify({
      edges: check.edges.length,
      floor,
      graph,
      loadall,
      nodeFloor,
      noRehashFloor,
      programs: check.programs.length,
      ratioCpu: +(graph.cpuMs / loadall.cpuMs).toFixed(3),
      // Node's own start and exit against loadall: the part of the ratio no JavaScript can remove.
      ratioCpuNodeFloor: +(nodeFloor.cpuMs / loadall.cpuMs).toFixed(3),
      ratioCpuNoRehashFloor: +(noRehashFloor.cpuMs / loadall.cpuMs).toFixed(3),
      // The work above Node's start (reading the ELF, the analysis, the output) against loadall.
      ratioCpuAboveNode: +((graph.cpuMs - nodeFloor.cpuMs) / loadall.cpuMs).toFixed(3),
      ratioWall: +(graph.wallMs / loadall.wallMs).toFixed(3),
      runs: RUNS,
      sites,
    }),
  )
} finally {
  rmSync(pin, {force: true, recursive: true})
  rmSync(dir, {force: true, recursive: true})
}

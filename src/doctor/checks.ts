/**
 * `tailcalls doctor`: the seed's prerequisites, checked live on this machine. Every check
 * that can be a probe is one: the bundled chain is really loaded, its prog array filled,
 * prog1 attached, one exec run through all three stages, and everything released; stats and
 * map types are asked of the kernel, not inferred from its version.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {arch, release} from 'node:os'

import {Chain, TRACEPOINT} from '../chain/chain.js'
import {BPFFS_ROOT, isBpffs} from '../chain/pinpath.js'
import {TailcallsError} from '../errors.js'
import {vmlinuxBtfPath} from '../kernel/btf.js'
import {closeFd} from '../kernel/ids.js'
import {mapFdinfo, progInfo} from '../kernel/info.js'
import {PROG_SHOW_FIELDS, probeBtfKind, probeLookupBatch, progInfoFields} from '../kernel/features.js'
import {progTypeName} from '../kernel/names.js'
import {CAP, effectiveCapabilities, hasCap, heldCapabilities, missingBpfPrivileges} from '../kernel/privileges.js'
import {queryFd} from '../inspect/perf.js'
import {describeErrno, errnoName} from '../sys/errno.js'
import {LibraryLoadError, SysError, isErrno, isVanished} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE, BPF_STATS_TYPE, BTF_KIND} from '../sys/uapi.js'

export type Status = 'pass' | 'warn' | 'fail' | 'skip'

export interface Check {
  id: string
  title: string
  status: Status
  detail: string
  /** What to do when it is not a pass. */
  fix?: string
}

export interface DoctorReport {
  /** False when the chain cannot run here (some check failed). */
  ok: boolean
  checks: Check[]
  /** What the tool relies on, as probed on this machine. */
  facts: Record<string, unknown>
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch (error) {
    // ENOENT: this kernel has no such sysctl. EACCES: only root may read it (net.core.bpf_jit_harden
    // is mode 0600), and the doctor runs without privileges too: the fact is then unknown.
    if (isVanished(error) || isErrno(error, 'EACCES')) return undefined
    throw error
  }
}

function kernelVersion(): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release())
  return m ? [Number(m[1]), Number(m[2])] : [0, 0]
}

export function runDoctor(): DoctorReport {
  const checks: Check[] = []
  const facts: Record<string, unknown> = {}
  const add = (c: Check) => checks.push(c)

  // --- kernel version: reported; the probes below decide.
  const [major, minor] = kernelVersion()
  facts.kernel_release = release()
  facts.arch = arch()
  const old = major < 5 || (major === 5 && minor < 8)
  add({
    detail: `Linux ${release()} (${arch()})${old ? ': older than 5.8 (ring buffer, BPF_ENABLE_STATS); the probes below say what works' : ''}`,
    fix: old ? 'a 5.8+ kernel has everything the chain uses; 6.x recommended' : undefined,
    id: 'kernel',
    status: old ? 'warn' : 'pass',
    title: 'kernel version',
  })

  // --- libbpf
  let libbpfOk: boolean
  try {
    const {libbpf} = sys()
    const v = `${libbpf.libbpf_major_version()}.${libbpf.libbpf_minor_version()}`
    facts.libbpf_version = v
    libbpfOk = libbpf.libbpf_major_version() >= 1
    add({
      detail: `libbpf.so.1 ${v}`,
      fix: libbpfOk ? undefined : 'install libbpf 1.x (apt-get install libbpf1)',
      id: 'libbpf',
      status: libbpfOk ? 'pass' : 'fail',
      title: 'libbpf version',
    })
  } catch (error) {
    // The one failure this check is about: libbpf.so.1 cannot be loaded. Reported as a check.
    if (!(error instanceof LibraryLoadError)) throw error
    libbpfOk = false
    add({detail: error.message, fix: error.install, id: 'libbpf', status: 'fail', title: 'libbpf version'})
  }

  // --- capabilities
  const caps = effectiveCapabilities()
  const has = (c: number) => hasCap(caps, c)
  const held = heldCapabilities(caps)
  facts.capabilities = held
  const canLoad = missingBpfPrivileges(caps) === undefined
  add({
    detail:
      held.length > 0
        ? `effective: ${held.join(', ')}${has(CAP.SYS_ADMIN) ? '' : ' (no CAP_SYS_ADMIN: `stats` and mounting bpffs need it)'}`
        : 'none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN',
    fix: canLoad
      ? has(CAP.SYS_ADMIN)
        ? undefined
        : 'run as root for `stats` (BPF_ENABLE_STATS needs CAP_SYS_ADMIN)'
      : 'run as root (sudo tailcalls …), or grant CAP_BPF + CAP_PERFMON',
    id: 'capabilities',
    status: canLoad ? (has(CAP.SYS_ADMIN) ? 'pass' : 'warn') : 'fail',
    title: 'capabilities',
  })

  // --- BTF and the tracepoint in it
  const btfFile = vmlinuxBtfPath()
  const btfPresent = existsSync(btfFile)
  let tracepointFound = false
  let btfDetail = btfPresent ? `${btfFile} present` : `${btfFile} missing`
  if (btfPresent && libbpfOk) {
    const {libbpf, errno} = sys()
    const btf = libbpf.btf__load_vmlinux_btf()
    if (btf) {
      try {
        const id = libbpf.btf__find_by_name_kind(btf, `btf_trace_${TRACEPOINT}`, BTF_KIND.TYPEDEF)
        tracepointFound = id > 0
        facts.tracepoint_btf_type_id = tracepointFound ? id : null
      } finally {
        libbpf.btf__free(btf)
      }
    } else {
      btfDetail += `, but libbpf cannot load it: ${describeErrno(errno())}`
    }
  }

  add({
    detail: btfDetail,
    fix: btfPresent
      ? undefined
      : 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (tp_btf programs and CO-RE need it)',
    id: 'btf',
    status: btfPresent ? 'pass' : 'fail',
    title: 'kernel BTF',
  })
  add({
    detail: tracepointFound
      ? `btf_trace_${TRACEPOINT} found in vmlinux BTF`
      : btfPresent
        ? `btf_trace_${TRACEPOINT} is not in vmlinux BTF`
        : 'no BTF to look in',
    fix: tracepointFound ? undefined : `a kernel with the ${TRACEPOINT} tracepoint and BTF (CONFIG_DEBUG_INFO_BTF=y)`,
    id: 'tracepoint',
    status: tracepointFound ? 'pass' : btfPresent ? 'fail' : 'skip',
    title: `tracepoint ${TRACEPOINT}`,
  })

  // --- bpffs (only --pin needs it)
  const mounted = isBpffs(BPFFS_ROOT)
  facts.bpffs_mounted = mounted
  add({
    detail: mounted
      ? `bpffs mounted at ${BPFFS_ROOT}`
      : `${BPFFS_ROOT} is not a bpf filesystem (only \`load --pin\` needs it, and mounts it itself)`,
    fix: mounted ? undefined : `mount -t bpf bpf ${BPFFS_ROOT}`,
    id: 'bpffs',
    status: mounted ? 'pass' : 'warn',
    title: 'bpffs',
  })

  // --- JIT
  const jit = readSysctl('/proc/sys/net/core/bpf_jit_enable')
  facts.bpf_jit_enable = jit === undefined ? null : Number(jit)
  facts.bpf_jit_harden = readSysctl('/proc/sys/net/core/bpf_jit_harden') ?? null
  facts.unprivileged_bpf_disabled = readSysctl('/proc/sys/kernel/unprivileged_bpf_disabled') ?? null
  facts.bpf_stats_enabled_sysctl = readSysctl('/proc/sys/kernel/bpf_stats_enabled') ?? null
  const jitOn = jit === '1' || jit === '2'
  add({
    detail:
      jit === undefined
        ? '/proc/sys/net/core/bpf_jit_enable is missing (no JIT in this kernel?)'
        : `bpf_jit_enable = ${jit}`,
    fix: jitOn
      ? undefined
      : 'echo 1 > /proc/sys/net/core/bpf_jit_enable (the interpreter runs tail calls too, slower; direct-jump tail calls need the JIT)',
    id: 'jit',
    status: jitOn ? 'pass' : 'warn',
    title: 'BPF JIT',
  })

  // --- map types, asked of the kernel
  if (libbpfOk && canLoad) {
    const {libbpf} = sys()
    for (const [id, type, title] of [
      ['ringbuf', BPF_MAP_TYPE.RINGBUF, 'ring buffer maps'],
      ['prog_array_type', BPF_MAP_TYPE.PROG_ARRAY, 'prog array maps'],
      ['percpu_array', BPF_MAP_TYPE.PERCPU_ARRAY, 'per-CPU array maps'],
    ] as const) {
      const ret = libbpf.libbpf_probe_bpf_map_type(type, null)
      facts[`map_type_${id}`] = ret === 1
      add({
        detail:
          ret === 1
            ? 'supported (probed: a map was created)'
            : ret === 0
              ? 'not supported by this kernel'
              : `probe failed: ${describeErrno(-ret)}`,
        fix: ret === 1 ? undefined : 'a 5.8+ kernel',
        id,
        status: ret === 1 ? 'pass' : 'fail',
        title,
      })
    }
  } else {
    for (const [id, title] of [
      ['ringbuf', 'ring buffer maps'],
      ['prog_array_type', 'prog array maps'],
      ['percpu_array', 'per-CPU array maps'],
    ]) {
      add({detail: canLoad ? 'needs libbpf' : 'needs the capabilities above', id, status: 'skip', title})
    }
  }

  // --- kernel features that moved between versions (see src/kernel/features.ts)
  if (libbpfOk && canLoad) {
    probeFeatures(add, facts)
  } else {
    for (const [id, title] of FEATURE_CHECKS)
      add({detail: canLoad ? 'needs libbpf' : 'needs the capabilities above', id, status: 'skip', title})
  }

  // --- the chain itself: load, fill the prog array, attach, run one exec, release
  probeChain(canLoad && libbpfOk && btfPresent, add, facts)

  // --- BPF_ENABLE_STATS (tailcalls stats)
  if (libbpfOk && canLoad) {
    const fd = sys().libbpf.bpf_enable_stats(BPF_STATS_TYPE.RUN_TIME)
    facts.enable_stats_fd = fd >= 0
    if (fd >= 0) closeFd(fd)
    add({
      detail: fd >= 0 ? 'BPF_ENABLE_STATS gave an fd (released at once)' : `refused: ${describeErrno(-fd)}`,
      fix:
        fd >= 0
          ? undefined
          : errnoName(fd) === 'EPERM'
            ? 'run as root (CAP_SYS_ADMIN)'
            : "a 5.8+ kernel; `tailcalls stats --no-kernel-stats` still shows the chain's counters",
      id: 'stats',
      status: fd >= 0 ? 'pass' : 'warn',
      title: 'run-time stats (BPF_ENABLE_STATS)',
    })
  } else {
    add({
      detail: 'needs the capabilities above',
      id: 'stats',
      status: 'skip',
      title: 'run-time stats (BPF_ENABLE_STATS)',
    })
  }

  return {checks, facts, ok: !checks.some((c) => c.status === 'fail')}
}

const FEATURE_CHECKS = [
  ['btf_kinds', 'BTF kinds FLOAT, DECL_TAG, TYPE_TAG, ENUM64'],
  ['batch_lookup', 'batch map reads (BPF_MAP_LOOKUP_BATCH)'],
] as const

const BTF_KINDS = ['float', 'decl_tag', 'type_tag', 'enum64'] as const
const BATCH_TYPES = ['hash', 'percpu_hash', 'array', 'percpu_array'] as const

function probeFeatures(add: (c: Check) => void, facts: Record<string, unknown>): void {
  const kinds = Object.fromEntries(BTF_KINDS.map((k) => [k, probeBtfKind(k)])) as Record<
    (typeof BTF_KINDS)[number],
    boolean
  >
  facts.btf_kinds = kinds
  const missing = BTF_KINDS.filter((k) => !kinds[k]).map((k) => k.toUpperCase())
  add({
    detail:
      missing.length === 0
        ? 'all four accepted by BPF_BTF_LOAD (probed)'
        : `the kernel refuses ${missing.join(', ')} (probed with BPF_BTF_LOAD): libbpf rewrites such types when it loads an object (FLOAT becomes an empty struct), so map dump cannot decode values of those types${kinds.enum64 ? '' : '; BTF with ENUM64 cannot be loaded at all'}`,
    fix:
      missing.length === 0
        ? undefined
        : 'only values typed with these kinds are affected (the chain uses none); Linux 6.0+ has all four',
    id: 'btf_kinds',
    status: missing.length === 0 ? 'pass' : 'warn',
    title: FEATURE_CHECKS[0][1],
  })

  const batch = Object.fromEntries(BATCH_TYPES.map((t) => [t, probeLookupBatch(t)]))
  facts.lookup_batch = Object.fromEntries(BATCH_TYPES.map((t) => [t, batch[t] === 'ok']))
  const noBatch = BATCH_TYPES.filter((t) => batch[t] !== 'ok')
  add({
    detail:
      noBatch.length === 0
        ? `${BATCH_TYPES.join(', ')}: batch reads work (probed)`
        : `no batch reads for ${noBatch.map((t) => `${t} (${batch[t]})`).join(', ')}: map dump reads those one element per syscall, and says so`,
    fix:
      noBatch.length === 0
        ? undefined
        : 'nothing to do: dumps stay correct, only slower on big maps; Linux 6.1+ batches every type the chain uses',
    id: 'batch_lookup',
    status: noBatch.length === 0 ? 'pass' : 'warn',
    title: FEATURE_CHECKS[1][1],
  })
}

/** Which probe step a load error belongs to, from the call that failed. */
function stepOf(error: unknown): 'load' | 'prog_array' | 'attach' {
  const op = error instanceof TailcallsError ? error.cause?.op : error instanceof SysError ? error.op : undefined
  if (op === 'bpf_map_update_elem') return 'prog_array'
  if (op === 'bpf_program__attach') return 'attach'
  return 'load'
}

function probeChain(possible: boolean, add: (c: Check) => void, facts: Record<string, unknown>): void {
  const steps = {
    attach: {id: 'attach', title: `attach prog1 to tp_btf/${TRACEPOINT}`},
    load: {id: 'load', title: 'load the bundled programs (verifier)'},
    prog_array: {id: 'prog_array', title: "prog array accepts the chain's programs"},
    tail_calls: {id: 'tail_calls', title: 'tail calls run end to end'},
    prog_info: {id: 'prog_info', title: 'bpf_prog_info fields (prog show)'},
    perf_query: {id: 'perf_query', title: 'BPF_TASK_FD_QUERY on the tp_btf link (perf list)'},
  }
  if (!possible) {
    for (const s of Object.values(steps)) add({...s, detail: 'needs the checks above', status: 'skip'})
    return
  }

  let chain: Chain
  try {
    chain = Chain.load()
  } catch (error) {
    const failed = stepOf(error)
    const message = error instanceof TailcallsError ? error.line() : (error as Error).message
    let reached = true
    for (const [key, s] of Object.entries(steps)) {
      if (key === failed) {
        add({...s, detail: message, fix: fixFor(key), status: 'fail'})
        reached = false
      } else {
        add({
          ...s,
          detail: reached ? 'done' : `not reached (${steps[failed].id} failed)`,
          status: reached ? 'pass' : 'skip',
        })
      }
    }

    return
  }

  try {
    const p1 = progInfo(chain.fds.prog1)
    facts.program_type = progTypeName(p1.type)
    facts.jited = p1.jitedProgLen > 0
    facts.prog1_jited_bytes = p1.jitedProgLen
    facts.prog1_xlated_bytes = p1.xlatedProgLen
    const owner = mapFdinfo(chain.fds.TAIL_CALL_MAP)
    facts.prog_array_owner_prog_type = owner.ownerProgType === undefined ? null : progTypeName(owner.ownerProgType)
    facts.prog_array_owner_jited = owner.ownerJited ?? null
    facts.possible_cpus = chain.possibleCpus
    // The ids the probe created and released, so a caller can check nothing stayed behind.
    facts.probe_ids = chain.ids()
    add({
      ...steps.load,
      detail: `prog1, prog2, prog3, prog3_v2 verified and loaded (${p1.jitedProgLen > 0 ? `JIT-compiled, prog1 ${p1.jitedProgLen} B` : 'not JIT-compiled'})`,
      status: 'pass',
    })
    add({
      ...steps.prog_array,
      detail: `TAIL_CALL_MAP[0] = prog2, [1] = prog3 (owner: ${facts.prog_array_owner_prog_type}${owner.ownerJited ? ', jited' : ''})`,
      status: 'pass',
    })
    add({...steps.attach, detail: 'attached through a BPF link', status: 'pass'})
    const before = chain.stats()
    spawnSync('/bin/true')
    const after = chain.stats()
    const d = (p: string) => after.runs[p] - before.runs[p]
    const failed = after.tailCallFailed.reduce((a, b) => a + b, 0) - before.tailCallFailed.reduce((a, b) => a + b, 0)
    const ok = d('prog1') >= 1 && d('prog2') >= 1 && d('prog3') >= 1 && failed === 0
    facts.tail_call_probe = {failed_tail_calls: failed, prog1: d('prog1'), prog2: d('prog2'), prog3: d('prog3')}
    add({
      ...steps.tail_calls,
      detail: ok
        ? `one exec ran prog1 → prog2 → prog3 (stage runs +${d('prog1')}/+${d('prog2')}/+${d('prog3')}, no failed tail call)`
        : `after one exec: stage runs +${d('prog1')}/+${d('prog2')}/+${d('prog3')}, failed tail calls +${failed}`,
      fix: ok ? undefined : 'the tracepoint did not fire or a tail call fell through; report this kernel (uname -a)',
      status: ok ? 'pass' : 'fail',
    })

    // What the kernel copies of struct bpf_prog_info: the fields prog show can print.
    const fields = progInfoFields(p1.infoLen)
    facts.prog_info_bytes = p1.infoLen
    facts.prog_info_fields = fields
    const absent = Object.entries(fields)
      .filter(([, v]) => !v)
      .map(([k]) => k)
    add({
      ...steps.prog_info,
      detail:
        absent.length === 0
          ? `the kernel fills ${p1.infoLen} bytes: ${Object.keys(fields).join(', ')} all present`
          : [
              `the kernel fills ${p1.infoLen} bytes: no ${absent.join(', ')}`,
              ...PROG_SHOW_FIELDS.filter((k) => !fields[k]).map(
                (k) => `prog show leaves ${k} out (as bpftool) and its table says so`,
              ),
              ...(fields.attach_btf_id
                ? []
                : ['map update leaves the attach-target check to the kernel (its refusal is still decoded)']),
            ].join('; '),
      fix: absent.length === 0 ? undefined : 'nothing to do; Linux 6.0+ fills every field the tool reads',
      status: absent.length === 0 ? 'pass' : 'warn',
    })

    // perf list (ours and bpftool's) finds attachments by asking every fd with BPF_TASK_FD_QUERY.
    // Whatever the kernel answers is the finding (ENOTSUPP before 5.x), so a refusal is reported, not thrown.
    let q: ReturnType<typeof queryFd> | SysError
    try {
      q = queryFd(process.pid, chain.fds.link)
    } catch (error) {
      if (!(error instanceof SysError)) throw error
      q = error
    }

    const answered = !(q instanceof SysError)
    facts.link_fd_query =
      q instanceof SysError ? q.code : {fd_type: q.fd_type ?? null, tracepoint: q.tracepoint ?? null}
    add({
      ...steps.perf_query,
      detail: !(q instanceof SysError)
        ? `prog1's link answers (fd_type ${String(q.fd_type)}, ${String(q.tracepoint)}): perf list shows the chain`
        : `prog1's link fd answers ${describeErrno(q.errno)}: perf list (ours and bpftool's) cannot show tp_btf attachments on this kernel; link list does`,
      fix: answered ? undefined : 'use `tailcalls link list` for tp_btf attachments',
      status: answered ? 'pass' : 'warn',
    })
  } finally {
    chain.close()
  }
}

function fixFor(step: string): string {
  switch (step) {
    case 'prog_array': {
      return 'this kernel refuses the programs in one prog array (attach type/target mismatch): report it with `uname -a`'
    }

    case 'attach': {
      return `this kernel cannot attach tp_btf/${TRACEPOINT}: needs BTF and 5.5+`
    }

    default: {
      return 'the verifier log above says why; a 5.8+ kernel with BTF is needed'
    }
  }
}

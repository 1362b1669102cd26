/**
 * Every koffi declaration of the project: libbpf.so.1 and libc.
 *
 * Only symbols that libbpf 1.1 (Debian 12) exports are declared here; anything newer must
 * be looked up with `optional()` and the caller must cope with its absence.
 * koffi (a native addon) is loaded on first use, so `--help` and `--version` never touch it.
 * libbpf >= 1.0 returns negative errno values (or NULL with errno set); the wrappers that call
 * these turn a failure into a SysError (src/sys/error.ts).
 */
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

import {LibraryLoadError} from './error.js'

// koffi's types, without loading the addon at import time.
import type * as Koffi from 'koffi'

/** Opaque libbpf handles are plain addresses in koffi 3; brand them so they cannot be mixed up. */
export type Ptr<Brand extends string> = bigint & {readonly __brand: Brand}
export type BpfObject = Ptr<'bpf_object'>
export type BpfProgram = Ptr<'bpf_program'>
export type BpfMap = Ptr<'bpf_map'>
export type BpfLink = Ptr<'bpf_link'>
export type RingBuffer = Ptr<'ring_buffer'>
export type BtfHandle = Ptr<'btf'>
export type Address = bigint

/** Anything koffi accepts as `void *`: a Buffer/TypedArray (transient), an address, or NULL. */
export type VoidPtr = Buffer | Uint8Array | Uint32Array | BigUint64Array | bigint | null

export interface Libbpf {
  // --- object lifecycle (libbpf.h) ---
  bpf_object__open_file(path: string, opts: null): BpfObject | null
  /** An object from memory: libbpf parses the bytes during the call and keeps no pointer to them. */
  bpf_object__open_mem(buf: Buffer, size: number, opts: null): BpfObject | null
  bpf_object__load(obj: BpfObject): number
  bpf_object__close(obj: BpfObject): void
  bpf_object__find_program_by_name(obj: BpfObject, name: string): BpfProgram | null
  bpf_object__find_map_by_name(obj: BpfObject, name: string): BpfMap | null
  bpf_object__next_program(obj: BpfObject, prev: BpfProgram | null): BpfProgram | null
  bpf_object__next_map(obj: BpfObject, prev: BpfMap | null): BpfMap | null
  bpf_program__name(prog: BpfProgram): string
  bpf_program__fd(prog: BpfProgram): number
  bpf_program__set_log_buf(prog: BpfProgram, buf: Address, size: number): number
  bpf_program__attach(prog: BpfProgram): BpfLink | null
  /** XDP through a BPF link (kernel 5.9+): detached when the link's last fd closes, pinnable. */
  bpf_program__attach_xdp(prog: BpfProgram, ifindex: number): BpfLink | null
  bpf_program__section_name(prog: BpfProgram): string
  bpf_program__type(prog: BpfProgram): number
  bpf_map__type(map: BpfMap): number
  bpf_map__max_entries(map: BpfMap): number
  bpf_map__value_size(map: BpfMap): number
  bpf_map__name(map: BpfMap): string
  bpf_map__fd(map: BpfMap): number
  bpf_map__set_max_entries(map: BpfMap, n: number): number
  /** An iter/… program attached as an iterator (opts NULL: no map or task filter). */
  bpf_program__attach_iter(prog: BpfProgram, opts: null): BpfLink | null
  bpf_link__fd(link: BpfLink): number
  bpf_link__pin(link: BpfLink, path: string): number
  bpf_link__destroy(link: BpfLink): number
  libbpf_set_print(fn: Address | null): Address | null
  libbpf_num_possible_cpus(): number
  libbpf_major_version(): number
  libbpf_minor_version(): number
  // --- ring buffer ---
  ring_buffer__new(mapFd: number, cb: Address, ctx: null, opts: null): RingBuffer | null
  ring_buffer__consume(rb: RingBuffer): number
  ring_buffer__epoll_fd(rb: RingBuffer): number
  ring_buffer__free(rb: RingBuffer): void
  // --- thin syscall wrappers (bpf.h) ---
  bpf_map_update_elem(fd: number, key: VoidPtr, value: VoidPtr, flags: number): number
  bpf_map_lookup_elem(fd: number, key: VoidPtr, value: VoidPtr): number
  bpf_map_delete_elem(fd: number, key: VoidPtr): number
  bpf_map_get_next_key(fd: number, key: VoidPtr, next: VoidPtr): number
  bpf_map_lookup_batch(
    fd: number,
    inBatch: VoidPtr,
    outBatch: VoidPtr,
    keys: VoidPtr,
    values: VoidPtr,
    count: number[],
    opts: VoidPtr,
  ): number
  bpf_obj_pin(fd: number, path: string): number
  bpf_obj_get(path: string): number
  /** len: in and out through a Uint32Array (an array is copied in only: the length the kernel used is lost). */
  bpf_obj_get_info_by_fd(fd: number, info: VoidPtr, len: Uint32Array | number[]): number
  // The id comes back in the Uint32Array: koffi hands a typed array's memory to C as it is, where
  // an _Out_ array costs a conversion each way (a listing calls these once per object).
  bpf_prog_get_next_id(start: number, next: Uint32Array): number
  bpf_map_get_next_id(start: number, next: Uint32Array): number
  bpf_link_get_next_id(start: number, next: Uint32Array): number
  bpf_btf_get_next_id(start: number, next: Uint32Array): number
  bpf_prog_get_fd_by_id(id: number): number
  bpf_map_get_fd_by_id(id: number): number
  bpf_link_get_fd_by_id(id: number): number
  bpf_btf_get_fd_by_id(id: number): number
  bpf_task_fd_query(
    pid: number,
    fd: number,
    flags: number,
    buf: Buffer | null,
    bufLen: number[],
    progId: number[],
    fdType: number[],
    probeOffset: bigint[],
    probeAddr: bigint[],
  ): number
  bpf_enable_stats(type: number): number
  /** BPF_ITER_CREATE: a new fd whose read() runs the iterator behind the link. */
  bpf_iter_create(linkFd: number): number
  /** The id of the XDP program attached to `ifindex` in the mode `flags` selects (0: any); *id = 0 when none. */
  bpf_xdp_query_id(ifindex: number, flags: number, progId: number[]): number
  /** hook: struct bpf_tc_hook (TC_HOOK in src/load/tc.ts); opts: struct bpf_tc_opts. */
  bpf_tc_hook_create(hook: Buffer): number
  bpf_tc_hook_destroy(hook: Buffer): number
  bpf_tc_attach(hook: Buffer, opts: Buffer): number
  bpf_tc_detach(hook: Buffer, opts: Buffer): number
  /** BPF_BTF_LOAD: a raw BTF blob into the kernel; returns a BTF fd (opts: NULL or struct bpf_btf_load_opts). */
  bpf_btf_load(data: Buffer, size: number, opts: VoidPtr): number
  /** BPF_MAP_CREATE; opts: struct bpf_map_create_opts (MAP_CREATE_OPTS in layouts.ts) or NULL. Returns a map fd. */
  bpf_map_create(
    type: number,
    name: string | null,
    keySize: number,
    valueSize: number,
    maxEntries: number,
    opts: VoidPtr,
  ): number
  /** BPF_PROG_TEST_RUN; opts: struct bpf_test_run_opts (TEST_RUN_OPTS in layouts.ts), in and out. */
  bpf_prog_test_run_opts(progFd: number, opts: Buffer): number
  // --- feature probes and kernel BTF (doctor) ---
  libbpf_probe_bpf_prog_type(progType: number, opts: null): number
  libbpf_probe_bpf_map_type(mapType: number, opts: null): number
  libbpf_probe_bpf_helper(progType: number, helperId: number, opts: null): number
  btf__load_vmlinux_btf(): BtfHandle | null
  btf__find_by_name_kind(btf: BtfHandle, name: string, kind: number): number
  btf__free(btf: BtfHandle): void
}

export interface Libc {
  close(fd: number): number
  memcpy(dst: VoidPtr, src: VoidPtr, n: number): Address
  vsnprintf(buf: Buffer, size: number, fmt: string, ap: Address): number
  geteuid(): number
  mount(source: string, target: string, fstype: string, flags: number, data: null): number
  /** ts: a 16-byte buffer receiving struct timespec {i64 tv_sec; i64 tv_nsec}. */
  clock_gettime(clock: number, ts: Buffer): number
  /** glibc's message for an errno (bpftool prints these in map dump error entries). */
  strerror(errnum: number): string
  /** 0 when no interface has this name. */
  if_nametoindex(name: string): number
  /** readlink(2) relative to a directory fd: the pid table reads /proc/PID/fd/N through the fd of /proc/PID/fd. */
  readlinkat(dirfd: number, path: string, buf: Buffer, size: number): number
  /**
   * openat(2) without O_CREAT, relative to a directory fd: glibc's non-variadic entry point (what
   * _FORTIFY_SOURCE calls); openat itself is variadic, which koffi calls more slowly.
   */
  __openat_2(dirfd: number, path: string, flags: number): number
  read(fd: number, buf: Buffer, size: number): number
}

export interface Sys {
  koffi: typeof Koffi
  libbpf: Libbpf
  libc: Libc
  /** errno of the last call, read right after a call that failed. */
  errno(): number
  /** A libbpf function newer than 1.1, or undefined when this libbpf lacks it. */
  optional(prototype: string): ((...args: unknown[]) => unknown) | undefined
}

let cached: Sys | undefined

/** The bindings, created on first use. Throws LibraryLoadError if libbpf.so.1 cannot be loaded. */
export function sys(): Sys {
  cached ??= bind()
  return cached
}

/**
 * koffi's native addon, required directly where koffi ships it in a platform package we can name
 * (glibc Linux on x64 or arm64), else through koffi's own entry. Why: that entry finds the addon
 * by parsing Node's ELF headers (to tell glibc from musl) and resolving the platform package
 * through three modules, ~10 ms of JavaScript for every command that touches the kernel, three
 * times what loading the addon costs. The addon's exports are koffi's API as koffi's entry
 * exports it (which only adds deprecated aliases); a version that is not koffi's own, or any
 * failure, goes the usual way.
 */
function loadKoffi(require: NodeJS.Require): typeof Koffi {
  const {arch, platform} = process
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64') && glibcProcess()) {
    try {
      const native = require(`@koromix/koffi-${platform}-${arch}/${platform}_${arch}/koffi.node`) as typeof Koffi & {
        version?: string
      }
      const koffiJson = join(dirname(require.resolve('koffi')), 'package.json')
      if (native.version === (JSON.parse(readFileSync(koffiJson, 'utf8')) as {version: string}).version) return native
    } catch (error) {
      // Not installed where koffi's package names it (another layout, a bundler): koffi finds it.
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'MODULE_NOT_FOUND' && code !== 'ENOENT') throw error
    }
  }

  return require('koffi') as typeof Koffi
}

/** Whether glibc's dynamic loader runs this process (koffi's glibc build needs it). */
function glibcProcess(): boolean {
  try {
    return /\/ld-linux[^/\n]*\.so/.test(readFileSync('/proc/self/maps', 'latin1'))
  } catch (error) {
    // No /proc: let koffi decide.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

function bind(): Sys {
  const koffi = loadKoffi(createRequire(import.meta.url))
  for (const name of ['bpf_object', 'bpf_program', 'bpf_map', 'bpf_link', 'ring_buffer', 'btf']) koffi.opaque(name)
  // Declared once per process: koffi type names are global.
  koffi.proto('int ring_buffer_sample_fn(void *ctx, void *data, size_t size)')
  koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *args)')

  let bpf: Koffi.LibraryHandle
  try {
    bpf = koffi.load('libbpf.so.1')
  } catch (error) {
    // koffi reports dlopen's text ("libbpf.so.1: cannot open shared object file: …").
    throw new LibraryLoadError('libbpf.so.1', (error as Error).message, 'apt-get install libbpf1')
  }
  const libc = koffi.load('libc.so.6')

  const libbpfProtos = [
    'bpf_object *bpf_object__open_file(const char *path, const void *opts)',
    'bpf_object *bpf_object__open_mem(const void *obj_buf, size_t obj_buf_sz, const void *opts)',
    'int bpf_object__load(bpf_object *obj)',
    'void bpf_object__close(bpf_object *obj)',
    'bpf_program *bpf_object__find_program_by_name(const bpf_object *obj, const char *name)',
    'bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)',
    'bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)',
    'bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)',
    'const char *bpf_program__name(const bpf_program *prog)',
    'int bpf_program__fd(const bpf_program *prog)',
    'int bpf_program__set_log_buf(bpf_program *prog, void *buf, size_t size)',
    'bpf_link *bpf_program__attach(const bpf_program *prog)',
    'bpf_link *bpf_program__attach_xdp(const bpf_program *prog, int ifindex)',
    'const char *bpf_program__section_name(const bpf_program *prog)',
    'int bpf_program__type(const bpf_program *prog)',
    'int bpf_map__type(const bpf_map *map)',
    'uint32_t bpf_map__max_entries(const bpf_map *map)',
    'uint32_t bpf_map__value_size(const bpf_map *map)',
    'const char *bpf_map__name(const bpf_map *map)',
    'int bpf_map__fd(const bpf_map *map)',
    'int bpf_map__set_max_entries(bpf_map *map, uint32_t n)',
    'bpf_link *bpf_program__attach_iter(const bpf_program *prog, const void *opts)',
    'int bpf_link__fd(const bpf_link *link)',
    'int bpf_link__pin(bpf_link *link, const char *path)',
    'int bpf_link__destroy(bpf_link *link)',
    'void *libbpf_set_print(void *fn)',
    'int libbpf_num_possible_cpus(void)',
    'uint32_t libbpf_major_version(void)',
    'uint32_t libbpf_minor_version(void)',
    'ring_buffer *ring_buffer__new(int map_fd, void *cb, void *ctx, const void *opts)',
    'int ring_buffer__consume(ring_buffer *rb)',
    'int ring_buffer__epoll_fd(const ring_buffer *rb)',
    'void ring_buffer__free(ring_buffer *rb)',
    'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
    'int bpf_map_lookup_elem(int fd, const void *key, void *value)',
    'int bpf_map_delete_elem(int fd, const void *key)',
    'int bpf_map_get_next_key(int fd, const void *key, void *next_key)',
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const void *opts)',
    'int bpf_obj_pin(int fd, const char *path)',
    'int bpf_obj_get(const char *path)',
    'int bpf_obj_get_info_by_fd(int fd, void *info, uint32_t *len)',
    'int bpf_prog_get_next_id(uint32_t start, uint32_t *next)',
    'int bpf_map_get_next_id(uint32_t start, uint32_t *next)',
    'int bpf_link_get_next_id(uint32_t start, uint32_t *next)',
    'int bpf_btf_get_next_id(uint32_t start, uint32_t *next)',
    'int bpf_prog_get_fd_by_id(uint32_t id)',
    'int bpf_map_get_fd_by_id(uint32_t id)',
    'int bpf_link_get_fd_by_id(uint32_t id)',
    'int bpf_btf_get_fd_by_id(uint32_t id)',
    'int bpf_task_fd_query(int pid, int fd, uint32_t flags, char *buf, _Inout_ uint32_t *buf_len, _Out_ uint32_t *prog_id, _Out_ uint32_t *fd_type, _Out_ uint64_t *probe_offset, _Out_ uint64_t *probe_addr)',
    'int bpf_enable_stats(int type)',
    'int bpf_iter_create(int link_fd)',
    'int bpf_xdp_query_id(int ifindex, int flags, _Out_ uint32_t *prog_id)',
    'int bpf_tc_hook_create(void *hook)',
    'int bpf_tc_hook_destroy(void *hook)',
    'int bpf_tc_attach(const void *hook, void *opts)',
    'int bpf_tc_detach(const void *hook, const void *opts)',
    'int bpf_btf_load(const void *btf_data, size_t btf_size, const void *opts)',
    'int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const void *opts)',
    'int bpf_prog_test_run_opts(int prog_fd, void *opts)',
    'int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)',
    'int libbpf_probe_bpf_map_type(int map_type, const void *opts)',
    'int libbpf_probe_bpf_helper(int prog_type, int helper_id, const void *opts)',
    'btf *btf__load_vmlinux_btf(void)',
    'int btf__find_by_name_kind(const btf *btf, const char *type_name, uint32_t kind)',
    'void btf__free(btf *btf)',
  ]
  const libcProtos = [
    'int close(int fd)',
    'void *memcpy(void *dst, const void *src, size_t n)',
    'int vsnprintf(char *buf, size_t size, const char *fmt, void *ap)',
    'uint32_t geteuid(void)',
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)',
    'int clock_gettime(int clock, void *ts)',
    'const char *strerror(int errnum)',
    'unsigned int if_nametoindex(const char *ifname)',
    'long readlinkat(int dirfd, const char *path, void *buf, size_t size)',
    'int __openat_2(int dirfd, const char *path, int flags)',
    'long read(int fd, void *buf, size_t size)',
  ]

  return {
    errno: () => koffi.errno(),
    koffi,
    libbpf: declare(bpf, libbpfProtos) as unknown as Libbpf,
    libc: declare(libc, libcProtos) as unknown as Libc,
    optional(prototype) {
      // koffi has no "has symbol" query: a symbol this libbpf lacks makes func() throw "Cannot
      // find function". Any other throw (a malformed prototype) is a bug and propagates.
      try {
        return bpf.func(prototype) as (...args: unknown[]) => unknown
      } catch (error) {
        if (/cannot find function/i.test((error as Error).message)) return undefined
        throw error
      }
    },
  }
}

/**
 * The functions of `protos`, by name, each declared to koffi on first use: parsing a prototype
 * costs, and a command calls a handful of the ~60 (declaring all of them was a measurable part
 * of every command's start-up).
 */
function declare(lib: Koffi.LibraryHandle, protos: string[]): Record<string, ReturnType<Koffi.LibraryHandle['func']>> {
  const out: Record<string, ReturnType<Koffi.LibraryHandle['func']>> = {}
  for (const proto of protos) {
    const name = /(\w+)\s*\(/.exec(proto)?.[1]
    if (!name) throw new Error(`not a C prototype: ${proto}`)
    Object.defineProperty(out, name, {
      configurable: true,
      enumerable: true,
      get() {
        const fn = lib.func(proto)
        Object.defineProperty(out, name, {enumerable: true, value: fn})
        return fn
      },
    })
  }
  return out
}

/**
 * A BPF ring buffer read on Node's main thread without blocking it or busy-polling:
 * libuv watches the ring's epoll fd (koffi.node.poll), and each wakeup drains the ring
 * with ring_buffer__consume(). Samples are copied into one batch buffer (one memcpy each;
 * sample memory is valid only during the callback) and handed over per wakeup.
 */
import {SysError, checkRet} from '../sys/error.js'
import {type RingBuffer, sys} from '../sys/ffi.js'

export interface Batch {
  /** `count` records of `recordSize` bytes each, packed. Valid until the handler returns. */
  buf: Buffer
  count: number
}

interface PollHandle {
  close(): void
  start(opts?: unknown, cb?: unknown): void
  stop(): void
}

export class RingBufferReader {
  private readonly rb: RingBuffer
  private readonly cb: bigint
  private readonly batch: Buffer
  private readonly batchAddr: bigint
  private count = 0
  private cursor: bigint
  private readonly capacity: number
  private poll: PollHandle | undefined
  private paused = false
  private timer: NodeJS.Timeout | undefined
  private closed = false
  /** Samples skipped because their size was not recordSize. */
  malformed = 0

  constructor(
    mapFd: number,
    recordSize: number,
    private readonly onBatch: (batch: Batch) => void,
    capacity = 8192,
    private readonly coalesceMs = 10,
  ) {
    const {koffi, libbpf, libc} = sys()
    this.capacity = capacity
    this.batch = Buffer.allocUnsafeSlow(recordSize * capacity)
    this.batchAddr = koffi.address(this.batch) as bigint
    const size = BigInt(recordSize)
    this.cursor = this.batchAddr
    this.cb = koffi.register((_ctx: bigint, data: bigint, len: number) => {
      // A record of another size is not ours to decode: copying a short one would leave the
      // previous record's bytes in the slot, decoded as if they were this one's.
      if (len !== recordSize) {
        this.malformed++
        return 0
      }

      libc.memcpy(this.cursor, data, recordSize)
      this.cursor += size
      this.count++
      if (this.count === this.capacity) this.flush()
      return 0
    }, 'ring_buffer_sample_fn *') as unknown as bigint
    const rb = libbpf.ring_buffer__new(mapFd, this.cb, null, null)
    if (!rb) {
      const error = new SysError('ring_buffer__new', sys().errno(), 'opening the ring buffer') // errno before any other call
      koffi.unregister(this.cb)
      throw error
    }

    this.rb = rb
  }

  private flush(): void {
    if (this.count === 0) return
    const count = this.count
    this.count = 0
    this.cursor = this.batchAddr
    this.onBatch({buf: this.batch, count})
  }

  /**
   * Start watching. A wakeup does not drain at once: it stops watching and drains once
   * `coalesceMs` later, so a burst of events costs one wakeup, one FFI round and one
   * write instead of one per event (the per-wakeup cost dominates at exec rates).
   */
  start(): void {
    const {koffi, libbpf} = sys()
    const fd = checkRet('ring_buffer__epoll_fd', libbpf.ring_buffer__epoll_fd(this.rb))
    const node = (koffi as unknown as {node: {poll(fd: number, o: unknown, cb: () => void): PollHandle}}).node
    this.poll = node.poll(fd, {readable: true}, () => this.onReadable())
  }

  private onReadable(): void {
    if (this.coalesceMs <= 0) {
      this.drain()
      return
    }

    this.poll?.stop()
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.drain()
      if (!this.paused && !this.closed) this.poll?.start({readable: true}, () => this.onReadable())
    }, this.coalesceMs)
  }

  /** Drain whatever is in the ring now. Returns the number of samples consumed. */
  drain(): number {
    if (this.closed) return 0
    const n = sys().libbpf.ring_buffer__consume(this.rb)
    this.flush()
    return checkRet('ring_buffer__consume', n)
  }

  /** Stop reading (backpressure): the ring fills, and the BPF side counts what it drops. */
  pause(): void {
    if (this.paused || !this.poll) return
    this.paused = true
    this.poll.stop()
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  resume(): void {
    if (!this.paused || !this.poll || this.closed) return
    this.paused = false
    this.poll.start({readable: true}, () => this.onReadable())
    this.drain()
  }

  close(): void {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.poll?.close()
    this.closed = true
    const {koffi, libbpf} = sys()
    libbpf.ring_buffer__free(this.rb)
    koffi.unregister(this.cb)
  }
}

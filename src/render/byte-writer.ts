/**
 * A growable byte buffer that JSON text is written into without building JS strings: constant
 * pieces are copied from pre-encoded bytes and integers are written digit by digit. This is
 * what makes a million-entry map dump cheap (no per-entry strings for the GC to collect).
 */

/** 2^32: u64 values are composed from two u32 words (hi * TWO32 + lo) while that is exact. */
export const TWO32 = 4294967296

export class ByteWriter {
  buf: Buffer
  pos = 0

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size)
  }

  /** Make room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 4096))
    this.buf.copy(bigger, 0, 0, this.pos)
    this.buf = bigger
  }

  /** Pre-encoded bytes (keys, punctuation). */
  lit(b: Uint8Array): void {
    const n = b.length
    if (this.pos + n > this.buf.length) this.reserve(n)
    const d = this.buf
    const p = this.pos
    if (n < 48) {
      for (let i = 0; i < n; i++) d[p + i] = b[i]
    } else {
      d.set(b, p)
    }

    this.pos = p + n
  }

  byte(c: number): void {
    if (this.pos + 1 > this.buf.length) this.reserve(1)
    this.buf[this.pos++] = c
  }

  /** A non-negative safe integer in decimal. */
  uint(n: number): void {
    if (this.pos + 16 > this.buf.length) this.reserve(16)
    const d = this.buf
    if (n < 10) {
      d[this.pos++] = 48 + n
      return
    }

    let len = 0
    let t = n
    if (n < TWO32) {
      while (t > 0) {
        len++
        t = (t / 10) >>> 0
      }

      let p = this.pos + len
      t = n
      while (t > 0) {
        const q = (t / 10) >>> 0
        d[--p] = 48 + t - q * 10
        t = q
      }
    } else {
      while (t > 0) {
        len++
        t = Math.floor(t / 10)
      }

      let p = this.pos + len
      t = n
      while (t > 0) {
        const q = Math.floor(t / 10)
        d[--p] = 48 + t - q * 10
        t = q
      }
    }

    this.pos += len
  }

  /** A safe integer in decimal. */
  int(n: number): void {
    if (n < 0) {
      this.byte(45)
      this.uint(-n)
    } else {
      this.uint(n)
    }
  }

  /** ASCII text. */
  ascii(s: string): void {
    this.reserve(s.length)
    this.pos += this.buf.latin1Write(s, this.pos)
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3)
    this.pos += this.buf.utf8Write(s, this.pos)
  }

  /** What was written, as a string; the writer is emptied. */
  take(): string {
    const s = this.buf.toString('utf8', 0, this.pos)
    this.pos = 0
    return s
  }
}

declare global {
  interface Buffer {
    /** Node's fast paths behind buf.write(…, 'latin1'|'utf8') (present since Node 0.x, untyped). */
    latin1Write(s: string, offset: number): number
    utf8Write(s: string, offset: number): number
  }
}

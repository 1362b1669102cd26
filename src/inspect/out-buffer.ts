/**
 * A chunked stdout writer for large outputs (map dumps): JSON text is written as bytes into a
 * 1 MiB buffer (src/render/byte-writer.ts) that is handed to the stream when full, and the caller
 * awaits each hand-off, so memory stays flat whatever the size of the output and a closed
 * reader (`| head`) is noticed within one chunk. Hex byte lists are written byte by byte.
 */
import {ByteWriter} from '../render/byte-writer.js'
import {writeOut} from '../render/json.js'

const CHUNK = 1 << 20
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')

export class OutBuffer extends ByteWriter {
  /** False once the reader has gone away; writers should stop. */
  open = true

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    super(CHUNK + 4096)
  }

  /** `"0x01","0x02",…` for len bytes of src at off: bpftool's print_hex_data_json items. */
  hexJson(src: Buffer, off: number, len: number): void {
    this.reserve(len * 7)
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < len; i++) {
      const v = src[off + i]
      if (i) b[p++] = 0x2c
      b[p] = 0x22
      b[p + 1] = 0x30
      b[p + 2] = 0x78
      b[p + 3] = HEX_DIGITS[v >> 4]
      b[p + 4] = HEX_DIGITS[v & 15]
      b[p + 5] = 0x22
      p += 6
    }

    this.pos = p
  }

  /** `01 02 03` for len bytes: hex for tables. */
  static hexText(src: Buffer, off: number, len: number): string {
    return src
      .subarray(off, off + len)
      .toString('hex')
      .replaceAll(/(..)(?!$)/g, '$1 ')
  }

  /** True once the buffer holds a chunk: time to flush(). */
  full(): boolean {
    return this.pos >= CHUNK
  }

  /** Hand the buffer to the stream once it holds a chunk; resolves false if the reader is gone. */
  async maybeFlush(): Promise<boolean> {
    if (this.pos < CHUNK) return this.open
    return this.flush()
  }

  async flush(): Promise<boolean> {
    if (!this.open) return false
    if (this.pos === 0) return true
    const chunk = this.buf.subarray(0, this.pos)
    // A fresh buffer: the stream may still hold the old one.
    this.buf = Buffer.allocUnsafe(CHUNK + 4096)
    this.pos = 0
    this.open = await writeOut(chunk, this.out)
    return this.open
  }
}

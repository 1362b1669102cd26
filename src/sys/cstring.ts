/** NUL-terminated C strings inside fixed-size byte fields. */
export function cstring(buf: Buffer, offset: number, max: number): string {
  const end = buf.indexOf(0, offset)
  return buf.toString('utf8', offset, end === -1 || end > offset + max ? offset + max : end)
}

/**
 * JSON.parse that keeps every digit: integers outside ±2^53 come back as BigInt (JSON.parse
 * would round u64 counters and pointers). Used to turn rendered BTF values back into data for
 * tables, and by tests comparing our JSON with bpftool's. Throws SyntaxError on bad input.
 */

export type JsonValue = bigint | boolean | JsonValue[] | null | number | string | {[key: string]: JsonValue}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

export function parseJson(text: string): JsonValue {
  let i = 0
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i} in JSON`)
  }

  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
  }

  const string = (): string => {
    // Find the closing quote, skipping escapes, then let JSON.parse decode the escapes.
    const start = i
    i++
    for (;;) {
      if (i >= text.length) fail('unterminated string')
      const c = text.charCodeAt(i)
      if (c === 0x22) break
      i += c === 0x5c ? 2 : 1
    }

    i++
    return JSON.parse(text.slice(start, i)) as string
  }

  // Iterative descent would be safer for hostile input; our inputs are our own renderer's
  // output, whose nesting is bounded by the BTF compiler (64 levels).
  const value = (depth: number): JsonValue => {
    if (depth > 512) fail('nesting too deep')
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const obj: {[key: string]: JsonValue} = {}
      ws()
      if (text[i] === '}') {
        i++
        return obj
      }

      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a key')
        const k = string()
        ws()
        if (text[i++] !== ':') fail('expected ":"')
        obj[k] = value(depth + 1)
        ws()
        const sep = text[i++]
        if (sep === '}') return obj
        if (sep !== ',') fail('expected "," or "}"')
      }
    }

    if (c === '[') {
      i++
      const arr: JsonValue[] = []
      ws()
      if (text[i] === ']') {
        i++
        return arr
      }

      for (;;) {
        arr.push(value(depth + 1))
        ws()
        const sep = text[i++]
        if (sep === ']') return arr
        if (sep !== ',') fail('expected "," or "]"')
      }
    }

    if (c === '"') return string()
    if (text.startsWith('true', i)) {
      i += 4
      return true
    }

    if (text.startsWith('false', i)) {
      i += 5
      return false
    }

    if (text.startsWith('null', i)) {
      i += 4
      return null
    }

    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (!m) return fail('unexpected character')
    i += m[0].length
    const n = Number(m[0])
    if (Number.isSafeInteger(n) || !/^-?\d+$/.test(m[0])) return n
    return BigInt(m[0])
  }

  const result = value(0)
  ws()
  if (i !== text.length) fail('unexpected data after the value')
  return result
}

/**
 * How a program or map is named in messages, findings and drawings: its name, or "(no name)"
 * when it has none (the kernel allows that), and its id, which is what tells objects apart.
 */

/** The object's name, or "(no name)". */
export function objectName(name: string): string {
  return name || '(no name)'
}

/** "name (id N)". */
export function objectLabel(o: {id: number; name: string}): string {
  return `${objectName(o.name)} (id ${o.id})`
}

/** Code-unit order: unlike localeCompare it sorts ids the same way on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

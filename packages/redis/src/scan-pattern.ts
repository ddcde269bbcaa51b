/** Escapes Redis glob characters (`* ? [ ] \`) so the text matches only itself in SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
}

/** SCAN MATCH pattern for `pattern` (our glob: `*` and `?`) under a literal prefix. */
export function scanPatternFor(prefix: string, pattern: string): string {
  return escapeGlob(prefix) + pattern
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (we have milliseconds). */
export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Parses Time or MicroTime strings; NaN when absent or malformed. */
export function parseTimeMs(s: unknown): number {
  return typeof s === 'string' ? Date.parse(s) : NaN;
}

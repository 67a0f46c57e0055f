import { isIP } from 'node:net';

/** One inclusive address range, as numbers, of one family. */
export interface Span {
  readonly family: 4 | 6;
  readonly lo: bigint;
  readonly hi: bigint;
}

export function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const fam = isIP(ip);
  if (fam === 4) {
    const v = ip.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
    return { family: 4, value: v };
  }
  if (fam === 6) {
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8) return undefined;
    return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n) };
  }
  return undefined;
}

/**
 * The span of one pool address entry (`a.b.c.d/n`, `x-y` with optional spaces, or a bare
 * address), or undefined when it is not one (reversed ranges included).
 */
export function parseEntry(entry: string): Span | undefined {
  const s = entry.trim();
  if (s.includes('/')) {
    const [ip, bitsText] = s.split('/');
    const a = ipToBigInt(ip ?? '');
    const bits = Number(bitsText);
    const width = a?.family === 4 ? 32 : 128;
    if (!a || !Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
    const host = (1n << BigInt(width - bits)) - 1n;
    const lo = a.value & ~host;
    return { family: a.family, lo, hi: lo | host };
  }
  if (s.includes('-')) {
    const [x, y] = s.split('-').map((p) => p.trim());
    const a = ipToBigInt(x ?? '');
    const b = ipToBigInt(y ?? '');
    if (!a || !b || a.family !== b.family || a.value > b.value) return undefined;
    return { family: a.family, lo: a.value, hi: b.value };
  }
  const a = ipToBigInt(s);
  return a && { family: a.family, lo: a.value, hi: a.value };
}

/** Whether `ip` is inside any of the entries (unparseable entries hold nothing). */
export function entriesContain(entries: readonly string[], ip: string): boolean {
  const a = ipToBigInt(ip);
  if (!a) return false;
  return entries.some((e) => {
    const span = parseEntry(e);
    return span !== undefined && span.family === a.family && span.lo <= a.value && a.value <= span.hi;
  });
}

export function spansOverlap(a: readonly string[], b: readonly string[]): boolean {
  const sa = a.map(parseEntry);
  const sb = b.map(parseEntry);
  return sa.some((x) => x && sb.some((y) => y && x.family === y.family && x.lo <= y.hi && y.lo <= x.hi));
}

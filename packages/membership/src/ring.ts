import { createHash } from 'node:crypto';

function position(name: string): number {
  // 48 bits of SHA-256: uniform, and the same on every member.
  return createHash('sha256').update(name).digest().readUIntBE(0, 6);
}

function compare(a: number, an: string, b: number, bn: string): number {
  return a - b || (an < bn ? -1 : an > bn ? 1 : 0);
}

/**
 * The consistent-hash ring every member computes from the names it knows. A member watches its
 * nearest successors and predecessors (see MemberView.neighbours), skipping members the caller
 * marks unusable (dead, left). Immutable: adding a name returns a new ring, so
 * members built from the same peer list share one.
 */
export class Ring {
  private readonly index: ReadonlyMap<string, number>;

  private constructor(
    readonly names: readonly string[],
    private readonly positions: readonly number[],
  ) {
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  static of(names: Iterable<string>): Ring {
    const placed = [...new Set(names)].map((name) => ({ name, at: position(name) }));
    placed.sort((a, b) => compare(a.at, a.name, b.at, b.name));
    return new Ring(
      placed.map((p) => p.name),
      placed.map((p) => p.at),
    );
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  get size(): number {
    return this.names.length;
  }

  /** A ring with `name` added (binary search, no re-hashing of the others). */
  with(name: string): Ring {
    if (this.has(name)) return this;
    const at = position(name);
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.positions[mid] as number, this.names[mid] as string, at, name) < 0) lo = mid + 1;
      else hi = mid;
    }
    const names = [...this.names];
    const positions = [...this.positions];
    names.splice(lo, 0, name);
    positions.splice(lo, 0, at);
    return new Ring(names, positions);
  }

  /** Up to `k` usable members after `name` going round the ring (never `name` itself). */
  successors(name: string, k: number, usable: (n: string) => boolean): string[] {
    return this.walk(name, k, usable, 1);
  }

  /** Up to `k` usable members before `name`: the members that watch it. */
  predecessors(name: string, k: number, usable: (n: string) => boolean): string[] {
    return this.walk(name, k, usable, -1);
  }

  private walk(name: string, k: number, usable: (n: string) => boolean, dir: 1 | -1): string[] {
    const start = this.index.get(name);
    const out: string[] = [];
    if (start === undefined) return out;
    const n = this.names.length;
    for (let step = 1; step < n && out.length < k; step++) {
      const other = this.names[(((start + dir * step) % n) + n) % n] as string;
      if (usable(other)) out.push(other);
    }
    return out;
  }
}

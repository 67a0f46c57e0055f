import { createHash } from 'node:crypto';

function position(name: string): number {
  // 48 bits of SHA-256: uniform, and the same on every member.
  return createHash('sha256').update(name).digest().readUIntBE(0, 6);
}

/**
 * The consistent-hash ring every member computes from the names it knows. A member probes its
 * `k` successors (its targets) and is probed by its `k` predecessors (its watchers), skipping
 * members the caller marks unusable (dead, left). Immutable: adding a name returns a new ring, so
 * members built from the same peer list share one.
 */
export class Ring {
  private readonly index: ReadonlyMap<string, number>;

  private constructor(readonly names: readonly string[]) {
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  static of(names: Iterable<string>): Ring {
    const placed = [...new Set(names)].map((name) => ({ name, at: position(name) }));
    placed.sort((a, b) => a.at - b.at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return new Ring(placed.map((p) => p.name));
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  get size(): number {
    return this.names.length;
  }

  with(name: string): Ring {
    return this.has(name) ? this : Ring.of([...this.names, name]);
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

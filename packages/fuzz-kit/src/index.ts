import { pathToFileURL } from 'node:url';

/**
 * mulberry32: small, fast and seeded, so any finding can be replayed from the seed a run prints.
 * Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True when the module at `importMetaUrl` is the script node was started with (not imported by a test). */
export function isMainModule(importMetaUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && importMetaUrl === pathToFileURL(script).href;
}

/** The drivers' shared command line: `<driver> [iterations=1000000] [seed=now]`. */
export function fuzzArgs(argv: readonly string[] = process.argv.slice(2)): {
  iterations: number;
  seed: number;
} {
  const iterations = Number(argv[0] ?? 1_000_000);
  const seed = Number(argv[1] ?? Date.now() % 2 ** 31);
  if (!Number.isInteger(iterations) || iterations <= 0)
    throw new Error(`iterations "${argv[0]}" must be a positive whole number`);
  if (!Number.isInteger(seed)) throw new Error(`seed "${argv[1]}" must be a whole number`);
  return { iterations, seed };
}

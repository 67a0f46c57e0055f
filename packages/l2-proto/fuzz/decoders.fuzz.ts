import { runFuzz } from './fuzz-body.js';

/**
 * Fuzz driver: `pnpm exec tsx packages/l2-proto/fuzz/decoders.fuzz.ts [iterationsPerDecoder] [seed]`.
 * Exits 1 on any finding (a throw, an unstable round trip, or an input slower than 50 ms).
 */
const iterations = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isInteger(seed)) {
  console.error('usage: decoders.fuzz.ts [iterationsPerDecoder>0] [seed]');
  process.exit(2);
}
console.log(`fuzzing l2-proto decoders: ${iterations} inputs each, seed ${seed}`);
const started = Date.now();
const { stats, findings } = runFuzz({
  iterationsPerTarget: iterations,
  seed,
  onProgress: (target, done) => console.log(`  ${target}: ${done}/${iterations}`),
});
console.table(
  stats.map((s) => ({
    decoder: s.target,
    inputs: s.inputs,
    decoded: s.decoded,
    'short-buffer': s.errors['short-buffer'] ?? 0,
    malformed: s.errors['malformed'] ?? 0,
    unsupported: s.errors['unsupported'] ?? 0,
    'bad-checksum': s.errors['bad-checksum'] ?? 0,
    'slowest µs': Number(s.slowestMicros.toFixed(1)),
  })),
);
const slowest = stats.reduce((a, b) => (b.slowestMicros > a.slowestMicros ? b : a));
console.log(
  `slowest input overall: ${slowest.target}, ${slowest.slowestMicros.toFixed(1)} µs, ${slowest.slowestInput}`,
);
console.log(`${findings.length} finding(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const f of findings) console.log(`  [${f.kind}] ${f.target}: ${f.detail}\n    input ${f.input}`);
process.exit(findings.length > 0 ? 1 : 0);

// pnpm bundle: every binary of BINARIES into build/bundle/<name>/, then what each one holds.
import { relative } from 'node:path';
import { BINARIES, repoRoot } from './binaries.js';
import { bundle } from './bundle.js';

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
for (const b of BINARIES) {
  const r = await bundle(b);
  console.log(`${b.name}: ${relative(repoRoot, r.file)} ${kib(r.bytes)}; largest contributors:`);
  console.log(`  (@kubernetes/client-node and what only it imports: ${kib(r.clientNodeBytes)})`);
  for (const p of r.byPackage.slice(0, 8)) console.log(`  ${p.package.padEnd(28)} ${kib(p.bytes)}`);
}

// pnpm images: an OCI archive per shipped binary under build/images/, then each one's size.
import { relative } from 'node:path';
import { BINARIES, repoRoot } from './binaries.js';
import { bundle } from './bundle.js';
import { buildImage } from './images.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
for (const b of BINARIES) {
  await bundle(b);
  const r = buildImage(b);
  console.log(
    `${b.name}: ${relative(repoRoot, r.archive)} compressed ${mb(r.compressedBytes)} (archive ${mb(r.archiveBytes)}); libraries: ${r.libraries.join(' ')}`,
  );
}

// Writes config/crds/metallb.io_<plural>.yaml at the repo root from packages/api/src/crds.ts.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdFiles } from '../src/crd-yaml.js';

const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../config/crds');
mkdirSync(outDir, { recursive: true });
const files = renderCrdFiles();
// Drop generated files for CRDs that no longer exist, so the directory mirrors the source.
for (const name of readdirSync(outDir)) {
  if (name.startsWith('metallb.io_') && name.endsWith('.yaml') && !files.has(name))
    rmSync(join(outDir, name));
}
for (const [name, content] of files) writeFileSync(join(outDir, name), content);
console.log(`wrote ${files.size} CRDs to ${outDir}`);

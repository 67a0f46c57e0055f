// Writes config/crds, config/rbac and config/operator and the README's configuration table from
// the renderers. `tests/generated.test.ts` fails when the committed files differ.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIRS, renderConfigFiles, renderReadme } from './config-files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const files = renderConfigFiles();
for (const dir of GENERATED_DIRS) {
  mkdirSync(join(root, dir), { recursive: true });
  // Drop files no renderer makes any more, so each directory mirrors the source.
  for (const name of readdirSync(join(root, dir)))
    if (!files.has(`${dir}/${name}`)) rmSync(join(root, dir, name));
}
for (const [path, content] of files) writeFileSync(join(root, path), content);

const readmePath = join(root, 'README.md');
const readme = renderReadme(readFileSync(readmePath, 'utf8'));
if (!readme.ok) {
  console.error(readme.error);
  process.exit(1);
}
writeFileSync(readmePath, readme.value);
console.log(`wrote ${files.size} files under config/ and the configuration table in README.md`);

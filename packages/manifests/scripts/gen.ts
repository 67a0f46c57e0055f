// Writes config/crds, config/rbac, config/operator, the chart charts/metallb-ts and the README's configuration table from
// the renderers. `tests/generated.test.ts` fails when the committed files differ.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHART_GENERATED_DIRS, renderChartFiles } from './chart-files.js';
import { GENERATED_DIRS, renderConfigFiles, renderReadme } from './config-files.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const files = new Map([...renderConfigFiles(), ...renderChartFiles()]);
for (const dir of [...GENERATED_DIRS, ...CHART_GENERATED_DIRS]) {
  mkdirSync(join(root, dir), { recursive: true });
  // Drop files no renderer makes any more, so each directory mirrors the source.
  for (const name of readdirSync(join(root, dir)))
    if (statSync(join(root, dir, name)).isFile() && !files.has(`${dir}/${name}`))
      rmSync(join(root, dir, name));
}
for (const [path, content] of files) writeFileSync(join(root, path), content);

const readmePath = join(root, 'README.md');
const readme = renderReadme(readFileSync(readmePath, 'utf8'));
if (!readme.ok) {
  console.error(readme.error);
  process.exit(1);
}
writeFileSync(readmePath, readme.value);
console.log(`wrote ${files.size} files under config/ and charts/, and the configuration table in README.md`);

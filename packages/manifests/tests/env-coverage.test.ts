// Every environment variable a binary reads must be rendered into its pod spec (so `kubectl get
// -o yaml` shows the whole configuration) and documented in the README's configuration table.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS_BEGIN, SETTINGS_END } from '../scripts/config-files.js';
import {
  ALL_SETTINGS,
  controllerDeployment,
  operatorDeployment,
  speakerDaemonSet,
  type ComponentName,
  type Container,
  type Setting,
} from '../src/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `process.env.X` and `process.env['X']` / `process.env["X"]` in a package's sources. */
function envReadsIn(source: string): string[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/process\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])/g))
    names.add((m[1] ?? m[2])!);
  return [...names];
}

const readsOf = (pkg: string): string[] => [
  ...new Set(tsFiles(join(root, 'packages', pkg, 'src')).flatMap((f) => envReadsIn(readFileSync(f, 'utf8')))),
];

// k8s-runtime is linked into every binary, so what it reads every binary reads.
const shared = readsOf('k8s-runtime');
const settingsOf = (c: ComponentName): string[] =>
  (Object.values(ALL_SETTINGS.find((s) => s.component === c)!.defs) as Setting<unknown>[]).map((d) => d.env);

const images = { controller: 'c', speaker: 's' };
const containers: Record<ComponentName, Container> = {
  controller: controllerDeployment({ namespace: 'n', spec: {}, images, version: 'v' }).spec.template.spec
    .containers[0]!,
  speaker: speakerDaemonSet({ namespace: 'n', spec: {}, images, version: 'v' }).spec.template.spec
    .containers[0]!,
  operator: operatorDeployment({
    namespace: 'n',
    image: 'o',
    version: 'v',
    controllerImage: 'c',
    speakerImage: 's',
  }).spec.template.spec.containers[0]!,
};

/** README table rows: variable -> the components its row names (`all` = every binary). */
function documented(): Map<string, Set<string>> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf(SETTINGS_BEGIN), readme.indexOf(SETTINGS_END));
  const out = new Map<string, Set<string>>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const who = out.get(name) ?? new Set<string>();
    for (const c of (cells[2] ?? '').split(',')) who.add(c.trim());
    out.set(name, who);
  }
  return out;
}

describe('envReadsIn', () => {
  it('finds dotted and bracketed reads, once each', () => {
    expect(
      envReadsIn(
        `a = process.env.FOO_1; b = process.env['BAR']; c = process.env[ "BAZ" ]; d = process.env.FOO_1`,
      ),
    ).toEqual(['FOO_1', 'BAR', 'BAZ']);
    expect(envReadsIn('process.env[name]; env.X')).toEqual([]);
  });
});

describe.each(['controller', 'speaker', 'operator'] as const)('%s', (component) => {
  const reads = [...new Set([...readsOf(component), ...shared, ...settingsOf(component)])];
  const rendered = containers[component].env.map((e) => e.name);
  const docs = documented();

  it.each(reads)('%s is in the pod spec', (name) => {
    expect(rendered).toContain(name);
  });

  it.each(reads)('%s is documented for it in the README', (name) => {
    const who = docs.get(name);
    expect([name, who && (who.has('all') || who.has(component))]).toEqual([name, true]);
  });
});

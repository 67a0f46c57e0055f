// One ESM file per binary (esbuild, tree-shaken), with its native addons copied beside it so that
// Node's resolution from the bundle (`<bundle>/node_modules/<addon>`) finds them.
import { cpSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { bundleDir, bundleMain, repoRoot, type Binary, type NativeAddon } from './binaries.js';

export interface BundleResult {
  readonly binary: string;
  readonly file: string;
  readonly bytes: number;
  /** Bytes of the output each npm package (or `(workspace)`) contributes, largest first. */
  readonly byPackage: readonly { package: string; bytes: number }[];
  /** Output bytes there only because of `@kubernetes/client-node` (it and what only it imports). */
  readonly clientNodeBytes: number;
}

/** `node_modules/.pnpm/x@1/node_modules/@scope/name/lib/a.js` -> `@scope/name`; ours -> `(workspace)`. */
export function packageOfInput(path: string): string {
  const i = path.lastIndexOf('node_modules/');
  if (i < 0) return '(workspace)';
  const parts = path.slice(i + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

export function bytesByPackage(meta: Metafile): { package: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const out of Object.values(meta.outputs))
    for (const [path, input] of Object.entries(out.inputs))
      sums.set(packageOfInput(path), (sums.get(packageOfInput(path)) ?? 0) + input.bytesInOutput);
  return [...sums].map(([p, bytes]) => ({ package: p, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Output bytes that are in the bundle only because `pkg` is: the inputs reachable from the entry
 * point through `pkg`'s files but not without them (its own files and what only it pulls in).
 */
export function bytesOnlyThrough(meta: Metafile, pkg: string): number {
  const reach = (skip: (path: string) => boolean): Set<string> => {
    const seen = new Set<string>();
    const stack = Object.values(meta.outputs).flatMap((o) => (o.entryPoint ? [o.entryPoint] : []));
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (seen.has(p) || skip(p) || !meta.inputs[p]) continue;
      seen.add(p);
      for (const i of meta.inputs[p]!.imports) if (!i.external) stack.push(i.path);
    }
    return seen;
  };
  const all = reach(() => false);
  const without = reach((p) => packageOfInput(p) === pkg);
  let bytes = 0;
  for (const out of Object.values(meta.outputs))
    for (const [path, input] of Object.entries(out.inputs))
      if (all.has(path) && !without.has(path)) bytes += input.bytesInOutput;
  return bytes;
}

/** Where a workspace package's dependency really lives (pnpm links it). */
function addonRoot(addon: NativeAddon): string {
  return realpathSync(join(repoRoot, addon.from, 'node_modules', addon.package));
}

function copyAddon(addon: NativeAddon, into: string): void {
  const src = addonRoot(addon);
  for (const f of addon.files) {
    const to = join(into, 'node_modules', addon.package, f);
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(src, f), to, { recursive: true });
  }
}

/** The version in the binary's own package.json (its entry is `<package>/dist/main.js`). */
function binaryVersion(b: Binary): string {
  const pkg = join(repoRoot, dirname(dirname(b.entry)), 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

export async function bundle(b: Binary): Promise<BundleResult> {
  const out = bundleDir(b);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [join(repoRoot, b.entry)],
    outfile: bundleMain(b),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    treeShaking: true,
    minifySyntax: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    external: b.natives.map((n) => n.package),
    // The binary reads its version from its package.json, which the bundle does not carry.
    define: { METALLB_TS_VERSION: JSON.stringify(binaryVersion(b)) },
    // Dependencies that are CommonJS call `require`: give the ESM bundle one.
    banner: {
      js: "import { createRequire as __shipCreateRequire } from 'node:module';\nconst require = __shipCreateRequire(import.meta.url);",
    },
  });
  for (const n of b.natives) copyAddon(n, out);
  writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile));
  return {
    binary: b.name,
    file: bundleMain(b),
    bytes: statSync(bundleMain(b)).size,
    byPackage: bytesByPackage(result.metafile),
    clientNodeBytes: bytesOnlyThrough(result.metafile, '@kubernetes/client-node'),
  };
}

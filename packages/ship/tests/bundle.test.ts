import { describe, expect, it } from '@jest/globals';
import type { Metafile } from 'esbuild';
import { bytesByPackage, bytesOnlyThrough, packageOfInput } from '../src/bundle.js';

// A small import graph: main -> ours -> {big (scoped), shared}; big -> {onlyBig, shared}.
const nm = (p: string) => `../../node_modules/.pnpm/x@1.0.0/node_modules/${p}`;
const files = {
  main: 'packages/x/dist/main.js',
  ours: 'packages/x/dist/lib.js',
  big: nm('@scope/big/index.js'),
  onlyBig: nm('only-big/index.js'),
  shared: nm('shared/index.js'),
};
const imports = (...paths: string[]) => paths.map((path) => ({ path, kind: 'import-statement' as const }));
const meta: Metafile = {
  inputs: {
    [files.main]: { bytes: 1, imports: imports(files.ours) },
    [files.ours]: { bytes: 1, imports: imports(files.big, files.shared) },
    [files.big]: { bytes: 1, imports: imports(files.onlyBig, files.shared) },
    [files.onlyBig]: { bytes: 1, imports: [] },
    [files.shared]: { bytes: 1, imports: [] },
  },
  outputs: {
    'out/main.mjs': {
      bytes: 1111,
      entryPoint: files.main,
      imports: [],
      exports: [],
      inputs: {
        [files.main]: { bytesInOutput: 1 },
        [files.ours]: { bytesInOutput: 10 },
        [files.big]: { bytesInOutput: 100 },
        [files.onlyBig]: { bytesInOutput: 1000 },
        [files.shared]: { bytesInOutput: 10000 },
      },
    },
  },
};

describe('what a bundle holds', () => {
  it('names the npm package of an input, scoped or not, and ours as the workspace', () => {
    expect(packageOfInput(files.big)).toBe('@scope/big');
    expect(packageOfInput(files.onlyBig)).toBe('only-big');
    expect(packageOfInput(files.main)).toBe('(workspace)');
  });

  it('sums output bytes per package, largest first', () => {
    expect(bytesByPackage(meta)).toEqual([
      { package: 'shared', bytes: 10000 },
      { package: 'only-big', bytes: 1000 },
      { package: '@scope/big', bytes: 100 },
      { package: '(workspace)', bytes: 11 },
    ]);
  });

  it('charges a package with what only it pulls in, not with what others import too', () => {
    expect(bytesOnlyThrough(meta, '@scope/big')).toBe(1100);
    expect(bytesOnlyThrough(meta, 'shared')).toBe(10000);
  });
});

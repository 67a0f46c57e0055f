// The images `pnpm images` writes (built here when missing): each archive's layers unpacked into a root filesystem, its
// entry point run there (chroot), so a library missing from the image fails here.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARIES, bundleMain } from '../src/binaries.js';
import { bundle } from '../src/bundle.js';
import {
  APP_IN_IMAGE,
  buildImage,
  imageArchive,
  manifestDigest,
  NODE_IN_IMAGE,
  parseLdd,
} from '../src/images.js';

const LIMIT = 45e6;

describe('parseLdd', () => {
  it('keeps resolved libraries and the loader, skips the vDSO, refuses a missing one', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibpcap.so.0.8 => /lib/x86_64-linux-gnu/libpcap.so.0.8 (0x00007f4c)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f4c)',
    ].join('\n');
    expect(parseLdd(out)).toEqual(['/lib/x86_64-linux-gnu/libpcap.so.0.8', '/lib64/ld-linux-x86-64.so.2']);
    expect(() => parseLdd('\tlibfoo.so.1 => not found')).toThrow('libfoo.so.1');
  });
});

interface Unpacked {
  rootfs: string;
  config: { config: { User?: string; Entrypoint?: string[]; Labels?: Record<string, string> } };
  compressed: number;
}

function unpack(archive: string): Unpacked {
  const dir = mkdtempSync(join(tmpdir(), 'ship-image-'));
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  const blob = (digest: string) => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const manifest = JSON.parse(readFileSync(blob(manifestDigest(archive)), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string; size: number; mediaType: string }[];
  };
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  for (const l of manifest.layers) execFileSync('tar', ['-xzf', blob(l.digest), '-C', rootfs]);
  return {
    rootfs,
    config: JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as Unpacked['config'],
    compressed: manifest.layers.reduce((s, l) => s + l.size, 0),
  };
}

describe.each(BINARIES.map((b) => [b.name, b] as const))('image %s', (_name, b) => {
  const archive = imageArchive(b);
  const entrypoint = [NODE_IN_IMAGE, ...b.nodeFlags, `${APP_IN_IMAGE}/main.mjs`];
  // The archive must hold what the source bundles to now, under today's entry point. A fresh clone
  // has none; one an earlier build left may be stale (a changed flag or bundle) and would make the
  // tests below pass or fail for the wrong reason. Either way it is built, as `pnpm images` does.
  const current = (u: Unpacked) =>
    JSON.stringify(u.config.config.Entrypoint) === JSON.stringify(entrypoint) &&
    readFileSync(join(u.rootfs, APP_IN_IMAGE, 'main.mjs')).equals(readFileSync(bundleMain(b)));
  const image = async () => {
    await bundle(b);
    if (existsSync(archive)) {
      const found = unpack(archive);
      if (current(found)) return found;
    }
    buildImage(b);
    return unpack(archive);
  };
  let unpacked: Unpacked | undefined;
  beforeAll(async () => {
    unpacked = await image();
  }, 300_000);
  const get = () => unpacked!;
  const inImage = (args: string[], env: Record<string, string> = {}) =>
    spawnSync('/usr/sbin/chroot', [get().rootfs, ...args], { encoding: 'utf8', env, timeout: 30_000 });

  it(`is under ${LIMIT / 1e6} MB compressed`, () => {
    expect(get().compressed).toBeLessThan(LIMIT);
  });

  it('runs node from its root filesystem alone', () => {
    const r = inImage([NODE_IN_IMAGE, '--version']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/^v\d+\.\d+\.\d+\n$/);
  });

  it('its entry point answers --version from the root filesystem alone', () => {
    expect(get().config.config.Entrypoint).toEqual(entrypoint);
    const r = inImage([...entrypoint, '--version']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  // A refused setting makes the entry point load the whole bundle (every static import is
  // evaluated first) and exit 2 with its own message naming the variable.
  it('its entry point loads the whole bundle and answers a bad setting with its own error', () => {
    const r = inImage([...get().config.config.Entrypoint!], { LOG_LEVEL: 'bogus' });
    expect(r.status).toBe(2);
    // One JSON line per refused setting (the speaker also misses NODE_NAME here).
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; error: string });
    expect(lines.every((l) => l.msg === 'invalid settings')).toBe(true);
    expect(lines.map((l) => l.error)).toContainEqual(expect.stringContaining('LOG_LEVEL "bogus"'));
  });

  // Every native addon the binary ships (the controller has none: the loop is empty).
  it('loads its native addons and the libraries they link', () => {
    for (const pkg of b.natives.map((n) => n.package)) {
      const r = inImage([
        NODE_IN_IMAGE,
        '-e',
        `require('${APP_IN_IMAGE}/node_modules/${pkg}'); console.log('loaded')`,
      ]);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: 'loaded\n',
        stderr: '',
      });
    }
  });

  it('runs as its user and carries the OCI labels', () => {
    const c = get().config.config;
    expect(c.User).toBe(b.uid === undefined ? '0:0' : `${b.uid}:${b.uid}`);
    for (const k of ['version', 'revision', 'source', 'licenses'])
      expect(c.Labels?.[`org.opencontainers.image.${k}`]).toEqual(expect.any(String));
    expect(c.Labels?.['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
  });
});

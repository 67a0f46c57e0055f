// The lab's image registry without the lab: Distribution on 127.0.0.1 (a free port, a temp dir),
// filled with skopeo from the OCI archives we build, read back over its HTTP API as a kubelet would.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../src/components.js';
import { buildLabImages, type LabImages } from '../src/lab-images.js';
import { parseOciIndex, readOciArchive } from '../src/oci-archive.js';
import { repoRoot } from '../src/paths.js';
import { isRunning, readState } from '../src/processes.js';
import {
  containerdHostsToml,
  hostPort,
  pushShippedImages,
  registryConfig,
  SHIPPED_IMAGES,
  startRegistry,
  type Registry,
} from '../src/registry.js';

jest.setTimeout(120_000);
const LAB_PORTS = [5000, 16443, 16457, 23790, 23800];
const progress = (line: string) => process.stderr.write(`${line}\n`);

describe('registryConfig', () => {
  it('stores under the given folder, listens on one address, allows deletes, no auth', () => {
    const text = registryConfig({
      rootDirectory: '/tmp/x y/data',
      address: '127.0.0.1',
      port: 5999,
      secret: 's3',
    });
    expect(parse(text)).toEqual({
      version: 0.1,
      log: { level: 'warn', formatter: 'json', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: '/tmp/x y/data' },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: '127.0.0.1:5999', secret: 's3' },
      health: { storagedriver: { enabled: false } },
    });
  });

  it('brackets an IPv6 address', () => {
    expect(hostPort('2001:db8::1', 5999)).toBe('[2001:db8::1]:5999');
    expect(
      (
        parse(registryConfig({ rootDirectory: '/d', address: '2001:db8::1', port: 5999, secret: 's' })) as {
          http: { addr: string };
        }
      ).http.addr,
    ).toBe('[2001:db8::1]:5999');
  });
});

describe('containerdHostsToml', () => {
  it('sends pulls for the registry host to it over plain HTTP', () => {
    expect(containerdHostsToml('127.0.0.1:5999')).toBe(
      [
        'server = "http://127.0.0.1:5999"',
        '',
        '[host."http://127.0.0.1:5999"]',
        '  capabilities = ["pull", "resolve"]',
        '  skip_verify = true',
        '',
      ].join('\n'),
    );
  });
});

describe('parseOciIndex', () => {
  it('reads the name:tag and digest of the one manifest, and names the archive when it cannot', () => {
    const index = (annotations: object) =>
      JSON.stringify({ schemaVersion: 2, manifests: [{ digest: 'sha256:ab', annotations }] });
    expect(parseOciIndex(index({ 'org.opencontainers.image.ref.name': 'metallb-ts/x:1' }), 'a.tar')).toEqual({
      ref: 'metallb-ts/x:1',
      digest: 'sha256:ab',
    });
    expect(() => parseOciIndex(index({}), 'a.tar')).toThrow(
      /^a\.tar: .*org\.opencontainers\.image\.ref\.name/,
    );
    expect(() => parseOciIndex('{"manifests":[]}', 'b.tar')).toThrow('b.tar: index.json names 0 manifests');
    expect(() => parseOciIndex('nope', 'c.tar')).toThrow('c.tar: index.json is not JSON');
  });
});

describe('pushShippedImages', () => {
  it('pushes nothing and names every missing archive and the command that builds it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'metallb-ts-no-images-'));
    const pushes: string[] = [];
    try {
      const err = await pushShippedImages(
        { host: '127.0.0.1:1', push: async (archive) => (pushes.push(archive), 'sha256:x') },
        empty,
      ).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      for (const n of ['operator', 'controller', 'speaker'])
        expect(err?.message).toContain(`${join(empty, `${n}.oci.tar`)} (built by pnpm images)`);
      for (const n of ['pause', 'echo'])
        expect(err?.message).toContain(
          `${join(empty, 'lab', `${n}.oci.tar`)} (built by bash e2e/scripts/build-lab-images.sh)`,
        );
      expect(pushes).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('registry on 127.0.0.1', () => {
  let images: LabImages;
  let dir: string;
  let port: number;
  let registry: Registry | undefined;

  beforeAll(async () => {
    images = buildLabImages(progress);
    dir = mkdtempSync(join(tmpdir(), 'metallb-ts-registry-'));
    port = await freePort();
    expect(LAB_PORTS).not.toContain(port);
    registry = await startRegistry({ dir, address: '127.0.0.1', port, progress });
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const echo = () => images.images.find((i) => i.name === 'echo')!;

  it('builds both lab images, each archive holding the ref the script reports', () => {
    expect(images.images.map((i) => i.name)).toEqual(['pause', 'echo']);
    for (const i of images.images) {
      expect(i.ref).toBe(`metallb-ts/lab-${i.name}:${images.tag}`);
      expect(readOciArchive(i.archive).ref).toBe(i.ref);
      expect(i.compressedBytes).toBeGreaterThan(100_000);
      expect(i.compressedBytes).toBeLessThan(10e6);
    }
  });

  it('takes a push of lab-echo and serves it back under the digest skopeo reported', async () => {
    const r = registry!;
    const [repo, tag] = echo().ref.split(':') as [string, string];
    const digest = await r.push(echo().archive, echo().ref);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Pushed as built: the archive's own manifest, not a converted one.
    expect(digest).toBe(readOciArchive(echo().archive).digest);
    expect(await r.tags(repo)).toEqual([tag]);
    const byTag = await r.manifest(repo, tag);
    expect(byTag.digest).toBe(digest);
    expect(byTag.bodyDigest).toBe(digest);
    expect(byTag.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const byDigest = await r.manifest(repo, digest);
    expect(byDigest.body).toBe(byTag.body);
    // Every layer a node would pull is there.
    const layers = (JSON.parse(byTag.body) as { layers: { digest: string }[] }).layers;
    for (const l of layers) {
      const head = await fetch(`${r.url}/v2/${repo}/blobs/${l.digest}`, { method: 'HEAD' });
      expect(`${l.digest} ${head.status}`).toBe(`${l.digest} 200`);
    }
  });

  it('names the archive, the ref and what skopeo said when a push fails', async () => {
    const missing = join(dir, 'no-such.oci.tar');
    const err = await registry!.push(missing, 'metallb-ts/nothing:1').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(missing);
    expect(err?.message).toContain('metallb-ts/nothing:1');
    expect(err?.message).toMatch(/no such file|not exist/i);
  });

  it('says which repository it does not know', async () => {
    await expect(registry!.tags('metallb-ts/unknown')).rejects.toThrow(
      /GET \/v2\/metallb-ts\/unknown\/tags\/list answered 404: .*NAME_UNKNOWN/,
    );
  });

  it('reports a registry that exits during start-up with its log, and forgets it', async () => {
    // cat stands in for a registry that fails at once: it prints the config it was given, exits 1.
    const other = await freePort();
    await expect(
      startRegistry({ dir, address: '127.0.0.1', port: other, name: 'registry-cat', binary: '/bin/cat' }),
    ).rejects.toThrow(
      /registry registry-cat on 127\.0\.0\.1:\d+ exited during start-up; its log .*registry-cat\.log:\n[\s\S]*addr: "127\.0\.0\.1:/,
    );
    expect(Object.keys(readState(dir).processes)).toEqual(['registry']);
  });

  it('refuses to start a second registry on a port in use', async () => {
    await expect(startRegistry({ dir, address: '127.0.0.1', port, name: 'registry-2' })).rejects.toThrow(
      `registry: ${hostPort('127.0.0.1', port)} is already in use`,
    );
    expect(Object.keys(readState(dir).processes)).toEqual(['registry']);
  });

  it("pushes the shipped images and the lab images under their archives' name:tag", async () => {
    const r = registry!;
    // A fresh clone has no shipped archives yet: build them as `pnpm images` does.
    if (SHIPPED_IMAGES.some((n) => !existsSync(join(repoRoot, 'build', 'images', `${n}.oci.tar`)))) {
      const built = spawnSync('pnpm', ['images'], { cwd: repoRoot, stdio: 'inherit', timeout: 20 * 60_000 });
      expect(built.status).toBe(0);
    }
    const pushed = await pushShippedImages(r);
    expect(pushed.map((p) => p.name)).toEqual(['operator', 'controller', 'speaker', 'lab-pause', 'lab-echo']);
    for (const p of pushed) {
      const [repo, tag] = p.ref.slice(`${r.host}/`.length).split(':') as [string, string];
      expect(p.ref.startsWith(`${r.host}/metallb-ts/`)).toBe(true);
      expect(await r.tags(repo)).toContain(tag);
      expect((await r.manifest(repo, tag)).digest).toBe(p.digest);
    }
  }, 1_500_000);

  it('stops by PID and leaves no process, record or listener', async () => {
    const r = registry!;
    await r.stop();
    registry = undefined;
    expect(isRunning(r.process)).toBe(false);
    expect(readState(dir).processes).toEqual({});
    await expect(fetch(`${r.url}/v2/`)).rejects.toThrow();
  });
});

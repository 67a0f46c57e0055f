// The lab's image registry: Debian's docker-registry (Distribution 2.8) serving plain HTTP on the
// management network, so kubelets pull our images as they would from any registry. Started with
// the lab's startProcess (so `lab down` ends it by PID), filled with skopeo from OCI archives.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_IMAGE_NAMES } from './lab-images.js';
import { readOciArchive } from './oci-archive.js';
import { repoRoot } from './paths.js';
import {
  forgetProcess,
  isRunning,
  startProcess,
  stopProcess,
  tailFile,
  type ProcessRecord,
} from './processes.js';
import { waitFor } from './wait-for.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
/** Media types a pull accepts, the OCI ones first (our archives hold OCI manifests). */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** `address:port`, with an IPv6 address in brackets. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface RegistryConfigInput {
  /** Where blobs and manifests are stored. */
  readonly rootDirectory: string;
  readonly address: string;
  readonly port: number;
  /** Signs upload state between requests; any random string for a single instance. */
  readonly secret: string;
}

/**
 * Distribution's configuration (YAML; strings JSON-quoted, which YAML reads as the same string):
 * filesystem storage, plain HTTP on one address, no auth, deletes allowed, JSON logs at warn.
 */
export function registryConfig(c: RegistryConfigInput): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: json',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(c.rootDirectory)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: ${q(hostPort(c.address, c.port))}`,
    `  secret: ${q(c.secret)}`,
    'health:',
    '  storagedriver:',
    '    enabled: false',
    '',
  ].join('\n');
}

export interface RegistryManifest {
  /** What the registry says the digest is (Docker-Content-Digest). */
  readonly digest: string;
  /** sha256 of the bytes it served. */
  readonly bodyDigest: string;
  readonly mediaType: string;
  readonly body: string;
}

export interface Registry {
  /** `address:port`: the prefix of every image reference pulled from it. */
  readonly host: string;
  /** `http://address:port`. */
  readonly url: string;
  readonly process: ProcessRecord;
  readonly configFile: string;
  readonly log: string;
  /** Pushes an OCI archive as `<host>/<ref>` (ref = `repo:tag`); returns the manifest digest. */
  push(archive: string, ref: string): Promise<string>;
  /** The tags of `repo` (e.g. `metallb-ts/lab-echo`). */
  tags(repo: string): Promise<string[]>;
  /** The manifest of `repo` at a tag or digest, as a puller gets it. */
  manifest(repo: string, reference: string): Promise<RegistryManifest>;
  /** Ends the process (by its recorded PID) and forgets it; the stored images stay under `dir`. */
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** The lab's folder: its state file records the process; storage and config go under it. */
  readonly dir: string;
  readonly address: string;
  readonly port: number;
  readonly progress?: (line: string) => void;
  /** Name in the state file and of the log; default `registry`. */
  readonly name?: string;
  readonly timeoutMs?: number;
}

/** True when something accepts TCP connections on address:port. */
function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    s.setTimeout(1_000);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

async function httpGet(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
}

export async function startRegistry(o: RegistryOptions): Promise<Registry> {
  const name = o.name ?? 'registry';
  const progress = o.progress ?? (() => undefined);
  const home = join(o.dir, name);
  const configFile = join(home, 'config.yml');
  const log = join(o.dir, 'logs', `${name}.log`);
  const host = hostPort(o.address, o.port);
  const url = `http://${host}`;
  if (!existsSync(REGISTRY_BINARY))
    throw new Error(
      `registry: ${REGISTRY_BINARY} is missing (Debian package docker-registry; scripts/setup.sh)`,
    );
  if (await listening(o.address, o.port))
    throw new Error(`registry: ${host} is already in use by another process; not starting ${name} there`);
  mkdirSync(join(home, 'data'), { recursive: true });
  writeFileSync(
    configFile,
    registryConfig({
      rootDirectory: join(home, 'data'),
      address: o.address,
      port: o.port,
      secret: randomBytes(16).toString('hex'),
    }),
  );
  progress(`starting ${name} on ${url} (storage ${join(home, 'data')}, log ${log})`);
  const record = startProcess(o.dir, name, [REGISTRY_BINARY, 'serve', configFile], log);
  const up = await waitFor(
    `${name} to answer GET ${url}/v2/ with 200 (log: ${log})`,
    async () => {
      if (!isRunning(record)) return { done: true, value: false };
      const r = await httpGet(`${url}/v2/`);
      await r.body?.cancel();
      return r.status === 200 ? { done: true, value: true } : { done: false, observed: `HTTP ${r.status}` };
    },
    { timeoutMs: o.timeoutMs ?? 15_000, intervalMs: 100 },
  ).catch(async (e: unknown) => {
    await stopProcess(record);
    forgetProcess(o.dir, name);
    throw e;
  });
  if (!up) {
    forgetProcess(o.dir, name);
    throw new Error(
      `registry ${name} on ${host} exited during start-up; its log ${log}:\n${tailFile(log, 20)}`,
    );
  }
  progress(`${name} ready on ${url} (pid ${record.pid})`);

  const push = async (archive: string, ref: string): Promise<string> => {
    const scratch = mkdtempSync(join(tmpdir(), 'metallb-ts-push-'));
    const digestFile = join(scratch, 'digest');
    const dest = `docker://${host}/${ref}`;
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          'skopeo',
          [
            'copy',
            '--quiet',
            '--dest-tls-verify=false',
            '--digestfile',
            digestFile,
            `oci-archive:${archive}`,
            dest,
          ],
          { timeout: 5 * 60_000, maxBuffer: 16 * 1024 * 1024 },
          (err, _stdout, stderr) =>
            err
              ? reject(
                  new Error(
                    `skopeo copy oci-archive:${archive} to ${dest} (ref ${ref}) failed (${err.code ?? err.signal ?? err.message}): ${stderr.trim()}`,
                  ),
                )
              : resolve(),
        ),
      );
      const digest = readFileSync(digestFile, 'utf8').trim();
      progress(`pushed ${archive} as ${host}/${ref}@${digest}`);
      return digest;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  };

  const tags = async (repo: string): Promise<string[]> => {
    const r = await httpGet(`${url}/v2/${repo}/tags/list`);
    const text = await r.text();
    if (r.status !== 200)
      throw new Error(`registry ${host}: GET /v2/${repo}/tags/list answered ${r.status}: ${text.trim()}`);
    const body = JSON.parse(text) as { tags?: string[] | null };
    return [...(body.tags ?? [])].sort();
  };

  const manifest = async (repo: string, reference: string): Promise<RegistryManifest> => {
    const r = await httpGet(`${url}/v2/${repo}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    const bytes = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200)
      throw new Error(
        `registry ${host}: GET /v2/${repo}/manifests/${reference} answered ${r.status}: ${bytes.toString('utf8').trim()}`,
      );
    return {
      digest: r.headers.get('docker-content-digest') ?? '',
      bodyDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      mediaType: r.headers.get('content-type') ?? '',
      body: bytes.toString('utf8'),
    };
  };

  const stop = async (): Promise<void> => {
    await stopProcess(record);
    forgetProcess(o.dir, name);
    progress(`${name} stopped (pid ${record.pid})`);
  };

  return { host, url, process: record, configFile, log, push, tags, manifest, stop };
}

/** The shipped binaries' images (`pnpm images` writes them under build/images/). */
export const SHIPPED_IMAGES = ['operator', 'controller', 'speaker'] as const;

export interface PushedImage {
  /** `operator`, `controller`, `speaker`, `lab-pause`, `lab-echo`. */
  readonly name: string;
  /** What a pod pulls: `<registry host>/<name>:<tag>`. */
  readonly ref: string;
  /** The manifest digest in the registry (`sha256:...`). */
  readonly digest: string;
}

/**
 * Pushes build/images/{operator,controller,speaker}.oci.tar and build/images/lab/{pause,echo}.oci.tar
 * under the name:tag each archive's index.json holds. A missing archive is an error naming it and
 * the command that builds it.
 */
export async function pushShippedImages(
  registry: Pick<Registry, 'host' | 'push'>,
  imagesDir: string = join(repoRoot, 'build', 'images'),
): Promise<PushedImage[]> {
  const archives = [
    ...SHIPPED_IMAGES.map((n) => ({ name: n, archive: join(imagesDir, `${n}.oci.tar`), by: 'pnpm images' })),
    ...LAB_IMAGE_NAMES.map((n) => ({
      name: `lab-${n}`,
      archive: join(imagesDir, 'lab', `${n}.oci.tar`),
      by: 'bash e2e/scripts/build-lab-images.sh',
    })),
  ];
  const missing = archives.filter((a) => !existsSync(a.archive));
  if (missing.length > 0)
    throw new Error(
      `cannot push images: missing ${missing.map((m) => `${m.archive} (built by ${m.by})`).join(', ')}`,
    );
  const pushed: PushedImage[] = [];
  for (const a of archives) {
    const { ref } = readOciArchive(a.archive);
    const digest = await registry.push(a.archive, ref);
    pushed.push({ name: a.name, ref: `${registry.host}/${ref}`, digest });
  }
  return pushed;
}

// Talking to an image registry over the Distribution HTTP API (plain HTTP, no auth: the lab's), and
// filling it with skopeo from OCI archives. No process here: registry.ts starts one; this also
// works against a registry someone else started (e.g. the lab's, from another CLI run).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_IMAGE_NAMES } from './lab-images.js';
import { readOciArchive } from './oci-archive.js';
import { repoRoot } from './paths.js';

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

export interface RegistryManifest {
  /** What the registry says the digest is (Docker-Content-Digest). */
  readonly digest: string;
  /** sha256 of the bytes it served. */
  readonly bodyDigest: string;
  readonly mediaType: string;
  readonly body: string;
}

/**
 * containerd's hosts.toml for a plain-HTTP registry at `host` (`address:port`): written as
 * `<config_path>/<host>/hosts.toml`, with the CRI plugin's registry `config_path` pointing at the
 * folder, so a kubelet's pull of `<host>/metallb-ts/...` goes to it over HTTP.
 */
export function containerdHostsToml(host: string): string {
  const server = JSON.stringify(`http://${host}`);
  return [
    `server = ${server}`,
    '',
    `[host.${server}]`,
    '  capabilities = ["pull", "resolve"]',
    '  skip_verify = true',
    '',
  ].join('\n');
}

export interface RegistryClient {
  /** `address:port`: the prefix of every image reference pulled from it. */
  readonly host: string;
  /** `http://address:port`. */
  readonly url: string;
  /** Pushes an OCI archive as `<host>/<ref>` (ref = `repo:tag`); returns the manifest digest. */
  push(archive: string, ref: string): Promise<string>;
  /** The tags of `repo` (e.g. `metallb-ts/lab-echo`), sorted. */
  tags(repo: string): Promise<string[]>;
  /** The manifest of `repo` at a tag or digest, as a puller gets it. */
  manifest(repo: string, reference: string): Promise<RegistryManifest>;
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
}

export function registryClient(
  address: string,
  port: number,
  progress: (line: string) => void = () => undefined,
): RegistryClient {
  const host = hostPort(address, port);
  const url = `http://${host}`;

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

  return { host, url, push, tags, manifest };
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
  registry: Pick<RegistryClient, 'host' | 'push'>,
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

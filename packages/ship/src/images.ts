// One image per binary, from scratch with Debian's buildah (vfs storage, chroot isolation: no
// daemon, no registry): the Node runtime, exactly the shared libraries `ldd` lists for it and for
// each native addon, the CA certificates, the bundle. Written as OCI archives under build/images/.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BUILD_DIR, bundleDir, repoRoot, type Binary } from './binaries.js';

export const IMAGES_DIR = join(BUILD_DIR, 'images');
/** Where the runtime lives in every image, and where the bundle goes. */
export const NODE_IN_IMAGE = '/usr/local/bin/node';
export const APP_IN_IMAGE = '/app';
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The files `ldd` resolves for a binary (the loader included; the vDSO is not a file). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const direct = /^\s*(\/\S+)\s+\(/.exec(line);
    if (arrow) libs.push(arrow[1]!);
    else if (direct) libs.push(direct[1]!);
    else if (/=>\s+not found/.test(line)) throw new Error(`ldd: a library is missing: ${line.trim()}`);
  }
  return libs;
}

function ldd(file: string): string[] {
  return parseLdd(execFileSync('ldd', [file], { encoding: 'utf8' }));
}

/** Copies `file` to the same path under `root`, and the target of a symlink too. */
function copyKeepingPath(root: string, file: string): void {
  const to = join(root, file);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(file), to);
}

/** The root filesystem of `b`'s image, staged in a folder. Returns the shared libraries it holds. */
export function stageRootfs(b: Binary, rootfs: string): string[] {
  rmSync(rootfs, { recursive: true, force: true });
  const node = realpathSync(process.execPath);
  const addons = b.natives.flatMap((n) =>
    n.files.filter((f) => f.endsWith('.node')).map((f) => join(bundleDir(b), 'node_modules', n.package, f)),
  );
  const libs = [...new Set([node, ...addons].flatMap(ldd))].sort();
  mkdirSync(join(rootfs, dirname(NODE_IN_IMAGE)), { recursive: true });
  copyFileSync(node, join(rootfs, NODE_IN_IMAGE));
  for (const lib of libs) copyKeepingPath(rootfs, lib);
  copyKeepingPath(rootfs, CA_BUNDLE);
  cpSync(bundleDir(b), join(rootfs, APP_IN_IMAGE), {
    recursive: true,
    filter: (src) => !src.endsWith('meta.json'),
  });
  // Node's os.tmpdir() and a writable HOME are not needed: the root filesystem stays read-only.
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  const uid = b.uid ?? 0;
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    `root:x:0:0:root:/:/sbin/nologin\n${uid ? `nonroot:x:${uid}:${uid}::/:/sbin/nologin\n` : ''}`,
  );
  writeFileSync(join(rootfs, 'etc', 'group'), `root:x:0:\n${uid ? `nonroot:x:${uid}:\n` : ''}`);
  return libs;
}

export interface ImageLabels {
  readonly version: string;
  readonly revision: string;
  readonly source: string;
  readonly licenses: string;
}

export function imageLabels(b: Binary): ImageLabels {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const pkg = JSON.parse(readFileSync(join(repoRoot, dirname(dirname(b.entry)), 'package.json'), 'utf8')) as {
    version: string;
    license?: string;
  };
  return {
    version: process.env.IMAGE_VERSION ?? pkg.version,
    revision: git('rev-parse', 'HEAD') || 'unknown',
    source: process.env.IMAGE_SOURCE ?? (git('remote', 'get-url', 'origin') || 'unknown'),
    // SPDX's word for "not stated": the repository declares no licence yet.
    licenses: process.env.IMAGE_LICENSES ?? pkg.license ?? 'NOASSERTION',
  };
}

export interface ImageResult {
  readonly binary: string;
  readonly archive: string;
  /** Sum of the compressed layer blobs (what a registry stores and a node pulls). */
  readonly compressedBytes: number;
  readonly archiveBytes: number;
  readonly libraries: readonly string[];
}

const buildah = (args: string[]) =>
  execFileSync('buildah', ['--storage-driver', 'vfs', ...args], {
    encoding: 'utf8',
    env: { ...process.env, BUILDAH_ISOLATION: 'chroot' },
    maxBuffer: 64 * 1024 * 1024,
  }).trim();

export function imageArchive(b: Binary): string {
  return join(IMAGES_DIR, `${b.name}.oci.tar`);
}

export function buildImage(b: Binary): ImageResult {
  const work = join(IMAGES_DIR, b.name);
  const rootfs = join(work, 'rootfs');
  const libraries = stageRootfs(b, rootfs);
  const labels = imageLabels(b);
  const ctr = buildah(['from', '--isolation', 'chroot', 'scratch']);
  try {
    buildah(['copy', ctr, `${rootfs}/`, '/']);
    const user = b.uid === undefined ? '0:0' : `${b.uid}:${b.uid}`;
    buildah([
      'config',
      '--entrypoint',
      JSON.stringify([NODE_IN_IMAGE, ...b.nodeFlags, `${APP_IN_IMAGE}/main.mjs`]),
      '--cmd',
      '',
      '--user',
      user,
      '--workingdir',
      APP_IN_IMAGE,
      '--env',
      `NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`,
      '--label',
      `org.opencontainers.image.title=metallb-ts-${b.name}`,
      '--label',
      `org.opencontainers.image.version=${labels.version}`,
      '--label',
      `org.opencontainers.image.revision=${labels.revision}`,
      '--label',
      `org.opencontainers.image.source=${labels.source}`,
      '--label',
      `org.opencontainers.image.licenses=${labels.licenses}`,
      ctr,
    ]);
    rmSync(imageArchive(b), { force: true });
    buildah([
      'commit',
      '--format',
      'oci',
      '--disable-compression=false',
      '--rm',
      ctr,
      `oci-archive:${imageArchive(b)}:metallb-ts/${b.name}:${labels.version}`,
    ]);
  } catch (e) {
    buildah(['rm', ctr]);
    throw e;
  }
  const manifest = JSON.parse(
    execFileSync('tar', ['-xOf', imageArchive(b), `blobs/sha256/${manifestDigest(imageArchive(b))}`], {
      encoding: 'utf8',
    }),
  ) as { layers: { size: number }[] };
  return {
    binary: b.name,
    archive: imageArchive(b),
    compressedBytes: manifest.layers.reduce((s, l) => s + l.size, 0),
    archiveBytes: statSync(imageArchive(b)).size,
    libraries,
  };
}

/** The digest of the one manifest an OCI archive's index.json names. */
export function manifestDigest(archive: string): string {
  const index = JSON.parse(execFileSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' })) as {
    manifests: { digest: string }[];
  };
  return index.manifests[0]!.digest.replace(/^sha256:/, '');
}

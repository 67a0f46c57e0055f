// The one list of binaries this repository ships. The bundler, the memory benchmark and the
// image builder all read it: shipping another binary (the operator) is one more entry here.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NON_ROOT_UID } from '@metallb-ts/manifests';

/** The repository root, resolved from this file. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A native addon a binary loads at run time: it stays outside the bundle and ships beside it. */
export interface NativeAddon {
  /** The npm package name, as the binary's code `require`s it. */
  readonly package: string;
  /** The workspace package whose dependency it is (its `node_modules` resolves it). */
  readonly from: string;
  /** The files of the addon's package the running code needs (its JS and its `.node` file). */
  readonly files: readonly string[];
  /** Shared libraries beyond Node's own that the `.node` file links (for the image). */
  readonly sharedLibraries: readonly string[];
}

export interface Binary {
  /** Short name: the bundle folder, the image name, the benchmark row. */
  readonly name: string;
  /** The compiled entry point, relative to the repository root (`pnpm build` writes it). */
  readonly entry: string;
  readonly natives: readonly NativeAddon[];
  /** Runs as this numeric user in its image; undefined = root (the speaker needs NET_RAW). */
  readonly uid: number | undefined;
  /** Node.js flags of the image's entry point, before the bundle (see LEAN_NODE_FLAGS). */
  readonly nodeFlags: readonly string[];
}

/**
 * V8's young generation grows to 16 MiB per semi-space by default, and every page it touched
 * stays resident: much of a small process's RSS above its heap. The operator and the controller
 * allocate little per event, so 1 MiB semi-spaces cost a few more (sub-millisecond) scavenges and
 * save resident memory (controller at 1,000 Services: 99.5 -> 75.8 MiB in one `pnpm bench memory`
 * run). The speaker rebuilds its view per event: at 1 MiB its short-lived objects were promoted
 * and its old space grew (108 -> 121 MiB at 1,000 Services); at 4 MiB it went 107 -> 89 MiB.
 */
export const LEAN_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
/**
 * The speaker, idle / at 1,000 Services, RSS MiB (bundle, one lab run each, 1 MiB capture ring):
 * - `--max-semi-space-size=4` 74.9 / 87.3.
 * - `--optimize-for-size` 67.9 / 81.3: 1 MiB semi-spaces and V8's slower heap growth together
 *   (1 MiB semi-spaces alone grew the old space at 1,000 Services, above).
 * - plus `--interrupt-budget=1048576` (16x V8's default of 66 KiB of bytecode run before a
 *   function is considered for optimization) 65.1 / 80.5: start-up code is no longer optimized,
 *   so the optimizing compiler's working memory and its code are not there while idle.
 * - plus `--interrupt-budget=8388608` (about 124x) 60.3 / 81.6: the optimizing compiler does not
 *   run at all while idle, so not even its own machine code in the node binary is paged in (node
 *   binary pages 40.4 -> 36.8 MiB).
 * Hot code is still optimized, only later: `pnpm bench responder` under these flags met every
 * target (p99 at 10k requests/s 0.48 ms ARP, 0.53 ms NS; floods at 42% / 31% of the kernel's).
 * Interpreter-only modes saved more (`--lite-mode` 59.4 idle) but cost the responder five times
 * its throughput (see the test).
 */
export const SPEAKER_NODE_FLAGS: readonly string[] = ['--optimize-for-size', '--interrupt-budget=8388608'];

const PCAP: NativeAddon = {
  package: 'pcap',
  from: 'packages/speaker',
  files: [
    'package.json',
    'LICENSE',
    'pcap.js',
    'util.js',
    'dns_cache.js',
    'tcp_tracker.js',
    'decode',
    'build/Release/pcap_binding.node',
  ],
  sharedLibraries: ['libpcap.so'],
};

// The image's user is the one the rendered pod runs as (manifests' securityContext), so the two agree.
export const BINARIES: readonly Binary[] = [
  {
    name: 'operator',
    entry: 'packages/operator/dist/main.js',
    natives: [],
    uid: NON_ROOT_UID,
    nodeFlags: LEAN_NODE_FLAGS,
  },
  {
    name: 'controller',
    entry: 'packages/controller/dist/main.js',
    natives: [],
    uid: NON_ROOT_UID,
    nodeFlags: LEAN_NODE_FLAGS,
  },
  {
    name: 'speaker',
    entry: 'packages/speaker/dist/main.js',
    natives: [PCAP],
    uid: undefined,
    nodeFlags: SPEAKER_NODE_FLAGS,
  },
];

/** Where `pnpm bundle` writes, and the images read: `build/bundle/<name>/main.mjs`. */
export const BUILD_DIR = join(repoRoot, 'build');

export function bundleDir(b: Binary): string {
  return join(BUILD_DIR, 'bundle', b.name);
}

export function bundleMain(b: Binary): string {
  return join(bundleDir(b), 'main.mjs');
}

export function binary(name: string): Binary {
  const b = BINARIES.find((x) => x.name === name);
  if (!b)
    throw new Error(
      `no binary named "${name}": the shipped ones are ${BINARIES.map((x) => x.name).join(', ')}`,
    );
  return b;
}

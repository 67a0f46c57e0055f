// The lab's image registry: Debian's docker-registry (Distribution 2.8) serving plain HTTP on the
// management network, so kubelets pull our images as they would from any registry. Started with
// the lab's startProcess (so `lab down` ends it by PID); registry-client.ts fills and reads it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  forgetProcess,
  isRunning,
  startProcess,
  stopProcess,
  tailFile,
  type ProcessRecord,
} from './processes.js';
import { hostPort, httpGet, registryClient, type RegistryClient } from './registry-client.js';
import { waitFor } from './wait-for.js';

export {
  containerdHostsToml,
  hostPort,
  pushShippedImages,
  registryClient,
  SHIPPED_IMAGES,
  type PushedImage,
  type RegistryClient,
  type RegistryManifest,
} from './registry-client.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

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

export interface Registry extends RegistryClient {
  readonly process: ProcessRecord;
  readonly configFile: string;
  readonly log: string;
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
  /** The Distribution binary; default REGISTRY_BINARY. */
  readonly binary?: string;
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

export async function startRegistry(o: RegistryOptions): Promise<Registry> {
  const name = o.name ?? 'registry';
  const progress = o.progress ?? (() => undefined);
  const home = join(o.dir, name);
  const configFile = join(home, 'config.yml');
  const log = join(o.dir, 'logs', `${name}.log`);
  const host = hostPort(o.address, o.port);
  const url = `http://${host}`;
  const binary = o.binary ?? REGISTRY_BINARY;
  if (!existsSync(binary))
    throw new Error(`registry: ${binary} is missing (Debian package docker-registry; scripts/setup.sh)`);
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
  const record = startProcess(o.dir, name, [binary, 'serve', configFile], log);
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

  const stop = async (): Promise<void> => {
    await stopProcess(record);
    forgetProcess(o.dir, name);
    progress(`${name} stopped (pid ${record.pid})`);
  };

  return { ...registryClient(o.address, o.port, progress), process: record, configFile, log, stop };
}

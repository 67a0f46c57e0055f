// The few machine-wide things a kubelet lab touches, recorded before the first kubelet starts and
// put back by `down` (also after a crash: the record lives beside the owner file, not in the lab
// folder). The kubelet sets kernel settings it needs; containerd's shims and the kubelet create a
// few folders at fixed paths.
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_NETWORK, CONTAINERD_MACHINE_DIR } from './node-config.js';

/** The record of what the machine looked like before the kubelets. */
export const HOST_RECORD = '/tmp/metallb-ts-lab.host.json';

/** Kernel settings the kubelet writes at start (its `setupKernelTunables`), as /proc/sys paths. */
export const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;

/** Folders at fixed machine paths that the kubelet or containerd create when missing. */
export const MACHINE_DIRS = [CONTAINERD_MACHINE_DIR, '/var/lib/kubelet', '/var/log/containers'] as const;

export interface HostRecord {
  readonly sysctls: Record<string, string>;
  /** Which of MACHINE_DIRS existed before: only the others are removed. */
  readonly existed: Record<string, boolean>;
}

export interface HostFs {
  read(path: string): string;
  write(path: string, value: string): void;
  exists(path: string): boolean;
}

const realFs: HostFs = {
  read: (p) => readFileSync(p, 'utf8').trim(),
  write: (p, v) => writeFileSync(p, v),
  exists: (p) => existsSync(p),
};

/** Reads the current values (a setting this kernel lacks is left out). */
export function readHostRecord(fs: HostFs = realFs): HostRecord {
  const sysctls: Record<string, string> = {};
  for (const key of KUBELET_SYSCTLS) {
    const path = join('/proc/sys', key);
    if (fs.exists(path)) sysctls[key] = fs.read(path);
  }
  const existed: Record<string, boolean> = {};
  for (const dir of MACHINE_DIRS) existed[dir] = fs.exists(dir);
  return { sysctls, existed };
}

/**
 * Records the machine's state once: a record left by a crashed lab is the truth about the machine
 * before any lab, so it is kept, not overwritten with values a kubelet already changed.
 */
export function recordHostOnce(): HostRecord {
  if (existsSync(HOST_RECORD)) return JSON.parse(readFileSync(HOST_RECORD, 'utf8')) as HostRecord;
  const record = readHostRecord();
  writeFileSync(HOST_RECORD, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** What differs between `record` and now: `key: now -> recorded`. */
export function hostDrift(record: HostRecord, fs: HostFs = realFs): string[] {
  const now = readHostRecord(fs);
  return Object.entries(record.sysctls)
    .filter(([key, value]) => now.sysctls[key] !== value)
    .map(([key, value]) => `${key}: ${now.sysctls[key] ?? '(missing)'} -> ${value}`);
}

/**
 * Puts the machine back as recorded: kernel settings, the folders the lab's parts created, the
 * CNI result cache entries of the lab's network and the log links that point into the lab. Returns
 * what it changed, for the progress line. Safe when there is no record.
 */
export function restoreHost(labDirs: readonly string[]): string[] {
  const changed: string[] = [];
  sweepMachineFiles(labDirs, changed);
  if (!existsSync(HOST_RECORD)) return changed;
  const record = JSON.parse(readFileSync(HOST_RECORD, 'utf8')) as HostRecord;
  for (const drift of hostDrift(record)) changed.push(`sysctl ${drift}`);
  for (const [key, value] of Object.entries(record.sysctls)) {
    try {
      if (readFileSync(join('/proc/sys', key), 'utf8').trim() !== value)
        writeFileSync(join('/proc/sys', key), value);
    } catch (e) {
      changed.push(`could not restore ${key}=${value}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const dir of MACHINE_DIRS) {
    if (record.existed[dir] === false && existsSync(dir)) {
      rmSync(dir, { recursive: true, force: true });
      changed.push(`removed ${dir}`);
    }
  }
  rmSync(HOST_RECORD, { force: true });
  return changed;
}

function sweepMachineFiles(labDirs: readonly string[], changed: string[]): void {
  const results = '/var/lib/cni/results';
  if (existsSync(results)) {
    for (const f of readdirSync(results)) {
      if (!f.startsWith(`${CNI_NETWORK}-`)) continue;
      rmSync(join(results, f), { force: true });
      changed.push(`removed ${join(results, f)}`);
    }
  }
  const links = '/var/log/containers';
  if (existsSync(links)) {
    for (const f of readdirSync(links)) {
      let target = '';
      try {
        target = readlinkSync(join(links, f));
      } catch {
        continue;
      }
      if (labDirs.some((d) => target.startsWith(`${d}/`))) {
        rmSync(join(links, f), { force: true });
        changed.push(`removed ${join(links, f)}`);
      }
    }
  }
}

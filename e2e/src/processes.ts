import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { sleep } from './wait-for.js';

/** A process the lab started: enough to find it again after a crash, and to be sure it is the same one. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** Kernel start time (clock ticks since boot) so a recycled PID is never killed by mistake. */
  readonly startTicks: number;
  readonly argv: readonly string[];
  readonly log: string;
}

export interface LabState {
  processes: Record<string, ProcessRecord>;
}

export function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

export function readState(dir: string): LabState {
  try {
    const parsed = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as Partial<LabState>;
    return { processes: parsed.processes ?? {} };
  } catch {
    return { processes: {} };
  }
}

export function writeState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${stateFile(dir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, stateFile(dir));
}

export function recordProcess(dir: string, record: ProcessRecord): void {
  const state = readState(dir);
  state.processes[record.name] = record;
  writeState(dir, state);
}

export function forgetProcess(dir: string, name: string): void {
  const state = readState(dir);
  delete state.processes[name];
  writeState(dir, state);
}

/** Start time of a live, non-zombie process, or undefined when there is none with that PID. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; the name itself may contain spaces or ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function isRunning(record: Pick<ProcessRecord, 'pid' | 'startTicks'>): boolean {
  const ticks = processStartTicks(record.pid);
  return ticks !== undefined && ticks === record.startTicks;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Starts a long-running process detached from us (it survives the CLI that started it), with
 * stdout and stderr appended to `log`, and records it in the state file of `dir`.
 */
export function startProcess(
  dir: string,
  name: string,
  argv: readonly string[],
  log: string,
  options: StartOptions = {},
): ProcessRecord {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error(`startProcess ${name}: empty argv`);
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    child.on('error', () => undefined);
    // A process that dies with no line of its own (SIGKILL, a native crash) still says how it
    // ended: while the starter lives, it appends the exit code or signal to the log.
    child.once('exit', (code, signal) => appendExitLine(log, name, child.pid, code, signal));
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${argv.join(' ')}`);
    const record: ProcessRecord = {
      name,
      pid: child.pid,
      startTicks: processStartTicks(child.pid) ?? -1,
      argv,
      log,
    };
    recordProcess(dir, record);
    return record;
  } finally {
    closeSync(fd);
  }
}

/** The `msg` of the line the lab appends to a process's log when it sees the process end. */
export const LAB_EXIT_MSG = 'process ended (seen by the lab that started it)';

function appendExitLine(
  log: string,
  name: string,
  pid: number | undefined,
  code: number | null,
  signal: NodeJS.Signals | null,
): void {
  const line = {
    ts: new Date().toISOString(),
    level: code === 0 ? 'info' : 'warn',
    component: 'lab',
    msg: LAB_EXIT_MSG,
    name,
    pid,
    ...(signal ? { signal } : { exitCode: code }),
  };
  try {
    appendFileSync(log, `${JSON.stringify(line)}\n`);
  } catch {
    // The lab's folder is gone (torn down): nobody reads that log any more.
  }
}

/** The lab's line saying how the process ended (the last one, if restarted), if it has ended. */
export function labExitLine(log: string): string | undefined {
  return log
    .split('\n')
    .filter((l) => l.includes(LAB_EXIT_MSG))
    .at(-1);
}

/** A log without the lab's own exit lines: what the process itself wrote. */
export function ownLogLines(log: string): string {
  return log
    .split('\n')
    .filter((l) => !l.includes(LAB_EXIT_MSG))
    .join('\n');
}

/**
 * Stops one recorded process: `signal` first, SIGKILL when it has not gone after `graceMs`.
 * Checks the start time before every signal so a recycled PID is never hit.
 */
export async function stopProcess(
  record: Pick<ProcessRecord, 'pid' | 'startTicks'>,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5_000,
): Promise<void> {
  if (!isRunning(record)) return;
  try {
    process.kill(record.pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(record)) return;
    await sleep(50);
  }
  if (isRunning(record)) {
    try {
      process.kill(record.pid, 'SIGKILL');
    } catch {
      return;
    }
    const hard = Date.now() + 5_000;
    while (Date.now() < hard && isRunning(record)) await sleep(50);
  }
}

/** Sends a signal to a recorded process if it is still the one we started. */
export function signalProcess(
  record: Pick<ProcessRecord, 'pid' | 'startTicks'>,
  signal: NodeJS.Signals,
): boolean {
  if (!isRunning(record)) return false;
  try {
    process.kill(record.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Stops every process recorded in `dir`'s state file (reverse start order) and forgets them. */
export async function stopAllRecorded(dir: string): Promise<string[]> {
  if (!existsSync(stateFile(dir))) return [];
  const state = readState(dir);
  const names = Object.keys(state.processes).reverse();
  const controlPlane = ['kube-controller-manager', 'kube-apiserver', 'etcd'];
  // Everything else at once, then the control plane in order (etcd last, so the API server can
  // shut down cleanly and clients never see a half-dead store).
  await Promise.all(
    names
      .filter((n) => !controlPlane.includes(n))
      .map(async (name) => {
        const rec = state.processes[name];
        if (rec) await stopProcess(rec);
      }),
  );
  for (const name of controlPlane) {
    const rec = state.processes[name];
    if (rec) await stopProcess(rec, 'SIGTERM', name === 'kube-apiserver' ? 3_000 : 5_000);
  }
  writeState(dir, { processes: {} });
  return names;
}

/** Last `lines` lines of a log file ('' when missing). */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

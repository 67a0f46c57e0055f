// The lab images' binaries as processes (no lab, no container): echo answers with its pod and node
// name and exits 0 on SIGTERM; pause, as PID 1 of a PID namespace (needs root, as the lab does),
// reaps orphans and exits 0 on SIGTERM or SIGINT.
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/components.js';
import { buildLabBinaries, type LabBinaries } from '../src/lab-images.js';
import { e2eRoot } from '../src/paths.js';
import { waitFor } from '../src/wait-for.js';

jest.setTimeout(60_000);
let bins: LabBinaries;
const started: ChildProcess[] = [];

beforeAll(() => {
  bins = buildLabBinaries((line) => process.stderr.write(`${line}\n`));
}, 300_000);

afterEach(() => {
  // Only the processes this file started, by PID, if a failed test left one behind.
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a lab binary by name, or any program by absolute path or PATH name when `args` are given. */
function run(name: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Run {
  const file = name === 'pause' || name === 'echo' ? join(bins.bin, name) : name;
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

const stillRunning = (r: Run) => r.child.exitCode === null && r.child.signalCode === null;

describe('echo', () => {
  it("passes its Go unit tests (configuration from the environment, the handler's answers)", () => {
    const r = spawnSync('go', ['test', './...'], {
      cwd: join(e2eRoot, 'tools', 'labimages'),
      encoding: 'utf8',
      env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
      timeout: 5 * 60_000,
    });
    expect(`exit ${r.status}\n${r.stdout}${r.stderr}`).toMatch(
      /^exit 0\n[\s\S]*ok\s+metallb-ts\/e2e\/tools\/labimages\/echo/,
    );
  }, 300_000);

  it('answers GET / with "<pod> on <node>", /healthz with 200, logs one JSON start line, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const r = run('echo', {
      PORT: String(port),
      LISTEN_ADDRESS: '127.0.0.1',
      POD_NAME: 'web-7d9f',
      NODE_NAME: 'node-2',
    });
    const url = `http://127.0.0.1:${port}`;
    const body = await waitFor(`echo to answer on ${url} (output: ${r.output()})`, async () => {
      if (!stillRunning(r)) throw new Error(`echo exited: ${r.output()}`);
      const res = await fetch(`${url}/`);
      return { done: true, value: `${res.status} ${await res.text()}` };
    });
    expect(body).toBe('200 web-7d9f on node-2\n');
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${url}/nothing`)).status).toBe(404);

    const lines = r.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'INFO',
      msg: 'listening',
      addr: `127.0.0.1:${port}`,
      pod: 'web-7d9f',
      node: 'node-2',
      version: bins.tag,
    });

    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses a PORT that is not a TCP port, naming it, with exit 2', async () => {
    const r = run('echo', { PORT: '70000' });
    expect(await r.exited).toEqual({ code: 2, signal: null });
    expect(r.output()).toContain('PORT \\"70000\\": not a TCP port');
  });
});

describe('pause', () => {
  // pause as PID 1 of a new PID namespace, as in a pod: an orphan there becomes its child.
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'reaps an orphan in its PID namespace, keeps running, exits 0 on %s',
    async (signal) => {
      const r = run('unshare', { PATH: process.env.PATH }, [
        '--pid',
        '--fork',
        '--kill-child=SIGKILL',
        join(bins.bin, 'pause'),
      ]);
      const pause = await waitFor('unshare to start pause', () => {
        const pid = childrenOf(r.child.pid!)[0];
        return pid ? { done: true, value: pid } : { done: false, observed: r.output() };
      });
      // A shell in pause's namespace starts `sleep` in the background and exits: sleep is orphaned
      // to pause. When sleep ends it stays a zombie unless pause reaps it.
      const sh = run('nsenter', { PATH: process.env.PATH }, [
        '--target',
        String(pause),
        '--pid',
        '--',
        'sh',
        '-c',
        'sleep 2 &',
      ]);
      expect(await sh.exited).toEqual({ code: 0, signal: null });
      const orphan = await waitFor(`an orphan to be reparented to pause (pid ${pause})`, () => {
        const pid = childrenOf(pause)[0];
        return pid ? { done: true, value: pid } : { done: false, observed: 'no child' };
      });
      await waitFor(
        `pause to reap orphan ${orphan}`,
        () =>
          existsSync(`/proc/${orphan}`)
            ? { done: false, observed: procState(orphan) }
            : { done: true, value: true },
        { timeoutMs: 15_000 },
      );
      expect(stillRunning(r)).toBe(true);
      process.kill(pause, signal);
      // unshare --fork exits with its child's status (and --kill-child ends pause if a failed test kills unshare).
      expect(await r.exited).toEqual({ code: 0, signal: null });
    },
  );

  it('prints its version', async () => {
    const r = run('pause', {}, ['-v']);
    const exit = await r.exited;
    expect(`${exit.code} ${r.output()}`).toBe(`0 pause ${bins.tag}\n`);
  });
});

/** PIDs whose parent is `pid` (any of its threads). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `state ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]}`;
  } catch {
    return 'gone';
  }
}

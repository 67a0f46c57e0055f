import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, labExitLine, ownLogLines, startProcess, stopProcess } from '../src/processes.js';
import { waitFor } from '../src/wait-for.js';

// The lab's process records, lab-free: a process that dies with no line of its own still leaves
// one in its log saying how it ended, so a crash in a long run can be told from a stop.
const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The lab's exit line of `log`, once it is there. */
async function exitLine(log: string): Promise<Record<string, unknown>> {
  return waitFor(
    `the lab's exit line in ${log}`,
    () => {
      const text = readFileSync(log, 'utf8');
      const line = labExitLine(text);
      return line
        ? { done: true, value: JSON.parse(line) as Record<string, unknown> }
        : { done: false, observed: text };
    },
    { timeoutMs: 10_000, intervalMs: 20 },
  );
}

describe('startProcess: the end of a process is written to its log', () => {
  it('a process killed by a signal: the signal, and nothing the process wrote is lost', async () => {
    const log = join(dir, 'killed.log');
    const rec = startProcess(dir, 'killed', ['sh', '-c', 'echo before; kill -KILL $$'], log);
    const line = await exitLine(log);
    expect(line).toMatchObject({
      component: 'lab',
      name: 'killed',
      pid: rec.pid,
      signal: 'SIGKILL',
      level: 'warn',
    });
    expect(ownLogLines(readFileSync(log, 'utf8')).trim()).toBe('before');
  });

  it('a process that exits: its exit code', async () => {
    const log = join(dir, 'exits.log');
    startProcess(dir, 'exits', ['sh', '-c', 'exit 3'], log);
    expect(await exitLine(log)).toMatchObject({ name: 'exits', exitCode: 3, level: 'warn' });
  });

  it('a process stopped by the lab: SIGTERM, once it has gone', async () => {
    const log = join(dir, 'stopped.log');
    const rec = startProcess(dir, 'stopped', ['sleep', '60'], log);
    expect(isRunning(rec)).toBe(true);
    await stopProcess(rec, 'SIGTERM', 5_000);
    expect(await exitLine(log)).toMatchObject({ name: 'stopped', signal: 'SIGTERM' });
  });
});

describe('labExitLine', () => {
  it('is the last end of a process restarted under one log, and none while the first still runs', async () => {
    const log = join(dir, 'restarted.log');
    const first = startProcess(dir, 'restarted', ['sleep', '60'], log);
    expect(labExitLine(readFileSync(log, 'utf8'))).toBeUndefined();
    await stopProcess(first, 'SIGTERM', 5_000);
    await exitLine(log);
    startProcess(dir, 'restarted', ['sh', '-c', 'exit 7'], log);
    await waitFor(
      'the second exit line',
      () => {
        const line = labExitLine(readFileSync(log, 'utf8'));
        return line?.includes('"exitCode":7') ? { done: true, value: line } : { done: false, observed: line };
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
  });
});

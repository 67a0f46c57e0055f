import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import {
  answerChanges,
  longestGap,
  parseArping,
  parseProberLine,
  servedByChanges,
  twoMacRequests,
  type ProberLine,
} from '../src/failover-probe.js';
import { nodeArgvFor } from '../src/paths.js';
import { waitFor } from '../src/wait-for.js';

// The summaries the failover and steadiness benchmarks print, on recorded prober and arping output.

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const reply = (mac: string, i: number) => `60 bytes from ${mac} (203.0.113.200): index=${i} time=80.1 usec`;

describe('arping windows', () => {
  const out = [
    'ARPING 203.0.113.200',
    reply(A, 0),
    reply(A, 1),
    reply(A, 3), // 2 unanswered
    reply(A, 4),
    reply(B, 4), // two MACs for one request
    reply(B, 5),
    reply(B, 6),
    reply(A.toUpperCase(), 7),
    '',
    '--- 203.0.113.200 statistics ---',
    '9 packets transmitted, 8 packets received,  11% unanswered (1 extra)',
  ].join('\n');

  it('counts requests from the summary, answers per index, and lower-cases MACs', () => {
    const w = parseArping(out, 50);
    expect(w.requests).toBe(9);
    expect(w.answers.size).toBe(7);
    expect([...w.answers.get(4)!].sort()).toEqual([A, B]);
    expect([...w.answers.get(7)!]).toEqual([A]);
  });

  it('falls back to the count asked for without a summary', () => {
    expect(parseArping(reply(A, 0), 50).requests).toBe(50);
  });

  it('two-MAC requests and owner changes (A -> B -> A; the conflicted request is not a change)', () => {
    const w = parseArping(out, 50);
    expect(twoMacRequests(w)).toBe(1);
    expect(answerChanges(w)).toBe(2);
    expect(answerChanges(parseArping([reply(A, 0), reply(A, 5)].join('\n'), 6))).toBe(0);
  });
});

describe('prober summaries', () => {
  const s = [
    { t: 1000, node: 'node-1' },
    { t: 1020, node: 'node-1' },
    { t: 1500, node: 'node-2' },
    { t: 1520, node: 'node-2' },
    { t: 1540, node: 'node-1' },
  ];

  it('the longest gap counts the window edges and ignores successes outside it', () => {
    expect(longestGap(s, 1000, 1540)).toBe(480);
    expect(longestGap(s, 1010, 1530)).toBe(480);
    expect(longestGap(s, 1510, 1530)).toBe(10);
    // No success at all: the whole window is the outage.
    expect(longestGap([], 0, 60_000)).toBe(60_000);
    expect(longestGap(s, 1530, 3000)).toBe(1460);
  });

  it('served-by changes within the window', () => {
    expect(servedByChanges(s, 0, 5000)).toBe(2);
    expect(servedByChanges(s, 0, 1520)).toBe(1);
    expect(servedByChanges(s, 1500, 1520)).toBe(0);
  });
});

describe('prober lines', () => {
  it('reads the start, successes and failures with their reason; ignores anything else', () => {
    expect(parseProberLine('ready 1700000000000')).toEqual({ kind: 'ready' });
    expect(parseProberLine('1700000000020 node-2')).toEqual({
      kind: 'success',
      success: { t: 1700000000020, node: 'node-2' },
    });
    expect(parseProberLine('1700000000040 - status 503')).toEqual({
      kind: 'failure',
      failure: { t: 1700000000040, why: 'status 503' },
    });
    expect(parseProberLine('')).toBeUndefined();
    expect(parseProberLine('garbage line')).toBeUndefined();
  });
});

// prober.ts itself, on 127.0.0.1 (no lab): what it prints for an answer, an error status, a
// refused connection and a server that never answers.
describe('prober.ts', () => {
  const servers: Server[] = [];
  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<number> => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  let ok = 0;
  let unavailable = 0;
  let silent = 0;
  let closed = 0;

  beforeAll(async () => {
    ok = await listen((_req, res) => res.end('node-9\n'));
    unavailable = await listen((_req, res) => {
      res.statusCode = 503;
      res.end('busy');
    });
    silent = await listen(() => undefined);
    closed = await listen(() => undefined);
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  });

  afterAll(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** Runs the prober on `port` (every 20 ms, 100 ms timeout) until it printed 3 results. */
  async function firstResults(port: number): Promise<ProberLine[]> {
    const child = spawn(
      nodeArgvFor('prober')[0]!,
      [...nodeArgvFor('prober').slice(1), `http://127.0.0.1:${port}/`, '20', '100'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines: ProberLine[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const p = parseProberLine(l);
      if (p && p.kind !== 'ready') lines.push(p);
    });
    try {
      return await waitFor(
        `3 results from the prober on port ${port}`,
        () =>
          lines.length >= 3 ? { done: true, value: lines.slice(0, 3) } : { done: false, observed: lines },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('prints the body of a 200 as a success', async () => {
    for (const l of await firstResults(ok))
      expect(l).toMatchObject({ kind: 'success', success: { node: 'node-9' } });
  }, 20_000);

  it('prints a failure with the reason for an error status, a refused connection and a timeout', async () => {
    for (const [port, why] of [
      [unavailable, 'status 503'],
      [closed, 'ECONNREFUSED'],
      [silent, 'timeout'],
    ] as const)
      for (const l of await firstResults(port))
        expect(l).toMatchObject({ kind: 'failure', failure: { why } });
  }, 40_000);
});

import { describe, expect, it } from '@jest/globals';
import {
  answerChanges,
  longestGap,
  parseArping,
  servedByChanges,
  twoMacRequests,
} from '../src/failover-probe.js';

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

// What the failover and steadiness benchmarks observe from the client namespace: an HTTP prober
// on fresh connections (who served, and when), ARP requests every 20 ms (which MACs answered
// each one), and the pure summaries of both (longest gap, owner changes, two-MAC requests); and
// the faults both inflict the same way (a node death, a frozen API server).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ControlPlane } from './control-plane.js';
import type { Lab } from './lab.js';
import { nodeArgvFor } from './paths.js';
import { readState, signalProcess } from './processes.js';
import { CLIENT_NS, DATA_IF, MGMT_IF } from './topology.js';

/** One successful GET: when (epoch ms) and which node's backend answered. */
export interface Success {
  readonly t: number;
  readonly node: string;
}

/** One failed GET: when (epoch ms) and why (timeout, a socket error code, a status). */
export interface Failure {
  readonly t: number;
  readonly why: string;
}

/** One line of `prober.ts`: its start, a success (`<ms> <node>`) or a failure (`<ms> - <why>`). */
export type ProberLine =
  | { readonly kind: 'ready' }
  | { readonly kind: 'success'; readonly success: Success }
  | { readonly kind: 'failure'; readonly failure: Failure };

export function parseProberLine(line: string): ProberLine | undefined {
  const [a, b, ...why] = line.split(' ');
  if (a === 'ready') return { kind: 'ready' };
  const t = Number(a);
  if (!b || !Number.isFinite(t)) return undefined;
  return b === '-'
    ? { kind: 'failure', failure: { t, why: why.join(' ') } }
    : { kind: 'success', success: { t, node: b } };
}

export interface Prober {
  readonly successes: Success[];
  readonly failures: Failure[];
  stop(): Promise<void>;
}

/**
 * Starts `prober.ts` in the client namespace: one GET to `http://vip/` every `intervalMs`, each
 * given up (a failure) after `timeoutMs`.
 */
export function startProber(vip: string, intervalMs: number, timeoutMs = 200): Promise<Prober> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      CLIENT_NS,
      ...nodeArgvFor('prober'),
      `http://${vip}/`,
      String(intervalMs),
      String(timeoutMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const successes: Success[] = [];
  const failures: Failure[] = [];
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (text) => {
      const line = parseProberLine(text);
      if (line?.kind === 'ready') {
        resolve({
          successes,
          failures,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      } else if (line?.kind === 'failure') failures.push(line.failure);
      else if (line?.kind === 'success') successes.push(line.success);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`prober exited early (${code})`)));
  });
}

/** Longest gap (ms) between consecutive successes with `from <= t <= to`; the window's edges count as successes. */
export function longestGap(successes: readonly Success[], from: number, to: number): number {
  const ts = [from, ...successes.map((s) => s.t).filter((t) => t >= from && t <= to), to];
  let gap = 0;
  for (let i = 1; i < ts.length; i++) gap = Math.max(gap, ts[i]! - ts[i - 1]!);
  return gap;
}

/** How often the node serving the prober changed between consecutive successes in [from, to]. */
export function servedByChanges(successes: readonly Success[], from: number, to: number): number {
  const nodes = successes.filter((s) => s.t >= from && s.t <= to).map((s) => s.node);
  return nodes.filter((n, i) => i > 0 && n !== nodes[i - 1]).length;
}

/** Per ARP request (by arping's index), the MACs that answered it; unanswered requests are absent. */
export interface ArpWindow {
  /** Requests sent (arping's own count when it printed one, else the count asked for). */
  readonly requests: number;
  readonly answers: ReadonlyMap<number, ReadonlySet<string>>;
}

/** Parses Habets arping output (`... bytes from <mac> (<ip>): index=<n> ...`, `<n> packets transmitted`). */
export function parseArping(stdout: string, asked: number): ArpWindow {
  const sent = /(\d+) packets transmitted/.exec(stdout);
  const requests = sent ? Number(sent[1]) : asked;
  const answers = new Map<number, Set<string>>();
  for (const m of stdout.matchAll(/bytes from ([0-9a-fA-F:]{17}) .*?index=(\d+)/g)) {
    const i = Number(m[2]);
    answers.set(i, (answers.get(i) ?? new Set<string>()).add(m[1]!.toLowerCase()));
  }
  return { requests, answers };
}

/** Requests answered by more than one MAC (two nodes announcing the address at once). */
export function twoMacRequests(w: ArpWindow): number {
  return [...w.answers.values()].filter((s) => s.size > 1).length;
}

/** How often the MAC answering changed from one single-answer request to the next (owner changes). */
export function answerChanges(w: ArpWindow): number {
  const single = [...w.answers]
    .filter(([, macs]) => macs.size === 1)
    .sort(([a], [b]) => a - b)
    .map(([, macs]) => [...macs][0]!);
  return single.filter((m, i) => i > 0 && m !== single[i - 1]).length;
}

/** ARP requests for `vip` every 20 ms for `seconds` from the client, and who answered each. */
export async function arpWindow(l: Lab, vip: string, seconds: number): Promise<ArpWindow> {
  const count = Math.round(seconds * 50);
  const r = await l.nsExec(
    CLIENT_NS,
    ['arping', '-c', String(count), '-W', '0.02', '-w', String(seconds + 2), '-i', DATA_IF, vip],
    seconds * 1000 + 10_000,
  );
  return parseArping(r.stdout, count);
}

export async function setLink(l: Lab, node: string, dev: string, up: boolean): Promise<void> {
  const r = await l.nsExec(node, ['ip', 'link', 'set', dev, up ? 'up' : 'down']);
  if (r.code !== 0) throw new Error(`ip link set ${dev} ${up ? 'up' : 'down'} in ${node}: ${r.stderr}`);
}

/**
 * A node dies: its speaker is SIGKILLed, then its data and management (gossip) links go down, so
 * neither the client nor a peer hears from it again. `reviveLinks` undoes the links; the caller
 * restarts the speaker.
 */
export async function killNode(l: Lab, node: string): Promise<void> {
  await l.killSpeaker(node, 'SIGKILL');
  await l.setDataLink(node, false);
  await setLink(l, node, MGMT_IF, false);
}

export async function reviveLinks(l: Lab, node: string): Promise<void> {
  await setLink(l, node, MGMT_IF, true);
  await l.setDataLink(node, true);
}

/**
 * Freezes the lab's kube-apiserver (SIGSTOP: connections stay open and nothing answers, the
 * harder case than a refused connection). Returns the thaw (SIGCONT); call it in a `finally`.
 */
export function freezeApiServer(cp: ControlPlane): () => void {
  const rec = readState(cp.dir).processes['kube-apiserver'];
  if (!rec) throw new Error(`kube-apiserver is not recorded in ${cp.dir}`);
  if (!signalProcess(rec, 'SIGSTOP')) throw new Error(`SIGSTOP kube-apiserver (pid ${rec.pid}) failed`);
  return () => void signalProcess(rec, 'SIGCONT');
}

/**
 * Polls ARP for `vip` from the client, one request of `arpingTimeoutMs` at a time, until `node`
 * alone answers; returns how long that took (ms).
 */
export async function arpAnsweredBy(
  l: Lab,
  vip: string,
  node: string,
  o: { timeoutMs: number; arpingTimeoutMs: number },
): Promise<number> {
  const mac = l.nodeMacs.get(node)!;
  const t0 = Date.now();
  await l.waitFor(
    `ARP for ${vip} answered by ${node} (${mac}) only`,
    async () => {
      const r = await l.clientArping(vip, { count: 1, timeoutMs: o.arpingTimeoutMs });
      return r.macs.length === 1 && r.macs[0] === mac
        ? { done: true, value: r }
        : { done: false, observed: r };
    },
    { timeoutMs: o.timeoutMs, intervalMs: 20 },
  );
  return Date.now() - t0;
}

/** Polls HTTP to `vip` from the client, its neighbour entry flushed first each time, until `node` serves it. */
export async function httpServedBy(l: Lab, vip: string, node: string, timeoutMs: number): Promise<void> {
  await l.waitFor(
    `HTTP to ${vip} served by ${node}`,
    async () => {
      await l.flushClientNeighbours(vip);
      const r = await l.clientCurl(`http://${vip}/`, { timeoutMs: 1_000 });
      return r.ok && r.body.trim() === node ? { done: true, value: r } : { done: false, observed: r };
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** Waits until ARP for `vip` is answered by `node` (`mac`) alone and the client's entry points there. */
export async function settledOn(l: Lab, vip: string, mac: string, node: string): Promise<void> {
  await l.waitFor(
    `ARP for ${vip} answered by ${node} only`,
    async () => {
      const r = await l.clientArping(vip, { count: 1, timeoutMs: 500 });
      return r.macs.length === 1 && r.macs[0] === mac
        ? { done: true, value: r }
        : { done: false, observed: r };
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  // arping uses a packet socket: only real traffic makes the client's kernel hold an entry.
  await l.waitFor(
    `client's neighbour entry to point at ${node}`,
    async () => {
      await l.clientCurl(`http://${vip}/`, { timeoutMs: 1000 });
      const n = await l.clientNeighbour(vip);
      return n.mac === mac ? { done: true, value: n } : { done: false, observed: n };
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** `iptables -w <args>` inside `node`'s namespace; a refusal is an error naming the rule. */
export async function iptablesIn(l: Lab, node: string, args: readonly string[]): Promise<void> {
  const r = await l.nsExec(node, ['iptables', '-w', ...args]);
  if (r.code !== 0)
    throw new Error(`iptables ${args.join(' ')} in ${node}: exit ${r.code}: ${r.stderr.trim()}`);
}

/**
 * Runs `fn` with chain `chain` (inside `node`'s namespace) hooked to everything in and out of its
 * management (gossip) link, and removes the hooks and the chain afterwards, also when `fn` throws.
 */
export async function withMgmtChain<T>(
  l: Lab,
  node: string,
  chain: string,
  fn: () => Promise<T>,
): Promise<T> {
  await iptablesIn(l, node, ['-N', chain]);
  try {
    await iptablesIn(l, node, ['-I', 'INPUT', '-i', MGMT_IF, '-j', chain]);
    await iptablesIn(l, node, ['-I', 'OUTPUT', '-o', MGMT_IF, '-j', chain]);
    return await fn();
  } finally {
    // Each step on its own: one that fails (a hook never added) must not keep the others.
    await l.nsExec(node, ['iptables', '-w', '-D', 'INPUT', '-i', MGMT_IF, '-j', chain]);
    await l.nsExec(node, ['iptables', '-w', '-D', 'OUTPUT', '-o', MGMT_IF, '-j', chain]);
    await l.nsExec(node, ['iptables', '-w', '-F', chain]);
    const gone = await l.nsExec(node, ['iptables', '-w', '-X', chain]);
    if (gone.code !== 0)
      process.stderr.write(`could not remove iptables chain ${chain} in ${node}: ${gone.stderr.trim()}\n`);
  }
}

/** Runs `fn` while every packet in or out of `node`'s management (gossip) link is dropped with `probability`. */
export function withGossipLoss<T>(
  l: Lab,
  node: string,
  chain: string,
  probability: number,
  fn: () => Promise<T>,
): Promise<T> {
  return withMgmtChain(l, node, chain, async () => {
    await iptablesIn(l, node, [
      '-A',
      chain,
      '-m',
      'statistic',
      '--mode',
      'random',
      '--probability',
      String(probability),
      '-j',
      'DROP',
    ]);
    return fn();
  });
}

/** `count` busy loops in `node`'s namespace, each ended by `timeout` after `seconds` at the latest. */
export function startHogs(node: string, count: number, seconds: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn('ip', ['netns', 'exec', node, 'timeout', String(seconds), 'sh', '-c', 'while :; do :; done'], {
      stdio: 'ignore',
    }),
  );
}

export function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => c.once('exit', () => r()));
}

/** `count` busy loops in `node`'s namespace for `seconds`; resolves when all ended (killed on error). */
export async function cpuHog(node: string, count: number, seconds: number): Promise<void> {
  const hogs = startHogs(node, count, seconds);
  try {
    await Promise.all(hogs.map(exited));
  } finally {
    for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGTERM');
  }
}

export function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor((s.length - 1) / 2)] ?? NaN, max: s[s.length - 1] ?? NaN };
}

export function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

export async function sleepUntil(t: number): Promise<void> {
  const ms = t - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}

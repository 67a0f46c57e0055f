import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listNetns, netnsPids } from '../netns.js';
import { run, runOk } from '../run.js';
import { waitFor } from '../wait-for.js';

/**
 * Network namespaces for the wire tests and the responder benchmark. Everything lives inside
 * namespaces named `<prefix>-*` (veths are created directly in them), so nothing touches the host
 * or the lab, and a sweep by name removes whatever an earlier run left. Addresses come only from
 * the documentation ranges 192.0.2.0/24 and 2001:db8:2::/64.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const RESPONDER_SCRIPT = join(here, 'responder-process.ts');
/** Makes tsx resolve @metallb-ts/* to package sources: the scripts run the code under test, unbuilt. */
export const SOURCE_TSCONFIG = join(here, 'tsconfig.source.json');

export const VIP4 = '192.0.2.100';
export const VIP6 = '2001:db8:2::100';

/** Removes the namespaces `names` (killing what runs in them first). Never throws. */
export async function sweepNamespaces(names: readonly string[]): Promise<void> {
  const existing = new Set(await listNetns());
  for (const ns of names) {
    if (!existing.has(ns)) continue;
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await run(['ip', 'netns', 'del', ns]);
  }
}

export async function addNamespace(ns: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', ns]);
  await ipIn(ns, ['link', 'set', 'lo', 'up']);
  // No DAD delay on our own addresses, and no router solicitations adding noise to captures.
  await runOk([
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-q',
    '-w',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv6.conf.default.router_solicitations=0',
    'net.ipv6.conf.all.router_solicitations=0',
  ]);
}

/** A veth pair created straight into two namespaces, with fixed MACs, both ends up. */
export async function addVeth(
  a: { ns: string; name: string; mac: string },
  b: { ns: string; name: string; mac: string },
): Promise<void> {
  await runOk([
    'ip',
    'link',
    'add',
    'name',
    a.name,
    'netns',
    a.ns,
    'address',
    a.mac,
    'type',
    'veth',
    'peer',
    'name',
    b.name,
    'netns',
    b.ns,
    'address',
    b.mac,
  ]);
  await ipIn(a.ns, ['link', 'set', a.name, 'up']);
  await ipIn(b.ns, ['link', 'set', b.name, 'up']);
}

export function ipIn(ns: string, args: readonly string[]): Promise<string> {
  return runOk(['ip', '-n', ns, ...args]);
}

export interface NeighEntry {
  dst: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

export async function neighbours(ns: string, dev: string): Promise<NeighEntry[]> {
  const r = await run(['ip', '-n', ns, '-j', 'neigh', 'show', 'dev', dev]);
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  return JSON.parse(r.stdout) as NeighEntry[];
}

export async function neighbourOf(ns: string, dev: string, ip: string): Promise<NeighEntry | undefined> {
  return (await neighbours(ns, dev)).find((n) => n.dst === ip);
}

export type ResponderEvent = { event: string } & Record<string, unknown>;

export interface ResponderConfig {
  links: string[];
  announce?: { ip: string; link: string }[];
  burstMs?: number[];
  refreshMs?: number;
  logFrames?: boolean;
}

/** The responder script running inside a namespace; collects its JSON lines. */
export class ResponderHandle {
  readonly events: ResponderEvent[] = [];
  readonly stderr: string[] = [];
  private exited: number | null | undefined = undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.on('data', (b: Buffer) => {
      partial += b.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as ResponderEvent);
        } catch {
          this.stderr.push(`(stdout, not JSON) ${line}`);
        }
      }
    });
    child.stderr.on('data', (b: Buffer) => this.stderr.push(b.toString('utf8')));
    child.on('exit', (code) => {
      this.exited = code;
    });
  }

  /** `nodeFlags` go before the script (e.g. the speaker image's `nodeFlags`, to measure what ships). */
  static async start(
    ns: string,
    config: ResponderConfig,
    timeoutMs = 30_000,
    nodeFlags: readonly string[] = [],
  ): Promise<ResponderHandle> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        ...nodeFlags,
        '--import',
        'tsx',
        RESPONDER_SCRIPT,
        JSON.stringify(config),
      ],
      {
        env: { ...process.env, TSX_TSCONFIG_PATH: SOURCE_TSCONFIG },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const h = new ResponderHandle(child);
    await waitFor(
      `the responder in ${ns} to print ready`,
      () => {
        if (h.events.some((e) => e.event === 'ready')) return { done: true, value: undefined };
        if (h.exited !== undefined) throw new Error(`responder exited ${h.exited}: ${h.stderr.join('')}`);
        return { done: false, observed: h.describe() };
      },
      { timeoutMs, intervalMs: 50 },
    );
    return h;
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Sends a command and waits for its acknowledgement. */
  async command(cmd: { op: 'announce' | 'withdraw'; ip: string; link: string }): Promise<void> {
    const before = this.events.length;
    this.send(cmd);
    await waitFor(
      `responder to apply ${JSON.stringify(cmd)}`,
      () => {
        const ack = this.events
          .slice(before)
          .find((e) => e.event === 'command' && e.op === cmd.op && e.ip === cmd.ip && e.link === cmd.link);
        return ack ? { done: true, value: undefined } : { done: false, observed: this.describe() };
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );
  }

  async stats(): Promise<ResponderEvent> {
    const before = this.events.length;
    this.send({ op: 'stats' });
    return waitFor(
      'responder stats',
      () => {
        const s = this.events.slice(before).find((e) => e.event === 'stats');
        return s ? { done: true, value: s } : { done: false, observed: this.describe() };
      },
      { timeoutMs: 5000, intervalMs: 20 },
    );
  }

  frames(): ResponderEvent[] {
    return this.events.filter((e) => e.event === 'frame');
  }

  describe(lastLines = 40): string {
    const lines = this.events.slice(-lastLines).map((e) => JSON.stringify(e));
    return `responder (exit=${String(this.exited)}) last events:\n${lines.join('\n')}\nstderr:\n${this.stderr.join('').slice(-2000)}`;
  }

  /** Ends the responder (closing stdin ends it; SIGKILL if it lingers). */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    this.child.stdin.end();
    const gone = await waitFor(
      'responder exit',
      () => (this.exited !== undefined ? { done: true, value: true } : { done: false, observed: 'running' }),
      {
        timeoutMs: 3000,
        intervalMs: 20,
      },
    ).catch(() => false);
    if (!gone) this.child.kill('SIGKILL');
  }
}

/** tcpdump writing a pcap file inside a namespace; started only once it is listening. */
export class Capture {
  private exited = false;
  private readonly err: string[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly file: string,
  ) {
    child.stderr.on('data', (b: Buffer) => this.err.push(b.toString('utf8')));
    child.on('exit', () => {
      this.exited = true;
    });
  }

  /**
   * `immediate` writes each frame as it comes (tests read the file right after); the benchmark
   * turns it off and lets the kernel ring buffer batch, which costs the measured hosts less CPU.
   * Timestamps are the kernel's either way.
   */
  static async start(
    ns: string,
    dev: string,
    file: string,
    extra: readonly string[] = [],
    immediate = true,
  ): Promise<Capture> {
    const mode = immediate ? ['-U', '--immediate-mode'] : [];
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-n', ...mode, '-w', file, ...extra],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const c = new Capture(child, file);
    await waitFor(
      `tcpdump on ${ns}/${dev} to listen`,
      () => {
        if (c.err.join('').includes('listening on')) return { done: true, value: undefined };
        if (c.exited) throw new Error(`tcpdump exited: ${c.err.join('')}`);
        return { done: false, observed: c.err.join('') };
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    return c;
  }

  /** Stops the capture (SIGINT flushes the file) and returns tcpdump's summary lines. */
  async stop(): Promise<string> {
    if (!this.exited) {
      this.child.kill('SIGINT');
      await waitFor(
        'tcpdump exit',
        () => (this.exited ? { done: true, value: undefined } : { done: false, observed: 'running' }),
        { timeoutMs: 5000, intervalMs: 20 },
      ).catch(() => {
        this.child.kill('SIGKILL');
      });
    }
    return this.err.join('');
  }
}

// Who answers for each address, in one round: one ARP request (IPv4) or Neighbor Solicitation
// (IPv6) per address, all sent at once from the client, then every answer addressed to the client
// within the listen window counted. One long-lived ask.py per client link does the raw socket I/O
// (e2e/src/wire/ask.py), so a round forks nothing: the soak probes every announced address after
// every step, and forking two processes per address, then one per round, was most of a step.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readlinkSync, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BROADCAST_MAC,
  ZERO_MAC,
  bytesToIpv4,
  bytesToIpv6,
  decodeFrame,
  encodeArpFrame,
  findLinkLayerAddress,
  formatMac,
  ipv4ToBytes,
  ipv6ToBytes,
  neighborSolicitation,
  parseMac,
} from '@metallb-ts/l2-proto';

const ASK_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'ask.py');
/**
 * Debian's interpreter (scripts/setup.sh installs it): a `python3` on PATH may be a version
 * manager's shim, which costs 200 ms a start, and a round runs after every soak step.
 */
const PYTHON = '/usr/bin/python3';

/** The asking side: its MAC and the addresses it asks from, on one link. */
export interface Asker {
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

/** The value of a codec Result, or an error naming `what` could not be encoded or parsed. */
export function must<T>(
  r: { ok: true; value: T } | { ok: false; error: { message: string } },
  what: string,
): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.message}`);
  return r.value;
}

/** One request frame per address: an ARP request for IPv4, a Neighbor Solicitation for IPv6. */
export function requestFrames(asker: Asker, ips: readonly string[]): Buffer[] {
  const mac = must(parseMac(asker.mac), `asker MAC ${asker.mac}`);
  return ips.map((ip) =>
    ip.includes(':')
      ? neighborSolicitation({
          mac,
          source: must(ipv6ToBytes(asker.ipv6), `asker address ${asker.ipv6}`),
          target: must(ipv6ToBytes(ip), `address ${ip}`),
        })
      : encodeArpFrame({
          destination: BROADCAST_MAC,
          source: mac,
          arp: {
            operation: 'request',
            senderMac: mac,
            senderIp: must(ipv4ToBytes(asker.ipv4), `asker address ${asker.ipv4}`),
            targetMac: ZERO_MAC,
            targetIp: must(ipv4ToBytes(ip), `address ${ip}`),
          },
        }),
  );
}

/**
 * The MACs that answered for each of `ips`, from captured frames: ARP replies and Neighbor
 * Advertisements sent to the asker (a gratuitous announcement to everyone is no answer). The MAC
 * is the one the answer claims (ARP sender, NA target link-layer address, else the frame's
 * source), as arping and ndisc6 report it. Frames that do not decode are left out.
 */
export function answersFrom(
  asker: Asker,
  ips: readonly string[],
  frames: readonly Buffer[],
): Map<string, string[]> {
  const me = asker.mac.toLowerCase();
  // Keyed by the decoder's spelling of each address, so `2001:db8::0:1` finds `2001:db8::1`.
  const spelled = (ip: string): string =>
    ip.includes(':') ? bytesToIpv6(must(ipv6ToBytes(ip), `address ${ip}`)) : ip;
  const byKey = new Map(ips.map((ip) => [spelled(ip), ip]));
  const found = new Map<string, Set<string>>(ips.map((ip) => [ip, new Set<string>()]));
  const add = (key: string, mac: Buffer) => {
    const ip = byKey.get(key);
    if (ip !== undefined) found.get(ip)!.add(formatMac(mac));
  };
  for (const buf of frames) {
    const d = decodeFrame(buf);
    if (!d.ok || formatMac(d.value.ethernet.destination) !== me) continue;
    const f = d.value;
    if (f.kind === 'arp' && f.arp.operation === 'reply') {
      add(bytesToIpv4(f.arp.senderIp), f.arp.senderMac);
    } else if (f.kind === 'ndp-na' && f.na.solicited) {
      const mac = findLinkLayerAddress(f.na.options, 'target-link-layer-address') ?? f.ethernet.source;
      add(bytesToIpv6(f.na.target), mac);
    }
  }
  return new Map([...found].map(([ip, macs]) => [ip, [...macs].sort()]));
}

/** Reads one of ask.py's round lines. */
export function parseAskOutput(stdout: string): { sent: number; frames: Buffer[] } {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: { sent?: unknown; frames?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    throw new Error(`ask.py printed no result line: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  if (typeof parsed.sent !== 'number' || !Array.isArray(parsed.frames))
    throw new Error(`ask.py printed an unexpected line: ${line.slice(0, 300)}`);
  return { sent: parsed.sent, frames: parsed.frames.map((h) => Buffer.from(String(h), 'hex')) };
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Interface;
  /** The asking link's MAC, as ask.py read it at start. */
  readonly mac: Promise<string>;
  stderr: string;
}

/**
 * One ask.py serving rounds on `iface`, started with `launch` in front (what puts it where the
 * asker lives: `ip netns exec client`). Rounds run one at a time. When the process ends (a lab's
 * teardown ends what runs in its namespaces), the round in flight fails with its stderr, and the
 * next round starts a fresh one on whatever link is there now. Nothing of it keeps the caller's
 * process alive.
 */
export class WireAsker {
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `netns`: the named network namespace the asker must live in (`/run/netns/<name>`): a round
   * first checks that the running process is in the namespace of that name now, since a lab
   * made anew has a new namespace under the old name.
   */
  constructor(
    private readonly launch: readonly string[],
    private readonly iface: string,
    private readonly netns?: string,
  ) {}

  /** Who answers for each of `ips` (distinct MACs, sorted; [] for a silent address). */
  async owners(
    ips: readonly string[],
    listenMs: number,
    from: { ipv4: string; ipv6: string },
  ): Promise<Map<string, string[]>> {
    if (ips.length === 0) return new Map();
    const out = await this.round(
      (mac) => requestFrames({ mac, ...from }, ips),
      listenMs,
      `a round of ${ips.length} address(es)`,
    );
    return answersFrom({ mac: out.mac, ...from }, ips, out.frames);
  }

  /**
   * One round: the frames `build` makes for the link's MAC go out at once, then what the link
   * delivers within `listenMs` (ARP and Neighbor Advertisements only) comes back.
   */
  round(
    build: (mac: string) => readonly Buffer[],
    listenMs: number,
    what = 'a round',
  ): Promise<{ mac: string; sent: number; frames: Buffer[] }> {
    const round = this.queue.then(async () => {
      if (this.running && !this.inNamespace(this.running)) this.stop(this.running);
      const r = this.running ?? this.start();
      const mac = await this.within(r, r.mac, 10_000, 'its MAC');
      const frames = build(mac).map((f) => f.toString('hex'));
      const line = new Promise<string>((resolve) => r.lines.once('line', resolve));
      r.child.stdin.write(`${JSON.stringify({ listen_ms: listenMs, frames })}\n`);
      return { mac, ...parseAskOutput(await this.within(r, line, listenMs + 10_000, what)) };
    });
    this.queue = round.catch(() => undefined);
    return round;
  }

  /** Ends the process (its stdin closes; it exits after the round in flight). */
  close(): void {
    this.running?.child.stdin.end();
    this.running = undefined;
  }

  private stop(r: Running): void {
    if (this.running === r) this.running = undefined;
    r.child.kill('SIGKILL');
  }

  /** Whether `r` still lives in the namespace named `netns` (always, without one). */
  private inNamespace(r: Running): boolean {
    if (this.netns === undefined || r.child.pid === undefined) return true;
    try {
      const now = statSync(`/run/netns/${this.netns}`).ino;
      return readlinkSync(`/proc/${r.child.pid}/ns/net`) === `net:[${now}]`;
    } catch {
      return false;
    }
  }

  private start(): Running {
    const [file, ...args] = [...this.launch, PYTHON, ASK_SCRIPT, this.iface];
    const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout });
    // A first line that is not ask.py's MAC line leaves the MAC empty: the round then fails
    // building its frames, naming the MAC, instead of throwing inside this listener.
    const mac = new Promise<string>((resolve) =>
      lines.once('line', (l) => {
        try {
          resolve(String((JSON.parse(l) as { mac?: unknown }).mac ?? ''));
        } catch {
          resolve('');
        }
      }),
    );
    const r: Running = { child, lines, mac, stderr: '' };
    child.stderr.on('data', (d: Buffer) => (r.stderr = (r.stderr + d.toString()).slice(-2000)));
    child.on('error', (e) => (r.stderr += `\n${e.message}`));
    // A round written to a process that just died fails by its 'close', not by an EPIPE nobody hears.
    child.stdin.on('error', () => undefined);
    child.once('close', () => {
      if (this.running === r) this.running = undefined;
    });
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr])
      (s as unknown as { unref?: () => void }).unref?.();
    this.running = r;
    return r;
  }

  /** `p`, unless the process ends first or `ms` pass: then an error naming `what` and its stderr. */
  private within<T>(r: Running, p: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (why: string) => {
        cleanup();
        this.stop(r);
        reject(
          new Error(
            `wire asker on ${this.iface}: ${why} while waiting for ${what}; stderr: ${r.stderr.trim() || '(none)'}`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`no answer within ${ms} ms`), ms);
      // 'close', not 'exit': by then its stderr has all been read, for the message.
      const onClose = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`ended (${signal ?? `exit ${code}`})`);
      const cleanup = () => {
        clearTimeout(timer);
        r.child.off('close', onClose);
      };
      if (r.child.exitCode !== null || r.child.signalCode !== null) return fail('had ended');
      r.child.once('close', onClose);
      p.then(
        (v) => {
          cleanup();
          resolve(v);
        },
        (e: unknown) => {
          cleanup();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}

// What the client namespace sees of the data network: who answers ARP/NDP for an address, its
// neighbour table, and HTTP to a VIP. Shared by the process lab and the kubelet lab.
import { listLinks, nsExec } from './netns.js';
import { run } from './run.js';
import { CLIENT_IP, CLIENT_IP6, CLIENT_NS, DATA_IF, LAB_NODES } from './topology.js';
import { WireAsker } from './wire/owners.js';

export interface CurlResult {
  readonly ok: boolean;
  readonly status: number;
  readonly body: string;
  readonly error: string;
}

/** What a `clientArping`/`clientNdisc` saw: the distinct MACs that answered (lower case). */
export interface ArpingResult {
  readonly macs: string[];
  readonly raw: string;
}

export interface Neighbour {
  readonly mac: string | undefined;
  readonly state: string[];
}

/** How `clientArping` asks. */
export interface ArpingOptions {
  /** Requests to send (default 1). */
  readonly count?: number;
  /** How long each request may wait for answers (default 1000 ms). */
  readonly timeoutMs?: number;
  /**
   * Send the requests this far apart and stop once `count` answers arrived, instead of one a
   * second (arping's pace) until the whole time-out passed: a probe of an answered address takes
   * about one interval, of a silent one `intervalMs * (count - 1) + timeoutMs`. Two MACs answering
   * one request are both seen either way. NDP (ndisc6) then waits `intervalMs` per solicitation.
   */
  readonly intervalMs?: number;
  /**
   * One request, then listen this long for every answer (count, timeoutMs and intervalMs are
   * ignored), ending early once a second answer arrived: the cheapest probe that still sees two
   * MACs answering, since both answer the same request. Answered and silent addresses cost the
   * same, so a batch of probes costs one listen.
   */
  readonly listenMs?: number;
}

/**
 * Asks "who has ip?" from the client namespace: ARP (arping) for IPv4, Neighbor Solicitation
 * (ndisc6) for IPv6. Returns every distinct MAC that answered.
 */
export async function clientArping(ip: string, o: ArpingOptions = {}): Promise<ArpingResult> {
  const count = o.listenMs === undefined ? (o.count ?? 1) : 1;
  const timeoutMs = o.listenMs ?? o.timeoutMs ?? 1_000;
  if (ip.includes(':')) {
    const waitMs = o.listenMs ?? o.intervalMs ?? timeoutMs;
    const r = await nsExec(
      CLIENT_NS,
      ['ndisc6', '-m', '-n', '-r', String(count), '-w', String(waitMs), ip, DATA_IF],
      {
        timeoutMs: waitMs * count + 5_000,
      },
    );
    const macs = [...r.stdout.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) =>
      m[1]!.toLowerCase(),
    );
    return { macs: [...new Set(macs)], raw: r.stdout + r.stderr };
  }
  let pace: string[];
  let deadlineMs: number;
  if (o.listenMs !== undefined) {
    deadlineMs = o.listenMs;
    pace = ['-C', '2', '-w', String(deadlineMs / 1000)];
  } else if (o.intervalMs === undefined) {
    // arping's own pace: a request a second until the deadline.
    const seconds = Math.max(1, Math.ceil((timeoutMs * count) / 1000));
    pace = ['-w', String(seconds)];
    deadlineMs = seconds * 1000;
  } else {
    deadlineMs = o.intervalMs * (count - 1) + timeoutMs;
    pace = ['-C', String(count), '-W', String(o.intervalMs / 1000), '-w', String(deadlineMs / 1000)];
  }
  const r = await nsExec(CLIENT_NS, ['arping', '-c', String(count), ...pace, '-I', DATA_IF, ip], {
    timeoutMs: deadlineMs + 5_000,
  });
  const macs = [...r.stdout.matchAll(/bytes from ([0-9a-fA-F:]{17}) /g)].map((m) => m[1]!.toLowerCase());
  return { macs: [...new Set(macs)], raw: r.stdout + r.stderr };
}

/** The client's long-lived asker: a lab's teardown ends it, and the next round starts another. */
const clientAsker = new WireAsker(['ip', 'netns', 'exec', CLIENT_NS], DATA_IF, CLIENT_NS);

/**
 * Who answers for each of `ips`, in one round from the client namespace: one ARP request or
 * Neighbor Solicitation per address, all sent at once, then every answer within `listenMs`
 * (wire/owners.ts). The distinct MACs per address (lower case, sorted); [] for a silent one.
 */
export function clientOwners(ips: readonly string[], listenMs: number): Promise<Map<string, string[]>> {
  return clientAsker.owners(ips, listenMs, { ipv4: CLIENT_IP, ipv6: CLIENT_IP6 });
}

/** The client's neighbour-table entry for ip (MAC undefined when there is none or it is INCOMPLETE/FAILED). */
export async function clientNeighbour(ip: string): Promise<Neighbour> {
  const r = await run(['ip', '-n', CLIENT_NS, '-j', 'neigh', 'show', 'to', ip, 'dev', DATA_IF]);
  const entries = JSON.parse(r.stdout.trim() || '[]') as { lladdr?: string; state?: string[] }[];
  const e = entries[0];
  return { mac: e?.lladdr?.toLowerCase(), state: e?.state ?? [] };
}

/** Forgets the client's neighbour entry for ip (or all), so the next packet asks again. */
export async function flushClientNeighbours(ip?: string): Promise<void> {
  await run(['ip', '-n', CLIENT_NS, 'neigh', 'flush', 'dev', DATA_IF, ...(ip ? ['to', ip] : [])]);
}

/** An HTTP GET from the client namespace (the backends answer with their node's name). */
export async function clientCurl(url: string, o: { timeoutMs?: number } = {}): Promise<CurlResult> {
  const timeoutMs = o.timeoutMs ?? 3_000;
  const r = await nsExec(
    CLIENT_NS,
    ['curl', '-sS', '-g', '--max-time', String(timeoutMs / 1000), '-o', '-', '-w', '\n%{http_code}', url],
    { timeoutMs: timeoutMs + 5_000 },
  );
  const lines = r.stdout.split('\n');
  const status = Number(lines.pop() ?? '0');
  return {
    ok: r.code === 0 && status >= 200 && status < 300,
    status,
    body: lines.join('\n'),
    error: r.stderr.trim(),
  };
}

/** data0 MAC of each lab node, read from the namespaces. */
export async function readNodeMacs(): Promise<Map<string, string>> {
  const macs = new Map<string, string>();
  for (const n of LAB_NODES) {
    const link = (await listLinks(n.name)).find((l) => l.ifname === DATA_IF);
    if (link?.address) macs.set(n.name, link.address.toLowerCase());
  }
  return macs;
}

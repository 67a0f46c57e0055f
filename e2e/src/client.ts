// What the client namespace sees of the data network: who answers ARP/NDP for an address, its
// neighbour table, and HTTP to a VIP. Shared by the process lab and the kubelet lab.
import { listLinks, nsExec } from './netns.js';
import { run } from './run.js';
import { CLIENT_NS, DATA_IF, LAB_NODES } from './topology.js';

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

/**
 * Asks "who has ip?" from the client namespace: ARP (arping) for IPv4, Neighbor Solicitation
 * (ndisc6) for IPv6. Returns every distinct MAC that answered.
 */
export async function clientArping(
  ip: string,
  o: { count?: number; timeoutMs?: number } = {},
): Promise<ArpingResult> {
  const count = o.count ?? 1;
  const timeoutMs = o.timeoutMs ?? 1_000;
  if (ip.includes(':')) {
    const r = await nsExec(
      CLIENT_NS,
      ['ndisc6', '-m', '-n', '-r', String(count), '-w', String(timeoutMs), ip, DATA_IF],
      {
        timeoutMs: timeoutMs * count + 5_000,
      },
    );
    const macs = [...r.stdout.matchAll(/Target link-layer address:\s*([0-9A-Fa-f:]{17})/g)].map((m) =>
      m[1]!.toLowerCase(),
    );
    return { macs: [...new Set(macs)], raw: r.stdout + r.stderr };
  }
  const seconds = Math.max(1, Math.ceil((timeoutMs * count) / 1000));
  const r = await nsExec(
    CLIENT_NS,
    ['arping', '-c', String(count), '-w', String(seconds), '-I', DATA_IF, ip],
    {
      timeoutMs: seconds * 1000 + 5_000,
    },
  );
  const macs = [...r.stdout.matchAll(/bytes from ([0-9a-fA-F:]{17}) /g)].map((m) => m[1]!.toLowerCase());
  return { macs: [...new Set(macs)], raw: r.stdout + r.stderr };
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

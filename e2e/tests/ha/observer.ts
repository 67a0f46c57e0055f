// What the HA test sees of the cluster, timed on arrival: a watch on the test's Services and one on
// the controller's Lease, both as admin, so every ingress change and every leadership change is
// recorded with the moment it reached us (no polling gaps to hide a short-lived address).
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';

interface KubeconfigJson {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string } }[];
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A watch stream on `path` (a list URL); `onEvent` gets each event and its arrival time. */
export function watchPath<T>(
  kubeconfig: string,
  path: string,
  onEvent: (e: WatchEvent<T>, atMs: number) => void,
  onEnd: (why: string) => void,
): { stop(): void } {
  const kc = JSON.parse(readFileSync(kubeconfig, 'utf8')) as KubeconfigJson;
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]!.user;
  const url = new URL(path, cluster.server);
  url.searchParams.set('watch', '1');
  url.searchParams.set('timeoutSeconds', '600');
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64') : undefined);
  let stopped = false;
  let buffer = '';
  const req: ClientRequest = request(
    {
      host: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      ca: b64(cluster['certificate-authority-data']),
      cert: b64(user['client-certificate-data']),
      key: b64(user['client-key-data']),
      headers: { accept: 'application/json' },
    },
    (res) => {
      if (res.statusCode !== 200) onEnd(`watch ${path}: HTTP ${res.statusCode}`);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const atMs = Date.now();
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>, atMs);
        }
      });
      res.on('end', () => {
        if (!stopped) onEnd(`watch ${path} ended`);
      });
    },
  );
  req.on('error', (e) => {
    if (!stopped) onEnd(`watch ${path}: ${e.message}`);
  });
  req.end();
  return {
    stop() {
      stopped = true;
      req.destroy();
    },
  };
}

interface ServiceObject {
  metadata: { name: string; resourceVersion: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

interface LeaseObject {
  spec?: { holderIdentity?: string; acquireTime?: string };
}

/** One value a Service's ingress took, and when we saw it. */
export interface IngressChange {
  readonly ips: readonly string[];
  readonly atMs: number;
}

/** One holder the Lease had, when it was acquired (the holder's own clock) and when we saw it. */
export interface LeaseHolder {
  readonly holder: string;
  readonly acquiredMs: number;
  readonly atMs: number;
}

const ingressOf = (s: ServiceObject): string[] =>
  (s.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])).sort();

/**
 * Every ingress value each Service of `namespace` took (in order) and every Lease holder. Starts
 * both watches at resourceVersions listed first, so nothing that happens afterwards is missed.
 */
export class ClusterObserver {
  /** Service name -> the ingress values it took, in order (consecutive duplicates dropped). */
  readonly ingress = new Map<string, IngressChange[]>();
  readonly holders: LeaseHolder[] = [];
  /** Why a watch ended before `stop()`: an observation gap the test must not ignore. */
  readonly errors: string[] = [];
  private readonly watches: { stop(): void }[] = [];

  private constructor(
    private readonly kubeconfig: string,
    private readonly namespace: string,
  ) {}

  static async start(
    kubeconfig: string,
    namespace: string,
    lease: { namespace: string; name: string },
    list: (path: string) => Promise<{ metadata: { resourceVersion: string } }>,
  ): Promise<ClusterObserver> {
    const o = new ClusterObserver(kubeconfig, namespace);
    const svcPath = `/api/v1/namespaces/${namespace}/services`;
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${lease.namespace}/leases`;
    const svcRv = (await list(svcPath)).metadata.resourceVersion;
    const leaseRv = (await list(leasePath)).metadata.resourceVersion;
    const end = (why: string) => o.errors.push(why);
    o.watches.push(
      watchPath<ServiceObject>(
        kubeconfig,
        `${svcPath}?resourceVersion=${svcRv}`,
        (e, atMs) => o.onService(e, atMs),
        end,
      ),
      watchPath<LeaseObject>(
        kubeconfig,
        `${leasePath}?resourceVersion=${leaseRv}&fieldSelector=metadata.name%3D${lease.name}`,
        (e, atMs) => o.onLease(e, atMs),
        end,
      ),
    );
    return o;
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  /** The ingress each Service shows now (empty when it has none). */
  current(): Map<string, readonly string[]> {
    return new Map([...this.ingress].map(([name, h]) => [name, h.at(-1)?.ips ?? []]));
  }

  /** When `name` first had an address (undefined: never). */
  firstAddressedMs(name: string): number | undefined {
    return this.ingress.get(name)?.find((c) => c.ips.length > 0)?.atMs;
  }

  private onService(e: WatchEvent<ServiceObject>, atMs: number): void {
    if (e.type === 'ERROR') {
      this.errors.push(`service watch in ${this.namespace}: ${JSON.stringify(e.object)}`);
      return;
    }
    if (e.type === 'BOOKMARK' || e.type === 'DELETED') return;
    const name = e.object.metadata.name;
    const ips = ingressOf(e.object);
    const history = this.ingress.get(name) ?? [];
    const last = history.at(-1);
    if (!last || last.ips.join(',') !== ips.join(',')) history.push({ ips, atMs });
    this.ingress.set(name, history);
  }

  private onLease(e: WatchEvent<LeaseObject>, atMs: number): void {
    if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
    const holder = e.object.spec?.holderIdentity ?? '';
    if (this.holders.at(-1)?.holder === holder) return;
    const acquired = e.object.spec?.acquireTime;
    this.holders.push({ holder, acquiredMs: acquired ? Date.parse(acquired) : atMs, atMs });
  }

  /** For failure messages: what the watches saw. */
  describe(): string {
    const svc = [...this.ingress]
      .map(([n, h]) => `${n}: ${h.map((c) => `[${c.ips.join(',')}]@${c.atMs}`).join(' -> ')}`)
      .join('\n');
    const leases = this.holders.map(
      (h) => `${h.holder || '(released)'} acquired ${h.acquiredMs} seen ${h.atMs}`,
    );
    return `watch errors: ${this.errors.join('; ') || 'none'}\nlease holders:\n${leases.join('\n')}\nservices:\n${svc}`;
  }
}

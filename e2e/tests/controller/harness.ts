// The controller e2e harness: the real controller binary as its ServiceAccount against the real
// API server, plus kubectl helpers that show what they saw when an expectation fails.
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import {
  componentRunning,
  controllerName,
  freePort,
  logs,
  startController,
  stopComponent,
} from '../../src/components.js';
import type { ControlPlane } from '../../src/control-plane.js';
import { waitFor } from '../../src/wait-for.js';

export interface Svc {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    resourceVersion: string;
  };
  spec: { type: string; ipFamilies?: string[]; ports?: { port: number; protocol?: string }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export interface KEvent {
  reason: string;
  message: string;
  type: string;
  count?: number;
  source?: { component?: string };
  involvedObject: { kind: string; name: string; namespace?: string };
}

export interface PoolObject {
  metadata: { name: string };
  spec: { addresses: string[] };
  status?: { assignedIPv4?: number; assignedIPv6?: number; availableIPv4?: number; availableIPv6?: number };
}

export const ips = (s: Svc | undefined): string[] =>
  (s?.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));

export class ControllerHarness {
  metricsPort = 0;

  constructor(
    readonly cp: ControlPlane,
    readonly dir: string,
    readonly ns: string,
  ) {}

  async start(): Promise<void> {
    this.metricsPort = await freePort();
    const r = await startController(this.cp, this.dir, {
      controller: { metricsPort: this.metricsPort },
      logLevel: 'debug',
    });
    if (!r.ok) throw new Error(r.error);
    // Ready = leader, caches synced, assignments restored.
    await waitFor(
      'the controller to report ready (/readyz) as leader',
      async () => {
        if (!componentRunning(this.dir, controllerName))
          return { done: false, observed: `not running; log:\n${logs(this.dir, controllerName, 30)}` };
        const metrics = await this.metrics().catch((e: unknown) => String(e));
        const ready = await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`).then(
          (x) => x.status,
          (e: unknown) => String(e),
        );
        return ready === 200 && metrics.includes('metallb_k8s_client_config_loaded_bool 1')
          ? { done: true, value: undefined }
          : { done: false, observed: { ready } };
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
  }

  async stop(): Promise<void> {
    await stopComponent(this.dir, controllerName, 'SIGTERM');
  }

  async metrics(): Promise<string> {
    const r = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return r.text();
  }

  async metric(name: string, pool: string): Promise<number | undefined> {
    const line = (await this.metrics()).split('\n').find((l) => l.startsWith(`${name}{pool="${pool}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.cp.kubectlOk([...args, '-o', 'json'])) as T;
  }

  async apply(objects: unknown[]): Promise<void> {
    await this.cp.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    });
  }

  async service(name: string): Promise<Svc | undefined> {
    const r = await this.cp.kubectl(['-n', this.ns, 'get', 'service', name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Svc) : undefined;
  }

  async services(): Promise<Svc[]> {
    return (await this.json<{ items: Svc[] }>(['-n', this.ns, 'get', 'services'])).items;
  }

  async pool(name: string, resource = 'ipaddresspool'): Promise<PoolObject> {
    return this.json<PoolObject>(['-n', INSTALL_NAMESPACE, 'get', resource, name]);
  }

  /** The same harness looking at services and events of another namespace (same controller). */
  forNamespace(ns: string): ControllerHarness {
    const other = new ControllerHarness(this.cp, this.dir, ns);
    other.metricsPort = this.metricsPort;
    return other;
  }

  /** Waits until the pool's status carries exactly these counts. */
  async waitForPool(
    name: string,
    want: Required<NonNullable<PoolObject['status']>>,
    resource = 'ipaddresspool',
    timeoutMs = 15_000,
  ): Promise<void> {
    await waitFor(
      `${resource} ${name} status ${JSON.stringify(want)}`,
      async () => {
        const s = (await this.pool(name, resource)).status ?? {};
        const got = {
          assignedIPv4: s.assignedIPv4,
          availableIPv4: s.availableIPv4,
          assignedIPv6: s.assignedIPv6,
          availableIPv6: s.availableIPv6,
        };
        const same = (Object.keys(want) as (keyof typeof want)[]).every((k) => got[k] === want[k]);
        return same ? { done: true, value: undefined } : { done: false, observed: got };
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  async events(name?: string, namespace = this.ns): Promise<KEvent[]> {
    const selector = name ? ['--field-selector', `involvedObject.name=${name}`] : [];
    return (await this.json<{ items: KEvent[] }>(['-n', namespace, 'get', 'events', ...selector])).items;
  }

  /** Waits until the service's ingress satisfies `ok`, returning the addresses. */
  async waitIngress(
    name: string,
    ok: (ips: string[], s: Svc) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<string[]> {
    return waitFor(
      `service ${this.ns}/${name}: ${what}`,
      async () => {
        const s = await this.service(name);
        const now = ips(s);
        return s && ok(now, s)
          ? { done: true, value: now }
          : { done: false, observed: { ingress: now, annotations: s?.metadata.annotations } };
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  async waitEvent(
    name: string,
    reason: string,
    matches: (e: KEvent) => boolean = () => true,
    timeoutMs = 20_000,
  ): Promise<KEvent> {
    return waitFor(
      `a ${reason} event on ${this.ns}/${name}`,
      async () => {
        const events = await this.events(name);
        const e = events.find((x) => x.reason === reason && matches(x));
        return e
          ? { done: true, value: e }
          : { done: false, observed: events.map((x) => `${x.reason}: ${x.message}`) };
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Everything a failing test should print: services, events, pools and the controller log. */
  async dump(): Promise<string> {
    const parts: string[] = [];
    const grab = async (title: string, args: string[]) => {
      const r = await this.cp.kubectl(args);
      parts.push(`--- ${title} ---\n${r.code === 0 ? r.stdout : r.stderr}`);
    };
    await grab('services', [
      '-n',
      this.ns,
      'get',
      'services',
      '-o',
      'custom-columns=NAME:.metadata.name,TYPE:.spec.type,INGRESS:.status.loadBalancer.ingress[*].ip,POOL:.metadata.annotations.metallb\\.io/ip-allocated-from-pool,SHARE:.metadata.annotations.metallb\\.io/allow-shared-ip',
    ]);
    await grab('service events', [
      '-n',
      this.ns,
      'get',
      'events',
      '-o',
      'custom-columns=OBJECT:.involvedObject.name,TYPE:.type,REASON:.reason,COUNT:.count,MESSAGE:.message',
    ]);
    await grab('pools', ['-n', INSTALL_NAMESPACE, 'get', 'ipaddresspools', '-o', 'wide']);
    await grab('pool events', [
      '-n',
      INSTALL_NAMESPACE,
      'get',
      'events',
      '-o',
      'custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message',
    ]);
    parts.push(`--- controller log (tail) ---\n${logs(this.dir, controllerName, 80)}`);
    return parts.join('\n');
  }

  /** Runs a step; on failure, the error carries what the cluster and the controller showed. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const dump = await this.dump().catch((d: unknown) => `dump failed: ${String(d)}`);
      throw new Error(
        `step "${name}" failed: ${e instanceof Error ? e.message : String(e)}\n\n--- what the test saw ---\n${dump}`,
      );
    }
  }
}

export function lbService(
  namespace: string,
  name: string,
  o: {
    ports?: number[];
    annotations?: Record<string, string>;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
  } = {},
): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, annotations: o.annotations ?? {} },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: (o.ports ?? [80]).map((port) => ({ name: `p${port}`, port, targetPort: 8080, protocol: 'TCP' })),
      ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
      ...(o.ipFamilyPolicy ? { ipFamilyPolicy: o.ipFamilyPolicy } : {}),
    },
  };
}

export function ipPool(name: string, addresses: string[], autoAssign = true): unknown {
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: INSTALL_NAMESPACE },
    spec: { addresses, autoAssign },
  };
}

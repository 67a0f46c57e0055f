// Performs the soak's operations against the lab: Services, pools and advertisements through the
// API server (server-side apply as field manager `soak`), chaos through the lab's process and
// network handles. Every component the soak stops it starts again within the same operation.
import { hostname } from 'node:os';
import { LEASES } from '@metallb-ts/manifests';
import { INSTALL_NAMESPACE } from '../src/cluster-setup.js';
import {
  componentRunning,
  controllerName,
  freePort,
  logs,
  startController,
  startSpeaker,
  stopComponent,
  type ComponentOptions,
} from '../src/components.js';
import type { Lab } from '../src/lab.js';
import { waitFor, sleep } from '../src/wait-for.js';
import type { SoakApi } from './api.js';
import {
  SOAK_NAMESPACE,
  SOAK_SELECTOR,
  type ModelAdvert,
  type ModelPool,
  type ModelService,
} from './model.js';
import type { Chaos, Op } from './ops.js';

const POOLS = `/apis/metallb.io/v1beta1/namespaces/${INSTALL_NAMESPACE}/ipaddresspools`;
const ADVERTS = `/apis/metallb.io/v1beta1/namespaces/${INSTALL_NAMESPACE}/l2advertisements`;
const SERVICES = `/api/v1/namespaces/${SOAK_NAMESPACE}/services`;
const CONTROLLER_LEASE = `/apis/coordination.k8s.io/v1/namespaces/${INSTALL_NAMESPACE}/leases/${LEASES.controller}`;

export interface OpResult {
  /** The API server refused the op: its message. */
  readonly refused?: string;
  /** Addresses that went unanswered during a control-plane outage (see `monitorWithdrawals`). */
  readonly withdrawn?: readonly string[];
  /** How long the chaos took (stop to ready), ms. */
  readonly chaosMs?: number;
}

export function serviceObject(s: ModelService): unknown {
  const annotations: Record<string, string> = {};
  if (s.pool !== undefined) annotations['metallb.io/address-pool'] = s.pool;
  if (s.requested !== undefined) annotations['metallb.io/loadBalancerIPs'] = s.requested;
  if (s.shareKey !== undefined) annotations['metallb.io/allow-shared-ip'] = s.shareKey;
  const other = s.family === 'IPv4' ? 'IPv6' : 'IPv4';
  // IPv4 is the cluster's primary family: a dual-stack IPv4 Service leaves ipFamilies to the
  // API server's defaulting (so going back to single stack is a plain removal of the secondary).
  const ipFamilies =
    s.policy === 'SingleStack' ? [s.family] : s.family === 'IPv6' ? [s.family, other] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: SOAK_NAMESPACE, annotations },
    spec: {
      type: s.type,
      selector: { ...SOAK_SELECTOR },
      ports: s.ports.map((port) => ({ name: `p${port}`, port, targetPort: 8080, protocol: 'TCP' })),
      ipFamilyPolicy: s.policy,
      ...(ipFamilies ? { ipFamilies } : {}),
      ...(s.type !== 'ClusterIP' ? { externalTrafficPolicy: s.etp } : {}),
      ...(s.lbClass !== undefined ? { loadBalancerClass: s.lbClass } : {}),
    },
  };
}

export function poolObject(p: ModelPool): unknown {
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: p.name, namespace: INSTALL_NAMESPACE },
    spec: { addresses: p.entries, autoAssign: p.autoAssign },
  };
}

export function advertObject(a: ModelAdvert): unknown {
  return {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: a.name, namespace: INSTALL_NAMESPACE },
    spec: a.pools === 'all' ? {} : { ipAddressPools: a.pools },
  };
}

const refusal = (status: number, body: string): string => {
  try {
    const b = JSON.parse(body) as { message?: string };
    return `${status} ${b.message ?? body}`;
  } catch {
    return `${status} ${body.slice(0, 300)}`;
  }
};

export interface DriverOptions {
  readonly lab: Lab;
  readonly api: SoakApi;
  readonly componentOptions: ComponentOptions;
  /** Addresses announced right now (probed for withdrawals during control-plane restarts). */
  readonly announced: () => readonly string[];
  readonly log: (line: string) => void;
}

export class Driver {
  constructor(private readonly o: DriverOptions) {}

  async perform(op: Op): Promise<OpResult> {
    const { api } = this.o;
    const ok = (r: { status: number; body: string }): OpResult =>
      r.status >= 200 && r.status < 300 ? {} : { refused: refusal(r.status, r.body) };
    switch (op.kind) {
      case 'service-apply': {
        const r = ok(await api.apply(`${SERVICES}/${op.service.name}`, serviceObject(op.service)));
        // A refused change leaves the Service as it was, which the model no longer describes:
        // delete it so model and cluster agree again.
        if (r.refused) await this.delete(`${SERVICES}/${op.service.name}`);
        return r;
      }
      case 'service-delete':
        await this.delete(`${SERVICES}/${op.name}`);
        return {};
      case 'pool-apply':
        return ok(await api.apply(`${POOLS}/${op.pool.name}`, poolObject(op.pool)));
      case 'pool-delete':
        await this.delete(`${POOLS}/${op.name}`);
        return {};
      case 'advert-apply':
        return ok(await api.apply(`${ADVERTS}/${op.advert.name}`, advertObject(op.advert)));
      case 'advert-delete':
        await this.delete(`${ADVERTS}/${op.name}`);
        return {};
      case 'chaos':
        return this.chaos(op.chaos);
    }
  }

  private async delete(path: string): Promise<void> {
    const r = await this.o.api.call('DELETE', path);
    if (r.status !== 200 && r.status !== 202 && r.status !== 404)
      throw new Error(`DELETE ${path}: ${refusal(r.status, r.body)}`);
  }

  private async chaos(c: Chaos): Promise<OpResult> {
    const { lab } = this.o;
    const t0 = Date.now();
    switch (c.kind) {
      case 'controller-restart':
        await stopComponent(lab.dir, controllerName, c.signal);
        await this.startController();
        return { chaosMs: Date.now() - t0 };
      case 'speaker-restart': {
        await lab.killSpeaker(c.node, c.signal);
        const r = await startSpeaker(lab.cp, lab.dir, c.node, this.o.componentOptions);
        if (!r.ok) throw new Error(`speaker ${c.node} did not start: ${r.error}`);
        return { chaosMs: Date.now() - t0 };
      }
      case 'link-flap':
        await lab.setDataLink(c.node, false);
        await sleep(c.downMs);
        await lab.setDataLink(c.node, true);
        return { chaosMs: Date.now() - t0 };
      case 'apiserver-restart':
        return this.duringOutage(() => lab.cp.restartApiServer());
      case 'etcd-restart':
        return this.duringOutage(() => lab.cp.restartEtcd());
    }
  }

  /**
   * Starts the controller and waits (bounded) until it leads (the Lease names it) and is ready.
   * /readyz alone says nothing here: a replica that does not lead is ready, and after a SIGKILL
   * the new process leads only once the dead one's Lease has lapsed; operations performed before
   * that would take effect a step later, blamed on that step.
   */
  async startController(): Promise<void> {
    const { lab, api } = this.o;
    const metricsPort = await freePort();
    const r = await startController(lab.cp, lab.dir, {
      ...this.o.componentOptions,
      controller: { ...this.o.componentOptions.controller, metricsPort },
    });
    if (!r.ok) throw new Error(`controller did not start: ${r.error}`);
    // The controller's Lease identity: its pod name, or host name and PID (see runComponent).
    const identity = this.o.componentOptions.controller?.podName || `${hostname()}-${r.value.pid}`;
    await waitFor(
      `the restarted controller (${identity}) to lead and report ready (/readyz)`,
      async () => {
        if (!componentRunning(lab.dir, controllerName))
          throw new Error(`controller exited; log:\n${logs(lab.dir, controllerName, 30)}`);
        const lease = await api
          .getJson<{ spec?: { holderIdentity?: string } }>(CONTROLLER_LEASE)
          .then((l) => l.spec?.holderIdentity ?? 'nobody')
          .catch((e: unknown) => `unreadable: ${String(e)}`);
        const status = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
          (x) => x.status,
          (e: unknown) => String(e),
        );
        return lease === identity && status === 200
          ? { done: true, value: undefined }
          : { done: false, observed: { lease, readyz: status } };
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  /**
   * Runs a control-plane restart while probing announced addresses from the client: an address
   * that goes unanswered twice in a row was withdrawn although its data path stayed healthy.
   */
  private async duringOutage(restart: () => Promise<void>): Promise<OpResult> {
    const ips = this.o.announced().slice(0, 6);
    const t0 = Date.now();
    let done = false;
    const misses = new Map<string, number>();
    const withdrawn = new Set<string>();
    const watch = Promise.all(
      ips.map(async (ip) => {
        while (!done) {
          const r = await this.o.lab.clientArping(ip, { count: 1, timeoutMs: 1_000 });
          const m = r.macs.length === 0 ? (misses.get(ip) ?? 0) + 1 : 0;
          misses.set(ip, m);
          if (m >= 2) withdrawn.add(ip);
        }
      }),
    );
    try {
      await restart();
      const chaosMs = Date.now() - t0;
      // Watch a little longer: a fenced speaker shows only once its lease has lapsed.
      await sleep(4_000);
      return { chaosMs, withdrawn: [...withdrawn].sort() };
    } finally {
      done = true;
      await watch;
    }
  }
}

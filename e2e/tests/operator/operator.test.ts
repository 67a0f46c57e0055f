import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { APP_NAME, COMPONENTS, LABELS, LEASES, OPERATOR_FINALIZER, WEBHOOK } from '@metallb-ts/manifests';
import { INSTALL_NAMESPACE } from '../../src/cluster-setup.js';
import {
  logFile,
  logs,
  operatorName,
  startOperator,
  stopComponent,
  type StartResult,
} from '../../src/components.js';
import { labControlPlane, type ControlPlane } from '../../src/control-plane.js';
import { restoreLabRbac, setMetalLBLogLevel, startLabOperator } from '../../src/operator-lab.js';
import { waitFor } from '../../src/wait-for.js';

/*
 * The real operator binary, as its own ServiceAccount with the rendered operator RBAC, against
 * the real API server and kube-controller-manager (garbage collector, deployment, replicaset and
 * daemonset controllers; no kubelets, so pods never run: readiness is written into pod status as
 * a kubelet would). Each wait prints what it saw and the operator's log when it times out.
 */

const NS = INSTALL_NAMESPACE;
const VERSION = 'e2e';
const NODE = 'operator-e2e-node';
const STANDBY = `${operatorName}-standby`;
/** The uid of MetalLB/metallb once created. */
let uid = '';
let cp: ControlPlane;
let dir: string;

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    generation?: number;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface KEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; uid?: string };
}

const json = async <T>(args: string[]): Promise<T> =>
  JSON.parse(await cp.kubectlOk([...args, '-o', 'json'])) as T;
const maybe = async <T>(args: string[]): Promise<T | undefined> => {
  const r = await cp.kubectl([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
};
const apply = (objects: unknown[]) =>
  cp.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
const metallb = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'MetalLB',
  metadata: { name, namespace: NS },
  spec,
});
const conditions = async (name: string): Promise<Cond[]> =>
  ((await maybe<Obj>(['-n', NS, 'get', 'metallb', name]))?.status?.['conditions'] as Cond[] | undefined) ??
  [];
const events = async (name: string): Promise<KEvent[]> =>
  (await json<{ items: KEvent[] }>(['-n', NS, 'get', 'events'])).items.filter(
    (e) => e.involvedObject.kind === 'MetalLB' && e.involvedObject.name === name,
  );
const env = (o: Obj | undefined): Record<string, string | undefined> => {
  const containers =
    (o?.spec?.['template'] as { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } })
      ?.spec?.containers ?? [];
  return Object.fromEntries((containers[0]?.env ?? []).map((e) => [e.name, e.value]));
};

/** Every kind the operator makes, namespaced and cluster-scoped. */
const NAMESPACED = [
  'deployments',
  'daemonsets',
  'serviceaccounts',
  'services',
  'roles',
  'rolebindings',
  'secrets',
];
const CLUSTER = ['clusterroles', 'clusterrolebindings'];

/** What exists for MetalLB `name` (uid): namespaced objects it owns, cluster-scoped ones labelled for it. */
async function madeFor(name: string, uid: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of NAMESPACED) {
    const items = (await json<{ items: Obj[] }>(['-n', NS, 'get', kind])).items;
    for (const o of items)
      if ((o.metadata.ownerReferences ?? []).some((r) => r.kind === 'MetalLB' && r.uid === uid))
        out.push(`${kind}/${o.metadata.name}`);
  }
  for (const kind of CLUSTER) {
    const items = (
      await json<{ items: Obj[] }>([
        'get',
        kind,
        '-l',
        `${LABELS.ownerName}=${name},${LABELS.ownerNamespace}=${NS}`,
      ])
    ).items;
    for (const o of items) out.push(`${kind}/${o.metadata.name}`);
  }
  return out.sort();
}

const opLog = () => logs(dir, operatorName, 40);

beforeAll(async () => {
  cp = labControlPlane();
  dir = cp.dir;
  // Its own ServiceAccount and RBAC as its install applies them, and a stand-in for the chart's
  // Deployment, which it makes the owner of its Lease and webhook certificate Secret.
  await startLabOperator(cp, dir, VERSION);
}, 120_000);

afterAll(async () => {
  if (!cp) return;
  // With the operator still running, so it removes the cluster-scoped objects too.
  await cp.kubectl(['-n', NS, 'delete', 'metallbs.metallb.io', '--all', '--wait=true', '--timeout=60s']);
  if (uid)
    await waitFor(
      'nothing left of MetalLB/metallb',
      async () => {
        const left = await madeFor('metallb', uid);
        return left.length === 0 ? { done: true, value: undefined } : { done: false, observed: left };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  await stopComponent(dir, operatorName, 'SIGTERM');
  await stopComponent(dir, STANDBY, 'SIGTERM');
  // The webhook certificate the operator made (it is not owned by MetalLB/metallb), if a test
  // failed before its owner went.
  await cp.kubectl(['-n', NS, 'delete', 'secret', WEBHOOK.certSecret, '--ignore-not-found']);
  await cp.kubectl(['-n', NS, 'delete', 'deployment', COMPONENTS.operator.workload, '--ignore-not-found']);
  await cp.kubectl(['delete', 'node', NODE, '--ignore-not-found']);
  // The operator took over (and so removed) the lab's controller and speaker accounts and RBAC,
  // which carry the same names: the tests after this one need them back.
  await restoreLabRbac(cp, VERSION);
}, 150_000);

describe('operator against the real API server', () => {
  it('MetalLB/metallb becomes the Deployment, DaemonSet, ServiceAccounts and RBAC, owned by it', async () => {
    await apply([metallb('metallb')]);
    uid = (await json<Obj>(['-n', NS, 'get', 'metallb', 'metallb'])).metadata.uid;
    const want = [
      `clusterrolebindings/${COMPONENTS.controller.clusterRole}`,
      `clusterrolebindings/${COMPONENTS.speaker.clusterRole}`,
      `clusterroles/${COMPONENTS.controller.clusterRole}`,
      `clusterroles/${COMPONENTS.speaker.clusterRole}`,
      `daemonsets/${COMPONENTS.speaker.workload}`,
      `deployments/${COMPONENTS.controller.workload}`,
      `rolebindings/${COMPONENTS.controller.role}`,
      `rolebindings/${COMPONENTS.speaker.role}`,
      `roles/${COMPONENTS.controller.role}`,
      `roles/${COMPONENTS.speaker.role}`,
      `serviceaccounts/${COMPONENTS.controller.serviceAccount}`,
      `serviceaccounts/${COMPONENTS.speaker.serviceAccount}`,
      `services/${COMPONENTS.controller.metricsService}`,
      `services/${COMPONENTS.speaker.metricsService}`,
    ].sort();
    await waitFor(
      'every component object, owned by MetalLB/metallb',
      async () => {
        const got = await madeFor('metallb', uid);
        return want.every((w) => got.includes(w))
          ? { done: true, value: undefined }
          : { done: false, observed: { got, missing: want.filter((w) => !got.includes(w)), log: opLog() } };
      },
      { timeoutMs: 30_000 },
    );
    const ds = await json<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
    expect(env(ds)['LOG_LEVEL']).toBe('info');
    expect(
      (ds.spec?.['template'] as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image,
    ).toBe('spk:e2e');
    expect(ds.metadata.labels?.[LABELS.name]).toBe(APP_NAME);
    await waitFor('conditions on MetalLB/metallb', async () => {
      const c = await conditions('metallb');
      return c.length === 4 ? { done: true, value: c } : { done: false, observed: c };
    });
    const degraded = (await conditions('metallb')).find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'False', observedGeneration: 1 });
  }, 60_000);

  it('a second MetalLB is Degraded (IncorrectMetalLBResourceName, Warning event) and deploys nothing', async () => {
    await apply([metallb('second')]);
    const second = await json<Obj>(['-n', NS, 'get', 'metallb', 'second']);
    await waitFor('Degraded=True IncorrectMetalLBResourceName on second', async () => {
      const d = (await conditions('second')).find((c) => c.type === 'Degraded');
      return d?.status === 'True' && d.reason === 'IncorrectMetalLBResourceName'
        ? { done: true, value: d }
        : { done: false, observed: { d, log: opLog() } };
    });
    await waitFor('a Warning event on second', async () => {
      const e = await events('second');
      return e.some((x) => x.type === 'Warning' && x.reason === 'IncorrectMetalLBResourceName')
        ? { done: true, value: undefined }
        : { done: false, observed: e };
    });
    expect(await madeFor('second', second.metadata.uid)).toEqual([]);
    // Still there: reported, never deleted.
    expect(await maybe<Obj>(['-n', NS, 'get', 'metallb', 'second'])).toBeDefined();
    await cp.kubectlOk(['-n', NS, 'delete', 'metallb', 'second', '--wait=true']);
  }, 60_000);

  it('Available once the pods report ready (as a kubelet would) and both workloads are rolled out', async () => {
    const markReady = async () => {
      const pods = (
        await json<{ items: Obj[] }>(['-n', NS, 'get', 'pods', '-l', `${LABELS.name}=${APP_NAME}`])
      ).items;
      for (const p of pods) {
        const ready = ((p.status?.['conditions'] as Cond[] | undefined) ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        );
        if (ready) continue;
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        await cp.kubectl([
          '-n',
          NS,
          'patch',
          'pod',
          p.metadata.name,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({
            status: {
              phase: 'Running',
              conditions: [
                { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
                { type: 'Initialized', status: 'True', lastTransitionTime: now },
                { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
                { type: 'Ready', status: 'True', lastTransitionTime: now },
              ],
            },
          }),
        ]);
      }
      return pods.map((p) => p.metadata.name);
    };
    // One Node, so the DaemonSet wants one speaker pod (no kubelet: it stays unready until told).
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: NODE, labels: { 'kubernetes.io/os': 'linux', 'metallb-ts.lab/node': 'true' } },
      },
    ]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ready = { type: 'Ready', status: 'True', reason: 'E2E', message: 'written by the test' };
    await cp.kubectlOk([
      'patch',
      'node',
      NODE,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: { conditions: [{ ...ready, lastHeartbeatTime: now, lastTransitionTime: now }] },
      }),
    ]);
    // The API server taints a new Node not-ready; without a node lifecycle controller nobody
    // lifts it, so the test does what that controller would once the Node is Ready.
    const tainted = await cp.kubectl(['taint', 'node', NODE, 'node.kubernetes.io/not-ready:NoSchedule-']);
    const node = await json<{ spec?: { taints?: unknown[] } }>(['get', 'node', NODE]);
    expect({ taints: node.spec?.taints ?? [], untaint: tainted.code === 0 || tainted.stderr }).toEqual({
      taints: [],
      untaint: expect.anything(),
    });
    await waitFor('Progressing=True naming the speaker DaemonSet while its pod is not ready', async () => {
      const p = (await conditions('metallb')).find((x) => x.type === 'Progressing');
      if (
        p?.status === 'True' &&
        p.message.includes(`speaker DaemonSet ${NS}/${COMPONENTS.speaker.workload}: `)
      )
        return { done: true, value: p };
      const ds = await maybe<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
      return { done: false, observed: { p, daemonSet: ds?.status, log: opLog() } };
    });
    await waitFor(
      'Available=True on MetalLB/metallb',
      async () => {
        const pods = await markReady();
        const c = await conditions('metallb');
        const available = c.find((x) => x.type === 'Available');
        if (available?.status === 'True') return { done: true, value: undefined };
        const d = await maybe<Obj>(['-n', NS, 'get', 'deployment', COMPONENTS.controller.workload]);
        const ds = await maybe<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
        return {
          done: false,
          observed: { conditions: c, pods, deployment: d?.status, daemonSet: ds?.status, log: opLog() },
        };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const c = await conditions('metallb');
    const ds = await json<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1 });
    expect(c.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'False' });
    expect(c.find((x) => x.type === 'Upgradeable')).toMatchObject({ status: 'True' });
  }, 90_000);

  it('editing logLevel rolls the environment of both workloads', async () => {
    await setMetalLBLogLevel(cp, 'debug');
    await waitFor('LOG_LEVEL=debug in the Deployment and the DaemonSet', async () => {
      const d = await maybe<Obj>(['-n', NS, 'get', 'deployment', COMPONENTS.controller.workload]);
      const ds = await maybe<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
      const got = { controller: env(d)['LOG_LEVEL'], speaker: env(ds)['LOG_LEVEL'] };
      return got.controller === 'debug' && got.speaker === 'debug'
        ? { done: true, value: undefined }
        : { done: false, observed: { got, log: opLog() } };
    });
    await waitFor('conditions for generation 2', async () => {
      const c = await conditions('metallb');
      return c.every((x) => x.observedGeneration === 2) && c.length === 4
        ? { done: true, value: undefined }
        : { done: false, observed: c };
    });
  }, 60_000);

  it('a deleted DaemonSet comes back, and the repair is an event on the MetalLB resource', async () => {
    const before = await json<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
    await cp.kubectlOk(['-n', NS, 'delete', 'daemonset', COMPONENTS.speaker.workload, '--wait=true']);
    await waitFor('the DaemonSet back with a new uid', async () => {
      const now = await maybe<Obj>(['-n', NS, 'get', 'daemonset', COMPONENTS.speaker.workload]);
      return now && now.metadata.uid !== before.metadata.uid
        ? { done: true, value: undefined }
        : { done: false, observed: { uid: now?.metadata.uid, log: opLog() } };
    });
    await waitFor('a Repaired event naming the DaemonSet', async () => {
      const e = await events('metallb');
      return e.some(
        (x) =>
          x.type === 'Normal' &&
          x.reason === 'Repaired' &&
          x.message === `restored deleted DaemonSet ${NS}/${COMPONENTS.speaker.workload}`,
      )
        ? { done: true, value: undefined }
        : { done: false, observed: e.map((x) => `${x.type} ${x.reason}: ${x.message}`) };
    });
  }, 60_000);

  it('a second operator replica waits for the Lease and never applies while the first leads', async () => {
    const r = await startOperator(cp, dir, { controllerImage: 'ctl:e2e', speakerImage: 'spk:e2e' }, STANDBY);
    if (!r.ok) throw new Error(r.error);
    const leader = `${operatorName}-${process.pid}`;
    await waitFor('the standby to see the first replica as leader', async () => {
      const log = logs(dir, STANDBY, 40);
      return log.includes('"leader changed"') && log.includes(`"leader":"${leader}"`)
        ? { done: true, value: undefined }
        : { done: false, observed: log };
    });
    // Drift now is repaired by the leader alone.
    await cp.kubectlOk([
      '-n',
      NS,
      'delete',
      'serviceaccount',
      COMPONENTS.speaker.serviceAccount,
      '--wait=true',
    ]);
    await waitFor('the leader to restore the ServiceAccount', async () =>
      logs(dir, operatorName, 400).includes(
        `restored deleted ServiceAccount ${NS}/${COMPONENTS.speaker.serviceAccount}`,
      )
        ? { done: true, value: undefined }
        : { done: false, observed: opLog() },
    );
    const standby = logs(dir, STANDBY, 200);
    expect(standby).not.toContain('became leader');
    expect(standby).not.toContain('repaired drift');
    await stopComponent(dir, STANDBY, 'SIGTERM');
  }, 60_000);

  it('deleting the MetalLB resource leaves nothing it made', async () => {
    expect((await madeFor('metallb', uid)).length).toBeGreaterThan(0);
    await cp.kubectlOk(['-n', NS, 'delete', 'metallb', 'metallb', '--wait=true']);
    await waitFor(
      'no object owned by or labelled for MetalLB/metallb',
      async () => {
        const left = await madeFor('metallb', uid);
        return left.length === 0
          ? { done: true, value: undefined }
          : { done: false, observed: { left, log: opLog() } };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Nor pods or ReplicaSets of the workloads (the garbage collector follows the chain).
    await waitFor(
      'no component pods or ReplicaSets',
      async () => {
        const pods = (
          await json<{ items: Obj[] }>([
            '-n',
            NS,
            'get',
            'pods,replicasets',
            '-l',
            `${LABELS.name}=${APP_NAME}`,
          ])
        ).items
          .filter((o) => o.metadata.labels?.[LABELS.component] !== 'operator')
          .map((o) => `${o.kind}/${o.metadata.name}`);
        return pods.length === 0 ? { done: true, value: undefined } : { done: false, observed: pods };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 150_000);

  it('deleted while the operator is down: the finalizer holds it; a started operator deletes its cluster-scoped objects, then lets it go', async () => {
    await apply([metallb('metallb')]);
    uid = (await json<Obj>(['-n', NS, 'get', 'metallb', 'metallb'])).metadata.uid;
    await waitFor(
      'the cluster-scoped objects made for the new MetalLB/metallb',
      async () => {
        const got = (await madeFor('metallb', uid)).filter((o) => o.startsWith('cluster'));
        return got.length === 4
          ? { done: true, value: undefined }
          : { done: false, observed: { got, log: opLog() } };
      },
      { timeoutMs: 30_000 },
    );
    const held = await json<Obj & { metadata: { finalizers?: string[] } }>([
      '-n',
      NS,
      'get',
      'metallb',
      'metallb',
    ]);
    expect(held.metadata.finalizers).toEqual([OPERATOR_FINALIZER]);

    await stopComponent(dir, operatorName, 'SIGTERM');
    const log = logFile(dir, operatorName);
    const from = statSync(log).size;
    let restarted: StartResult = { ok: false, error: 'the operator was not started again' };
    try {
      await cp.kubectlOk(['-n', NS, 'delete', 'metallb', 'metallb', '--wait=false']);
      const stuck = await json<Obj & { metadata: { finalizers?: string[]; deletionTimestamp?: string } }>([
        '-n',
        NS,
        'get',
        'metallb',
        'metallb',
      ]);
      expect({
        deleting: stuck.metadata.deletionTimestamp !== undefined,
        finalizers: stuck.metadata.finalizers,
      }).toEqual({ deleting: true, finalizers: [OPERATOR_FINALIZER] });
      // Without an operator nothing removes them: the garbage collector waits for the owner to go.
      const before = await madeFor('metallb', uid);
      expect(before.filter((o) => o.startsWith('cluster'))).toHaveLength(4);
      expect(before.length).toBeGreaterThan(4);
    } finally {
      // Started again whatever happened, so the rest of the file (and afterAll) has its operator.
      restarted = await startOperator(cp, dir, { controllerImage: 'ctl:e2e', speakerImage: 'spk:e2e' });
    }
    if (!restarted.ok) throw new Error(restarted.error);
    /** Each poll: whether the MetalLB still exists, then which cluster-scoped objects are left. */
    const seen: { cluster: string[]; metallb: boolean }[] = [];
    await waitFor(
      'MetalLB/metallb gone and nothing it made left',
      async () => {
        // The MetalLB first: gone before an object is read means gone while it was still there.
        const exists = (await maybe<Obj>(['-n', NS, 'get', 'metallb', 'metallb'])) !== undefined;
        const left = await madeFor('metallb', uid);
        seen.push({ cluster: left.filter((o) => o.startsWith('cluster')), metallb: exists });
        return !exists && left.length === 0
          ? { done: true, value: undefined }
          : { done: false, observed: { left, metallb: exists, log: opLog() } };
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    // Never was the MetalLB resource gone while a cluster-scoped object of it was left.
    expect(seen.filter((s) => !s.metallb && s.cluster.length > 0)).toEqual([]);
    // The operator deleted them, then took its finalizer off.
    const lines = readFileSync(log)
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { msg?: string; object?: string; key?: string }];
        } catch {
          return [];
        }
      })
      .filter((l) => l.key === `${NS}/metallb`);
    const deleted = lines.filter((l) => l.msg === 'deleted an object').map((l) => l.object);
    const released = lines.findIndex((l) => l.msg === 'removed the finalizer');
    expect(deleted.filter((o) => o?.startsWith('Cluster')).sort()).toEqual(
      [
        `ClusterRole ${COMPONENTS.controller.clusterRole}`,
        `ClusterRole ${COMPONENTS.speaker.clusterRole}`,
        `ClusterRoleBinding ${COMPONENTS.controller.clusterRole}`,
        `ClusterRoleBinding ${COMPONENTS.speaker.clusterRole}`,
      ].sort(),
    );
    const lastDelete = lines.map((l) => l.msg).lastIndexOf('deleted an object');
    expect({ released: released >= 0, afterDeletes: released > lastDelete }).toEqual({
      released: true,
      afterDeletes: true,
    });
  }, 150_000);

  it("deleting the operator's Deployment (helm uninstall) garbage-collects its Lease and webhook certificate", async () => {
    const deployment = await json<Obj>(['-n', NS, 'get', 'deployment', COMPONENTS.operator.workload]);
    // Stopped first, as helm uninstall's Deployment deletion stops it: it hands its Lease back.
    await stopComponent(dir, operatorName, 'SIGTERM');
    const mine = [`lease/${LEASES.operator}`, `secret/${WEBHOOK.certSecret}`];
    for (const o of mine) {
      const obj = await json<Obj>(['-n', NS, 'get', o]);
      expect([o, obj.metadata.ownerReferences]).toEqual([
        o,
        [
          expect.objectContaining({
            kind: 'Deployment',
            name: COMPONENTS.operator.workload,
            uid: deployment.metadata.uid,
          }),
        ],
      ]);
    }
    await cp.kubectlOk(['-n', NS, 'delete', 'deployment', COMPONENTS.operator.workload]);
    await waitFor(
      `${mine.join(' and ')} removed by the garbage collector`,
      async () => {
        const r = await cp.kubectl(['-n', NS, 'get', ...mine, '--ignore-not-found', '-o', 'name']);
        const left = r.stdout.trim();
        return r.code === 0 && left === ''
          ? { done: true, value: undefined }
          : { done: false, observed: left || r.stderr };
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 90_000);
});

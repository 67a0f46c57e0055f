import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@metallb-ts/k8s-runtime';
import { until } from '@metallb-ts/k8s-runtime/testing';
import type { MetalLB } from '@metallb-ts/api';
import { OPERATOR_FINALIZER, renderComponents } from '@metallb-ts/manifests';
import {
  condition,
  deleteMetalLB,
  eventsOn,
  metallb,
  NS,
  startOperator,
  type ApplyingFakeKube,
} from './harness.js';

type Harness = ReturnType<typeof startOperator>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const env = (o: KubeObject | undefined) =>
  (o as { spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } } })
    ?.spec?.template?.spec?.containers?.[0]?.env;

const finalizers = (kube: ApplyingFakeKube, name: string): string[] =>
  kube.find<MetalLB>('MetalLB', NS, name)?.metadata.finalizers ?? [];

/** The ClusterRoles and MetalLB resources deleted so far, in the order they went. */
const deletionOrder = (kube: ApplyingFakeKube): string[] =>
  kube.events
    .filter((e) => e.type === 'DELETED' && (e.kind === 'ClusterRole' || e.kind === 'MetalLB'))
    .map((e) => `${e.kind} ${e.obj.metadata?.name}`);

/** What a test waits for the operator to have applied before it acts. */
interface Applied {
  kind: string;
  namespace?: string;
  name: string;
}
const SPEAKER_DAEMONSET: Applied = { kind: 'DaemonSet', namespace: NS, name: 'speaker' };
const SPEAKER_CLUSTER_ROLE: Applied = { kind: 'ClusterRole', name: 'metallb-ts:speaker' };

/** Puts `resource` (MetalLB/metallb unless told), starts `h`'s operator and waits until it has applied `object`. */
async function startUntilApplied(h: Harness, object: Applied, resource = metallb('metallb')): Promise<void> {
  h.kube.put(resource);
  await h.start();
  await until(
    () => h.kube.find(object.kind, object.namespace, object.name) !== undefined,
    `${object.kind} ${object.name} applied`,
  );
}

/** Reports a full rollout of both workloads, as their controllers would, and waits for Available. */
const rollOut = async (h: Harness): Promise<void> => {
  const d = h.kube.find('Deployment', NS, 'controller')!;
  h.kube.put({
    ...d,
    status: { observedGeneration: d.metadata?.generation, replicas: 1, readyReplicas: 1, updatedReplicas: 1 },
  } as KubeObject);
  const ds = h.kube.find('DaemonSet', NS, 'speaker')!;
  h.kube.put({
    ...ds,
    status: {
      observedGeneration: ds.metadata?.generation,
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 2,
      updatedNumberScheduled: 2,
    },
  } as KubeObject);
  await until(() => condition(h.kube, 'metallb', 'Available')?.status === 'True', 'Available');
};

describe('Operator on FakeKube', () => {
  it('with the real renderer: every object of renderComponents applied, owned or labelled for MetalLB/metallb', async () => {
    h = startOperator({ render: renderComponents });
    h.kube.put(metallb('metallb', { spec: { logLevel: 'warn' } }));
    await h.start();
    const want = renderComponents({
      namespace: NS,
      spec: { logLevel: 'warn' },
      images: { controller: 'ctl:1', speaker: 'spk:1' },
      version: '0.1.0',
    });
    const present = () => want.filter((o) => h!.kube.find(o.kind, o.metadata.namespace, o.metadata.name));
    await until(() => present().length === want.length, 'every rendered object');
    for (const o of want) {
      const got = h.kube.find(o.kind, o.metadata.namespace, o.metadata.name)!;
      if (o.metadata.namespace)
        expect(got.metadata?.ownerReferences).toEqual([
          expect.objectContaining({ kind: 'MetalLB', name: 'metallb', uid: 'uid-metallb', controller: true }),
        ]);
      else
        expect(got.metadata?.labels).toMatchObject({
          'metallb.io/owner-name': 'metallb',
          'metallb.io/owner-namespace': NS,
        });
    }
    expect(env(h.kube.find('DaemonSet', NS, 'speaker'))?.find((e) => e.name === 'LOG_LEVEL')?.value).toBe(
      'warn',
    );
    expect(
      (
        h.kube.find('DaemonSet', NS, 'speaker') as {
          spec: { template: { spec: { containers: { image: string }[] } } };
        }
      ).spec.template.spec.containers[0]!.image,
    ).toBe('spk:1');
    // Nothing differs afterwards: a second pass applies nothing.
    const applies = h.kube.applies.length;
    h.kube.put(metallb('metallb', { spec: { logLevel: 'warn' } }));
    await until(
      () => h!.kube.calls.filter((c) => c.startsWith('patch MetalLB')).length >= 1,
      'status written',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(h.kube.applies.length).toBe(applies);
  });

  it('deploys MetalLB/metallb: every rendered object, namespaced ones owned by it, and Progressing', async () => {
    h = startOperator();
    h.kube.put(metallb('metallb'));
    await h.start();
    await until(() => condition(h!.kube, 'metallb', 'Progressing') !== undefined, 'conditions');
    for (const [kind, name] of [
      ['ServiceAccount', 'controller'],
      ['ServiceAccount', 'speaker'],
      ['Deployment', 'controller'],
      ['DaemonSet', 'speaker'],
    ] as const) {
      const o = h.kube.find(kind, NS, name);
      expect(o?.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'MetalLB',
        name: 'metallb',
        uid: 'uid-metallb',
      });
    }
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')).toBeDefined();
    const p = condition(h.kube, 'metallb', 'Progressing')!;
    expect(p).toMatchObject({ status: 'True', reason: 'ComponentsRollingOut', observedGeneration: 1 });
    expect(p.message).toContain(
      'controller Deployment metallb-system/controller: generation 1 not yet seen by the deployment controller (observed 0)',
    );
    expect(p.message).toContain('speaker DaemonSet metallb-system/speaker: generation 1 not yet seen');
    expect(condition(h.kube, 'metallb', 'Available')?.status).toBe('False');
    expect(condition(h.kube, 'metallb', 'Degraded')?.status).toBe('False');
  });

  it('another MetalLB: Degraded IncorrectMetalLBResourceName with a Warning, and nothing deployed', async () => {
    h = startOperator();
    h.kube.put(metallb('second'));
    await h.start();
    await until(() => condition(h!.kube, 'second', 'Degraded') !== undefined, 'conditions');
    expect(condition(h.kube, 'second', 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'IncorrectMetalLBResourceName',
    });
    await until(() => eventsOn(h!.kube, 'second').length > 0, 'event');
    expect(eventsOn(h.kube, 'second')[0]).toMatch(
      /^Warning IncorrectMetalLBResourceName: only the MetalLB resource metallb-system\/metallb/,
    );
    expect(h.kube.applies).toEqual([]);
    expect(
      [...h.kube.objects.values()].filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet'),
    ).toEqual([]);
    // It is never deleted.
    expect(h.kube.find('MetalLB', NS, 'second')).toBeDefined();
  });

  it('Available once the Deployment and DaemonSet report a full rollout; Progressing stops', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_DAEMONSET);
    await rollOut(h);
    expect(condition(h.kube, 'metallb', 'Progressing')).toMatchObject({ status: 'False' });
    expect(condition(h.kube, 'metallb', 'Upgradeable')).toMatchObject({ status: 'True' });
  });

  it('a deleted DaemonSet comes back, told by a Normal Repaired event', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_DAEMONSET);
    const firstUid = h.kube.find('DaemonSet', NS, 'speaker')!.metadata!.uid;
    expect(eventsOn(h.kube, 'metallb').filter((e) => e.includes('Repaired'))).toEqual([]);
    h.kube.remove('DaemonSet', NS, 'speaker');
    await until(() => {
      const ds = h!.kube.find('DaemonSet', NS, 'speaker');
      return ds !== undefined && ds.metadata?.uid !== firstUid;
    }, 'daemonset back');
    await until(() => eventsOn(h!.kube, 'metallb').length > 0, 'event');
    expect(eventsOn(h.kube, 'metallb')).toContain(
      'Normal Repaired: restored deleted DaemonSet metallb-system/speaker',
    );
  });

  it('a hand-edited env is put back and the event names the field', async () => {
    h = startOperator();
    h.kube.put(metallb('metallb', { spec: { logLevel: 'warn' } }));
    await h.start();
    await until(() => h!.kube.find('Deployment', NS, 'controller') !== undefined, 'deployment');
    const d = h.kube.find('Deployment', NS, 'controller')!;
    const edited = JSON.parse(JSON.stringify(d)) as KubeObject;
    env(edited)![0]!.value = 'debug';
    h.kube.put(edited);
    await until(() => env(h!.kube.find('Deployment', NS, 'controller'))?.[0]?.value === 'warn', 'restored');
    await until(() => eventsOn(h!.kube, 'metallb').length > 0, 'event');
    expect(eventsOn(h.kube, 'metallb')).toContain(
      'Normal Repaired: restored Deployment metallb-system/controller: spec.template.spec.containers[0].env[0].value had been changed',
    );
  });

  it('an edited logLevel re-renders the env of both workloads, without calling it a repair', async () => {
    h = startOperator();
    h.kube.put(metallb('metallb'));
    await h.start();
    await until(() => env(h!.kube.find('DaemonSet', NS, 'speaker'))?.[0]?.value === 'info', 'info');
    h.kube.put(metallb('metallb', { spec: { logLevel: 'debug' }, generation: 2 }));
    await until(() => env(h!.kube.find('DaemonSet', NS, 'speaker'))?.[0]?.value === 'debug', 'speaker debug');
    expect(env(h.kube.find('Deployment', NS, 'controller'))?.[0]?.value).toBe('debug');
    await until(() => condition(h!.kube, 'metallb', 'Progressing')?.observedGeneration === 2, 'generation 2');
    expect(eventsOn(h.kube, 'metallb').filter((e) => e.includes('Repaired'))).toEqual([]);
  });

  it('puts its finalizer on MetalLB/metallb before it applies anything', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_DAEMONSET, metallb('metallb', { finalizers: ['example.com/keep'] }));
    expect(finalizers(h.kube, 'metallb')).toEqual(['example.com/keep', OPERATOR_FINALIZER]);
    const firstApply = h.kube.calls.findIndex((c) => c.startsWith('apply '));
    const finalizerPatch = h.kube.calls.indexOf('patch MetalLB metallb');
    expect({ finalizerPatch: finalizerPatch >= 0, before: finalizerPatch < firstApply }).toEqual({
      finalizerPatch: true,
      before: true,
    });
  });

  it('deleting the MetalLB resource deletes the cluster-scoped objects it made, then releases it', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_CLUSTER_ROLE);
    // Someone else's ClusterRole with our app label but no owner labels stays.
    h.kube.put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'metallb-ts:operator', labels: { 'app.kubernetes.io/name': 'metallb-ts' } },
    });
    await deleteMetalLB(h.kube, 'metallb');
    await until(() => h!.kube.find('MetalLB', NS, 'metallb') === undefined, 'MetalLB gone');
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')).toBeUndefined();
    expect(deletionOrder(h.kube)).toEqual(['ClusterRole metallb-ts:speaker', 'MetalLB metallb']);
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:operator')).toBeDefined();
  });

  it('deleted while no operator runs: it stays until a started operator has deleted what it made', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_CLUSTER_ROLE);
    const kube = h.kube;
    await h.stop();
    await deleteMetalLB(kube, 'metallb');
    const stuck = kube.find<MetalLB>('MetalLB', NS, 'metallb');
    expect({
      deleting: stuck?.metadata.deletionTimestamp !== undefined,
      finalizers: finalizers(kube, 'metallb'),
    }).toEqual({ deleting: true, finalizers: [OPERATOR_FINALIZER] });
    h = startOperator({ kube });
    await h.start();
    await until(() => kube.find('MetalLB', NS, 'metallb') === undefined, 'MetalLB gone');
    expect(deletionOrder(kube)).toEqual(['ClusterRole metallb-ts:speaker', 'MetalLB metallb']);
  });

  it('a cluster-scoped object that is itself terminating holds the MetalLB resource until it is gone', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_CLUSTER_ROLE);
    const role = h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')!;
    h.kube.put({ ...role, metadata: { ...role.metadata, finalizers: ['example.com/hold'] } });
    await deleteMetalLB(h.kube, 'metallb');
    await until(
      () =>
        h!.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')?.metadata?.deletionTimestamp !==
        undefined,
      'clusterrole terminating',
    );
    // Several rechecks later it still waits.
    await new Promise((r) => setTimeout(r, 150));
    expect(finalizers(h.kube, 'metallb')).toEqual([OPERATOR_FINALIZER]);
    const held = h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')!;
    await h.kube.patch(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'metallb-ts:speaker' },
      { metadata: { finalizers: [], resourceVersion: held.metadata?.resourceVersion } },
      { type: 'merge' },
    );
    await until(() => h!.kube.find('MetalLB', NS, 'metallb') === undefined, 'MetalLB gone');
  });

  it('a refused deletion keeps the finalizer and is a Warning on the MetalLB resource, until it succeeds', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_CLUSTER_ROLE);
    h.kube.refuseDelete.set('ClusterRole', 'clusterroles "metallb-ts:speaker" is forbidden');
    await deleteMetalLB(h.kube, 'metallb');
    await until(() => eventsOn(h!.kube, 'metallb').some((e) => e.includes('CleanupFailed')), 'warning');
    expect(eventsOn(h.kube, 'metallb').find((e) => e.includes('CleanupFailed'))).toBe(
      `Warning CleanupFailed: MetalLB ${NS}/metallb is deleted, but what was made for it could not be (retrying; finalizer ${OPERATOR_FINALIZER} kept until it is gone): ClusterRole metallb-ts:speaker: delete failed: clusterroles "metallb-ts:speaker" is forbidden`,
    );
    expect(finalizers(h.kube, 'metallb')).toEqual([OPERATOR_FINALIZER]);
    h.kube.refuseDelete.clear();
    await until(() => h!.kube.find('MetalLB', NS, 'metallb') === undefined, 'MetalLB gone', 10_000);
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')).toBeUndefined();
  });

  it('a release refused while its own webhook has no endpoint (operator restarting) is retried until it passes', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_CLUSTER_ROLE);
    h.kube.refusePatch.set(
      'MetalLB',
      'Internal error occurred: failed calling webhook "metallbvalidationwebhook.metallb.io": no endpoints available for service "webhook-service"',
    );
    await deleteMetalLB(h.kube, 'metallb');
    await until(() => h!.kube.refusedPatches.length >= 2, 'the release refused twice');
    // `kubectl describe metallb` says why the deletion hangs.
    const warnings = eventsOn(h.kube, 'metallb').filter((e) => e.includes('CleanupFailed'));
    expect(warnings).not.toEqual([]);
    expect(warnings.filter((e) => !e.includes(`removing finalizer ${OPERATOR_FINALIZER} failed`))).toEqual(
      [],
    );
    expect({
      clusterRole: h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker'),
      finalizers: finalizers(h.kube, 'metallb'),
    }).toEqual({ clusterRole: undefined, finalizers: [OPERATOR_FINALIZER] });
    // The webhook answers again; nothing the operator watches changes, so only its retry frees it.
    h.kube.refusePatch.clear();
    await until(() => h!.kube.find('MetalLB', NS, 'metallb') === undefined, 'MetalLB released', 4_000);
  });

  it('keeps finalizers of others: a deleted MetalLB they hold stays, without ours', async () => {
    h = startOperator();
    h.kube.put(metallb('metallb', { finalizers: ['example.com/keep'] }));
    await h.start();
    await until(() => finalizers(h!.kube, 'metallb').includes(OPERATOR_FINALIZER), 'finalizer');
    await deleteMetalLB(h.kube, 'metallb');
    await until(() => !finalizers(h!.kube, 'metallb').includes(OPERATOR_FINALIZER), 'released');
    expect(finalizers(h.kube, 'metallb')).toEqual(['example.com/keep']);
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')).toBeUndefined();
  });

  it('a MetalLB it does not act on never gets the finalizer, and loses one it carries', async () => {
    h = startOperator();
    h.kube.put(metallb('second'));
    h.kube.put(metallb('third', { finalizers: [OPERATOR_FINALIZER] }));
    await h.start();
    await until(() => condition(h!.kube, 'second', 'Degraded')?.status === 'True', 'second degraded');
    await until(() => condition(h!.kube, 'third', 'Degraded')?.status === 'True', 'third degraded');
    expect(finalizers(h.kube, 'second')).toEqual([]);
    expect(finalizers(h.kube, 'third')).toEqual([]);
  });

  it('an object no longer rendered is deleted', async () => {
    let extra = true;
    h = startOperator({ extra: () => extra });
    h.kube.put(metallb('metallb'));
    await h.start();
    await until(() => h!.kube.find('Service', NS, 'extra-metrics') !== undefined, 'extra');
    extra = false;
    h.kube.put(metallb('metallb', { spec: { logLevel: 'warn' }, generation: 2 }));
    await until(() => h!.kube.find('Service', NS, 'extra-metrics') === undefined, 'extra deleted');
    expect(h.kube.find('DaemonSet', NS, 'speaker')).toBeDefined();
  });

  it('ipfailover in the cluster: Degraded IPFailoverPresent naming it, and MetalLB still deployed', async () => {
    h = startOperator();
    h.kube.put(metallb('metallb'));
    await h.start();
    await until(() => condition(h!.kube, 'metallb', 'Degraded')?.status === 'False', 'healthy');
    h.kube.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ipf-keepalived', namespace: 'default', labels: { ipfailover: 'ipf-keepalived' } },
    });
    await until(() => condition(h!.kube, 'metallb', 'Degraded')?.status === 'True', 'degraded');
    expect(condition(h.kube, 'metallb', 'Degraded')).toMatchObject({ reason: 'IPFailoverPresent' });
    expect(condition(h.kube, 'metallb', 'Degraded')?.message).toContain('default/ipf-keepalived');
    await until(() => eventsOn(h!.kube, 'metallb').length > 0, 'event');
    expect(eventsOn(h.kube, 'metallb')[0]).toMatch(/^Warning IPFailoverPresent: .*default\/ipf-keepalived/);
    expect(h.kube.find('DaemonSet', NS, 'speaker')).toBeDefined();
    h.kube.remove('Deployment', 'default', 'ipf-keepalived');
    await until(() => condition(h!.kube, 'metallb', 'Degraded')?.status === 'False', 'healthy again');
  });

  it('a refused apply: Degraded ApplyFailed names the object, the others are still applied', async () => {
    h = startOperator();
    h.kube.refuse.set('ClusterRole', 'clusterroles is forbidden: attempt to grant extra privileges');
    h.kube.put(metallb('metallb'));
    await h.start();
    await until(() => condition(h!.kube, 'metallb', 'Degraded')?.status === 'True', 'degraded');
    const c = condition(h.kube, 'metallb', 'Degraded')!;
    expect(c.reason).toBe('ApplyFailed');
    expect(c.message).toContain('ClusterRole metallb-ts:speaker: clusterroles is forbidden');
    expect(h.kube.find('DaemonSet', NS, 'speaker')).toBeDefined();
    h.kube.refuse.clear();
    await until(() => condition(h!.kube, 'metallb', 'Degraded')?.status === 'False', 'recovered', 10_000);
    expect(h.kube.find('ClusterRole', undefined, 'metallb-ts:speaker')).toBeDefined();
  });

  it('a new operator version re-renders with its images and rolls both workloads (no repair told)', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_DAEMONSET);
    const kube = h.kube;
    await h.stop();
    h = startOperator({ kube, images: { controller: 'ctl:2', speaker: 'spk:2' }, version: '0.2.0' });
    await h.start();
    const image = (kind: string, name: string) =>
      (kube.find(kind, NS, name) as { spec: { template: { spec: { containers: { image: string }[] } } } })
        .spec.template.spec.containers[0]!.image;
    await until(() => image('DaemonSet', 'speaker') === 'spk:2', 'speaker image');
    expect(image('Deployment', 'controller')).toBe('ctl:2');
    expect(
      (kube.find('DaemonSet', NS, 'speaker') as { spec: { updateStrategy: unknown } }).spec.updateStrategy,
    ).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(eventsOn(kube, 'metallb').filter((e) => e.includes('Repaired'))).toEqual([]);
  });

  it('settles: once rolled out, nothing is applied or written again', async () => {
    h = startOperator();
    await startUntilApplied(h, SPEAKER_DAEMONSET);
    await rollOut(h);
    const applies = h.kube.applies.length;
    const rv = h.kube.rv;
    await new Promise((r) => setTimeout(r, 200));
    expect(h.kube.applies.length).toBe(applies);
    expect(h.kube.rv).toBe(rv);
  });
});

import { describe, expect, it } from '@jest/globals';
import { createLogger, type KubeObject } from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { MEMBERLIST } from '@metallb-ts/manifests';
import { ensureMemberlistSecret, MEMBERLIST_KEY_BYTES } from '../src/memberlist-secret.js';

const NS = 'metallb-system';
const logger = createLogger({ component: 'controller', level: 'none', write: () => {} });
type Secret = KubeObject & { data?: Record<string, string> };
const secretOf = (kube: FakeKube) =>
  [...kube.objects.values()].find((o) => o.kind === 'Secret' && o.metadata?.name === MEMBERLIST.secret) as
    Secret | undefined;

describe('ensureMemberlistSecret', () => {
  it('creates the Secret with a random 32-byte key when it is missing', async () => {
    const kube = new FakeKube();
    await ensureMemberlistSecret(kube, NS, logger, new AbortController().signal);
    const s = secretOf(kube);
    expect(s?.metadata?.namespace).toBe(NS);
    expect(Buffer.from(s?.data?.[MEMBERLIST.key] ?? '', 'base64')).toHaveLength(MEMBERLIST_KEY_BYTES);
  });

  it("is owned by the controller's Deployment, so it is garbage-collected with it", async () => {
    const kube = new FakeKube();
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'controller', uid: 'u-ctrl' };
    await ensureMemberlistSecret(kube, NS, logger, new AbortController().signal, owner);
    expect(secretOf(kube)?.metadata?.ownerReferences).toEqual([owner]);
  });

  it('has no owner when the controller has none (a process outside a cluster)', async () => {
    const kube = new FakeKube();
    await ensureMemberlistSecret(kube, NS, logger, new AbortController().signal);
    expect(secretOf(kube)?.metadata).not.toHaveProperty('ownerReferences');
  });

  it('leaves an existing Secret (and its rotation) alone', async () => {
    const kube = new FakeKube();
    const data = { [MEMBERLIST.key]: Buffer.alloc(32, 7).toString('base64') };
    kube.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: MEMBERLIST.secret, namespace: NS },
      data,
    } as KubeObject);
    await ensureMemberlistSecret(kube, NS, logger, new AbortController().signal);
    expect(secretOf(kube)?.data).toEqual(data);
  });
});

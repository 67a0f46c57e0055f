import { describe, expect, it } from '@jest/globals';
import { silentLogger, type KubeObject } from '@metallb-ts/k8s-runtime';
import { FakeKube } from '@metallb-ts/k8s-runtime/testing';
import { WEBHOOK } from '@metallb-ts/manifests';
import {
  WebhookCertReconciler,
  bundleFromSecretData,
  caBundleChanges,
  generateCertificates,
  needsRotation,
  secretDataFor,
  splitPem,
  webhookDnsNames,
  type CertBundle,
} from '../../src/webhook/index.js';

const NS = 'metallb-system';
const DAY = 24 * 3600 * 1000;
const names = webhookDnsNames(WEBHOOK.service, NS);

type Secret = KubeObject & { type?: string; data?: Record<string, string> };
type Vwc = KubeObject & {
  webhooks: { name: string; clientConfig: { caBundle?: string; service: unknown } }[];
};

function configuration(caBundle?: string): Vwc {
  const hook = (kind: string, path: string) => ({
    name: `${kind}.metallb.io`,
    clientConfig: {
      service: { name: WEBHOOK.service, namespace: NS, path },
      ...(caBundle ? { caBundle } : {}),
    },
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: WEBHOOK.configuration },
    webhooks: [hook('ipaddresspools', '/validate-ipaddresspool'), hook('metallbs', '/validate-metallb')],
  };
}

const OPERATOR_DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  name: 'operator',
  uid: 'u-operator',
};

function setup(o: { withConfiguration?: boolean; owner?: typeof OPERATOR_DEPLOYMENT } = {}) {
  const kube = new FakeKube();
  let now = new Date('2026-06-01T00:00:00Z');
  const clock = { set: (d: Date) => (now = d) };
  if (o.withConfiguration ?? true) kube.put(configuration());
  const reconciler = new WebhookCertReconciler({
    kube,
    namespace: NS,
    logger: silentLogger,
    now: () => now,
    validityMs: 30 * DAY,
    // Smaller keys keep the test quick; production uses 2048 bits.
    generate: (g) => generateCertificates({ ...g, keyBits: 1024 }),
    ...(o.owner ? { owner: o.owner } : {}),
  });
  const secret = () => kube.find<Secret>('Secret', NS, WEBHOOK.certSecret);
  const stored = (): CertBundle => bundleFromSecretData(secret()?.data)!;
  const caBundles = () =>
    kube
      .find<Vwc>('ValidatingWebhookConfiguration', undefined, WEBHOOK.configuration)!
      .webhooks.map((w) => w.clientConfig.caBundle);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const writes = () => kube.calls.filter((c) => !c.startsWith('get '));
  return { kube, clock, reconciler, secret, stored, caBundles, b64, writes };
}

describe('WebhookCertReconciler', () => {
  it('creates the Secret and writes its CA into every webhook of the configuration', async () => {
    const t = setup();
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'created' });
    expect(out.patchedWebhooks).toEqual(['ipaddresspools.metallb.io', 'metallbs.metallb.io']);
    const secret = t.secret()!;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data!).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(secret.metadata?.labels?.['app.kubernetes.io/name']).toBe('metallb-ts');
    expect(t.stored()).toEqual(out.bundle);
    expect(needsRotation(out.bundle.cert, new Date('2026-06-01T00:00:00Z'), names)).toBeUndefined();
    expect(t.caBundles()).toEqual([t.b64(out.bundle.caCert), t.b64(out.bundle.caCert)]);
    // Other fields of the webhooks are kept.
    const vwc = t.kube.find<Vwc>('ValidatingWebhookConfiguration', undefined, WEBHOOK.configuration)!;
    expect(vwc.webhooks[1]!.clientConfig.service).toEqual({
      name: WEBHOOK.service,
      namespace: NS,
      path: '/validate-metallb',
    });
    // Rotation is due after two thirds of 30 days (+1 h back-dating).
    expect(out.recheckAt.getTime()).toBeGreaterThan(Date.parse('2026-06-20T00:00:00Z'));
    expect(out.recheckAt.getTime()).toBeLessThan(Date.parse('2026-06-21T00:00:00Z'));
  });

  it('writes nothing on a second pass when everything is in place', async () => {
    const t = setup();
    const first = await t.reconciler.reconcile();
    t.kube.calls = [];
    const again = await t.reconciler.reconcile();
    expect(again).toEqual({ ...first, secret: { action: 'unchanged' }, patchedWebhooks: [] });
    expect(t.writes()).toEqual([]);
  });

  it("makes the Secret owned by the operator's Deployment, so helm uninstall garbage-collects it", async () => {
    const t = setup({ owner: OPERATOR_DEPLOYMENT });
    await t.reconciler.reconcile();
    expect(t.secret()?.metadata?.ownerReferences).toEqual([OPERATOR_DEPLOYMENT]);
    // A rotation or repair keeps the owner.
    t.kube.put({ ...t.secret()!, data: { 'tls.crt': 'x' } } as Secret);
    const repaired = await t.reconciler.reconcile();
    expect(repaired.secret).toEqual({ action: 'replaced', reason: 'incomplete' });
    expect(t.secret()?.metadata?.ownerReferences).toEqual([OPERATOR_DEPLOYMENT]);
  });

  it('adopts a valid Secret made without the owner (or for a Deployment since recreated), once', async () => {
    const before = setup();
    const made = await before.reconciler.reconcile();
    expect(before.secret()?.metadata).not.toHaveProperty('ownerReferences');
    const t = setup({ owner: OPERATOR_DEPLOYMENT });
    const stale = { ...OPERATOR_DEPLOYMENT, uid: 'u-old-operator' };
    t.kube.put({ ...before.secret()!, metadata: { ...before.secret()!.metadata, ownerReferences: [stale] } });
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'adopted' });
    // The certificate is kept: adopting is not a rotation.
    expect(out.bundle).toEqual(made.bundle);
    expect(t.stored()).toEqual(made.bundle);
    expect(t.secret()?.metadata?.ownerReferences).toEqual([OPERATOR_DEPLOYMENT]);
    t.kube.calls = [];
    expect((await t.reconciler.reconcile()).secret).toEqual({ action: 'unchanged' });
    expect(t.writes()).toEqual([]);
  });

  it('recreates a deleted Secret and points the webhooks at the new CA', async () => {
    const t = setup();
    const first = await t.reconciler.reconcile();
    t.kube.remove('Secret', NS, WEBHOOK.certSecret);
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'created' });
    expect(out.bundle.cert).not.toBe(first.bundle.cert);
    expect(t.caBundles()).toEqual([t.b64(out.bundle.caCert), t.b64(out.bundle.caCert)]);
  });

  it.each([
    [
      'a key that is not the certificate',
      (b: CertBundle, o: CertBundle) => ({ ...b, key: o.key }),
      'key does not match',
    ],
    [
      'a CA that did not sign it',
      (b: CertBundle, o: CertBundle) => ({ ...b, caCert: o.caCert }),
      'not signed by the CA',
    ],
    ['a certificate for other names', (_b: CertBundle, o: CertBundle) => o, 'names differ'],
    ['a corrupted certificate', (b: CertBundle) => ({ ...b, cert: b.cert.replace(/A/g, 'B') }), 'unreadable'],
  ])('repairs a hand-edited Secret: %s', async (_what, edit, reason) => {
    const t = setup();
    const first = await t.reconciler.reconcile();
    const intruder = generateCertificates({
      dnsNames: ['intruder.example'],
      now: new Date('2026-06-01T00:00:00Z'),
    });
    t.kube.put({ ...t.secret()!, data: secretDataFor(edit(first.bundle, intruder)) } as Secret);
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'replaced', reason });
    expect(needsRotation(t.stored().cert, new Date('2026-06-01T00:00:00Z'), names)).toBeUndefined();
  });

  it('repairs a Secret that lost a key', async () => {
    const t = setup();
    await t.reconciler.reconcile();
    const data = { ...t.secret()!.data };
    delete data['tls.key'];
    t.kube.put({ ...t.secret()!, data } as Secret);
    expect((await t.reconciler.reconcile()).secret).toEqual({ action: 'replaced', reason: 'incomplete' });
    expect(t.stored().key).toMatch(/PRIVATE KEY/);
  });

  it('rotates when due and keeps trusting the previous CA until the next rotation', async () => {
    const t = setup();
    const first = await t.reconciler.reconcile();
    t.clock.set(new Date(first.recheckAt.getTime() + 1000));
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'replaced', reason: 'expires soon' });
    expect(out.bundle.cert).not.toBe(first.bundle.cert);
    expect(splitPem(out.bundle.caCert)).toEqual([
      splitPem(out.bundle.caCert)[0],
      ...splitPem(first.bundle.caCert),
    ]);
    expect(t.caBundles()).toEqual([t.b64(out.bundle.caCert), t.b64(out.bundle.caCert)]);
    expect(out.recheckAt.getTime()).toBeGreaterThan(first.recheckAt.getTime());
  });

  it('puts back a caBundle someone changed, touching only the webhook that differs', async () => {
    const t = setup();
    const first = await t.reconciler.reconcile();
    const vwc = t.kube.find<Vwc>('ValidatingWebhookConfiguration', undefined, WEBHOOK.configuration)!;
    t.kube.put({
      ...vwc,
      webhooks: [
        vwc.webhooks[0]!,
        { ...vwc.webhooks[1]!, clientConfig: { ...vwc.webhooks[1]!.clientConfig, caBundle: 'Zm9v' } },
      ],
    } as Vwc);
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'unchanged' });
    expect(out.patchedWebhooks).toEqual(['metallbs.metallb.io']);
    expect(t.caBundles()).toEqual([t.b64(first.bundle.caCert), t.b64(first.bundle.caCert)]);
  });

  it('keeps the Secret ready when the configuration does not exist yet', async () => {
    const t = setup({ withConfiguration: false });
    const out = await t.reconciler.reconcile();
    expect(out.secret).toEqual({ action: 'created' });
    expect(out.patchedWebhooks).toBeUndefined();
    t.kube.put(configuration());
    expect((await t.reconciler.reconcile()).patchedWebhooks).toHaveLength(2);
  });

  it('names the step that failed when the API server is down', async () => {
    const t = setup();
    t.kube.down = true;
    await expect(t.reconciler.reconcile()).rejects.toThrow(
      `webhook certificates: read Secret ${NS}/${WEBHOOK.certSecret}: get Secret ${WEBHOOK.certSecret}: ECONNREFUSED`,
    );
  });
});

describe('caBundleChanges', () => {
  it('changes only the webhooks that differ and says which', () => {
    const hooks = [
      { name: 'a', clientConfig: { caBundle: 'X' } },
      { name: 'b', clientConfig: { caBundle: 'Y' } },
      { name: 'c', clientConfig: {} },
    ];
    const { changed, webhooks } = caBundleChanges(hooks, 'X');
    expect(changed).toEqual(['b', 'c']);
    expect(webhooks.map((w) => w.clientConfig?.caBundle)).toEqual(['X', 'X', 'X']);
    expect(webhooks[0]).toBe(hooks[0]);
    expect(hooks[1]!.clientConfig.caBundle).toBe('Y');
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { recorder, silentLogger, type ComponentWork, type KubeObject } from '@metallb-ts/k8s-runtime';
import { FakeKube, until } from '@metallb-ts/k8s-runtime/testing';
import { COMPONENTS, WEBHOOK, webhookConfiguration } from '@metallb-ts/manifests';
import { WebhookCertificates, certificateNote, recheckDelay } from '../src/webhook-certificates.js';
import { WebhookServing } from '../src/webhook-serving.js';
import {
  bundleFromSecretData,
  generateCertificates,
  secretDataFor,
  webhookDnsNames,
  type CertBundle,
} from '../src/webhook/index.js';
import { eventsOn, metallb, NS } from './harness.js';

type Secret = KubeObject & { data?: Record<string, string> };
type Vwc = KubeObject & { webhooks: { name: string; clientConfig: { caBundle?: string } }[] };

const KEY = `${NS}/${WEBHOOK.certSecret}`;
// Smaller keys keep the tests quick; production uses 2048 bits.
const generate = (g: Parameters<typeof generateCertificates>[0]) =>
  generateCertificates({ ...g, keyBits: 1024 });
const names = webhookDnsNames(WEBHOOK.service, NS);

const running: { work: ComponentWork; abort: AbortController }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.work.stop();
    r.abort.abort();
  }
});

async function run<W extends ComponentWork>(work: W): Promise<W> {
  const abort = new AbortController();
  running.push({ work, abort });
  await work.start(abort.signal);
  return work;
}

function certificates(kube: FakeKube) {
  return new WebhookCertificates({
    kube,
    events: recorder(kube, { component: COMPONENTS.operator.eventSource }),
    logger: silentLogger,
    namespace: NS,
    generate,
    retryBaseMs: 5,
  });
}

const secret = (kube: FakeKube) => kube.find<Secret>('Secret', NS, WEBHOOK.certSecret);
const stored = (kube: FakeKube): CertBundle | undefined => bundleFromSecretData(secret(kube)?.data);
const caBundles = (kube: FakeKube) =>
  kube
    .find<Vwc>('ValidatingWebhookConfiguration', undefined, WEBHOOK.configuration)!
    .webhooks.map((w) => w.clientConfig.caBundle);
/** The certificate Secret holding `data`. */
const withData = (data: Record<string, string>): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: WEBHOOK.certSecret, namespace: NS },
  data,
});
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The certificate the server at `port` presents (DER), without trusting it. */
function servedCertificate(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, servername: names[2], rejectUnauthorized: false },
      () => {
        const raw = socket.getPeerCertificate().raw;
        socket.end();
        resolve(raw);
      },
    );
    socket.on('error', reject);
  });
}
const der = (pem: string) => new X509Certificate(pem).raw;

describe('WebhookCertificates (the leader)', () => {
  it('creates the Secret and patches the caBundle of the rendered configuration', async () => {
    const kube = new FakeKube();
    kube.put(webhookConfiguration(NS));
    const work = await run(certificates(kube));
    await until(() => stored(kube) !== undefined, 'the Secret');
    const bundle = stored(kube)!;
    await until(() => caBundles(kube).every((c) => c === b64(bundle.caCert)), 'the caBundle');
    expect(caBundles(kube)).toHaveLength(4);
    expect(work.ready).toBe(true);
  });

  it('patches a configuration created later, and again when its caBundle is wiped', async () => {
    const kube = new FakeKube();
    await run(certificates(kube));
    await until(() => stored(kube) !== undefined, 'the Secret');
    kube.put(webhookConfiguration(NS));
    const ca = b64(stored(kube)!.caCert);
    await until(() => caBundles(kube).every((c) => c === ca), 'the caBundle after the configuration appears');
    kube.put(webhookConfiguration(NS)); // no caBundle: as a re-apply of the manifest leaves it
    await until(() => caBundles(kube).every((c) => c === ca), 'the caBundle written again');
  });

  it('restores a deleted Secret and says so in an event on MetalLB/metallb', async () => {
    const kube = new FakeKube();
    kube.put(webhookConfiguration(NS));
    kube.put(metallb('metallb'));
    await run(certificates(kube));
    await until(() => stored(kube) !== undefined, 'the Secret');
    const first = stored(kube)!;
    expect(eventsOn(kube, 'metallb')).toEqual([]);
    kube.remove('Secret', NS, WEBHOOK.certSecret);
    await until(() => stored(kube) !== undefined && stored(kube)!.cert !== first.cert, 'a new Secret');
    await until(() => eventsOn(kube, 'metallb').length > 0, 'the event');
    expect(eventsOn(kube, 'metallb')).toEqual([`Normal Repaired: restored deleted Secret ${KEY}`]);
    const ca = b64(stored(kube)!.caCert);
    await until(() => caBundles(kube).every((c) => c === ca), 'the new CA in the configuration');
  });

  it('repairs a hand-edited Secret (without an event when there is no MetalLB resource)', async () => {
    const kube = new FakeKube();
    await run(certificates(kube));
    await until(() => stored(kube) !== undefined, 'the Secret');
    const first = stored(kube)!;
    kube.put(withData({ 'tls.crt': secret(kube)!.data!['tls.crt']! }));
    await until(
      () => stored(kube)?.cert !== undefined && stored(kube)!.cert !== first.cert,
      'a repaired Secret',
    );
    expect(eventsOn(kube, 'metallb')).toEqual([]);
  });

  it('retries with backoff while the API server is down', async () => {
    const kube = new FakeKube();
    kube.down = true;
    const work = certificates(kube);
    const abort = new AbortController();
    running.push({ work, abort });
    const started = work.start(abort.signal);
    await until(() => kube.calls.length > 3, 'attempts while down');
    expect(stored(kube)).toBeUndefined();
    kube.down = false;
    await started;
    await until(() => stored(kube) !== undefined, 'the Secret once the API server is back');
  });
});

describe('WebhookServing (every replica)', () => {
  it('serves the certificate in the Secret and swaps in a new one on every change', async () => {
    const kube = new FakeKube();
    const serving = await run(
      new WebhookServing({ kube, logger: silentLogger, namespace: NS, host: '127.0.0.1', port: 0 }),
    );
    // No Secret yet: not ready (every handshake would fail).
    expect(serving.ready).toBe(false);
    const one = generate({ dnsNames: names, now: new Date() });
    kube.put(withData(secretDataFor(one)));
    await until(() => serving.ready, 'the certificate loaded');
    const port = serving.port();
    expect(await servedCertificate(port)).toEqual(der(one.cert));
    const two = generate({ dnsNames: names, now: new Date() });
    kube.put(withData(secretDataFor(two)));
    await waitServed(port, two.cert);
    // A deleted or broken Secret leaves the current certificate in place.
    kube.put(withData({ 'tls.crt': 'eA==' }));
    kube.remove('Secret', NS, WEBHOOK.certSecret);
    expect(await servedCertificate(port)).toEqual(der(two.cert));
    expect(serving.ready).toBe(true);
  });

  it('with the leader: serves the certificate the leader created, and the restored one after a deletion', async () => {
    const kube = new FakeKube();
    kube.put(webhookConfiguration(NS));
    const serving = await run(
      new WebhookServing({ kube, logger: silentLogger, namespace: NS, host: '127.0.0.1', port: 0 }),
    );
    await run(certificates(kube));
    await until(() => serving.ready, 'the leader certificate loaded');
    const first = stored(kube)!;
    await waitServed(serving.port(), first.cert);
    kube.remove('Secret', NS, WEBHOOK.certSecret);
    await until(() => stored(kube) !== undefined && stored(kube)!.cert !== first.cert, 'a new Secret');
    await waitServed(serving.port(), stored(kube)!.cert);
  });
});

/** Polls until the server presents `pem`. */
async function waitServed(port: number, pem: string): Promise<void> {
  const want = der(pem);
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = await servedCertificate(port);
    if (got.equals(want)) return;
    if (Date.now() > deadline)
      throw new Error('timed out waiting for the server to present the new certificate');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('certificateNote', () => {
  it.each([
    [{ action: 'unchanged' as const }, true, undefined],
    [{ action: 'adopted' as const }, true, undefined],
    [{ action: 'created' as const }, false, undefined],
    [{ action: 'created' as const }, true, { reason: 'Repaired', message: `restored deleted Secret ${KEY}` }],
    [
      { action: 'replaced' as const, reason: 'incomplete' as const },
      true,
      { reason: 'Repaired', message: `repaired Secret ${KEY}: incomplete; issued a new webhook certificate` },
    ],
    [
      { action: 'replaced' as const, reason: 'key does not match' as const },
      true,
      {
        reason: 'Repaired',
        message: `repaired Secret ${KEY}: key does not match; issued a new webhook certificate`,
      },
    ],
    [
      { action: 'replaced' as const, reason: 'expires soon' as const },
      true,
      {
        reason: 'CertificateRotated',
        message: `rotated the webhook certificate in Secret ${KEY}: expires soon`,
      },
    ],
  ])('%j (existed before: %s) -> %j', (action, existed, note) => {
    expect(certificateNote(action, existed, KEY)).toEqual(note);
  });
});

describe('recheckDelay', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  it.each([
    ['an hour ahead', 3600_000, 3600_000],
    ['already due', -5000, 1000],
    ['a year ahead (beyond a timer)', 365 * 24 * 3600_000, 12 * 3600_000],
  ])('%s', (_what, ahead, delay) => {
    expect(recheckDelay(new Date(now.getTime() + ahead), now)).toBe(delay);
  });
});

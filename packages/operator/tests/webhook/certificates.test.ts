import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import {
  bundleFromSecretData,
  bundleProblem,
  caBundleAfterRotation,
  generateCertificates,
  needsRotation,
  rotationDueAt,
  secretDataFor,
  splitPem,
  webhookDnsNames,
} from '../../src/webhook/index.js';

const DAY = 24 * 3600 * 1000;
const names = webhookDnsNames('webhook-service', 'metallb-system');
const t0 = new Date('2026-06-01T00:00:00Z');
const bundle = generateCertificates({ dnsNames: names, now: t0, validityMs: 90 * DAY });
const other = generateCertificates({ dnsNames: names, now: t0, validityMs: 90 * DAY });

describe('generateCertificates', () => {
  it('issues a CA and a serving certificate for the Service names, signed by that CA', () => {
    expect(names).toEqual([
      'webhook-service.metallb-system.svc',
      'webhook-service.metallb-system.svc.cluster.local',
    ]);
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe(
      'DNS:webhook-service.metallb-system.svc, DNS:webhook-service.metallb-system.svc.cluster.local',
    );
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(other.caCert).publicKey)).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(Date.parse(cert.validTo) - t0.getTime()).toBe(90 * DAY);
    // Back-dated an hour for API servers whose clock is behind.
    expect(t0.getTime() - Date.parse(cert.validFrom)).toBe(3600 * 1000);
    expect(cert.serialNumber).not.toBe(new X509Certificate(other.cert).serialNumber);
    expect(bundleProblem(bundle, t0, names)).toBeUndefined();
  });
});

describe('needsRotation', () => {
  // Lifetime is 90 days + the 1 h back-dating; a third of it left is about day 60.
  const due = rotationDueAt(bundle.cert)!;
  it.each<[string, Date, readonly string[], string | undefined]>([
    ['fresh', t0, names, undefined],
    ['just before a third of the lifetime is left', new Date(due.getTime() - 1000), names, undefined],
    ['less than a third left', new Date(due.getTime() + 1000), names, 'expires soon'],
    ['expired', new Date(t0.getTime() + 91 * DAY), names, 'expires soon'],
    ['before notBefore (clock far behind)', new Date(t0.getTime() - 2 * 3600 * 1000), names, 'not yet valid'],
    ['another Service name', t0, webhookDnsNames('webhook-service', 'other-ns'), 'names differ'],
    ['one name more', t0, [...names, 'extra.example'], 'names differ'],
  ])('%s', (_what, now, want, reason) => expect(needsRotation(bundle.cert, now, want)).toBe(reason));

  it('rotates at two thirds of the lifetime', () => {
    const from = Date.parse(new X509Certificate(bundle.cert).validFrom);
    const to = Date.parse(new X509Certificate(bundle.cert).validTo);
    expect(due.getTime()).toBeCloseTo(from + ((to - from) * 2) / 3, -3);
  });

  it('says unreadable for anything that is not a certificate', () => {
    expect(needsRotation('not a certificate', t0, names)).toBe('unreadable');
    expect(needsRotation(bundle.key, t0, names)).toBe('unreadable');
    expect(rotationDueAt('garbage')).toBeUndefined();
  });
});

describe('bundleProblem', () => {
  it('finds a key that does not belong to the certificate', () => {
    expect(bundleProblem({ ...bundle, key: other.key }, t0, names)).toBe('key does not match');
    expect(bundleProblem({ ...bundle, key: 'garbage' }, t0, names)).toBe('key does not match');
  });
  it('finds a certificate no CA in ca.crt signed', () => {
    expect(bundleProblem({ ...bundle, caCert: other.caCert }, t0, names)).toBe('not signed by the CA');
    // Any CA of the bundle may have signed it (the previous one after a rotation).
    expect(bundleProblem({ ...bundle, caCert: other.caCert + bundle.caCert }, t0, names)).toBeUndefined();
  });
});

describe('caBundleAfterRotation', () => {
  it('puts the new CA first and keeps the previous one while it is valid', () => {
    const kept = splitPem(caBundleAfterRotation(other.caCert, bundle.caCert, t0));
    expect(kept).toEqual([...splitPem(other.caCert), ...splitPem(bundle.caCert)]);
  });
  it('keeps only the newest previous CA, and none once it expired', () => {
    const twice = caBundleAfterRotation(other.caCert, bundle.caCert, t0);
    const third = generateCertificates({ dnsNames: names, now: t0, validityMs: DAY });
    expect(splitPem(caBundleAfterRotation(third.caCert, twice, t0))).toEqual([
      ...splitPem(third.caCert),
      ...splitPem(other.caCert),
    ]);
    expect(
      splitPem(caBundleAfterRotation(third.caCert, bundle.caCert, new Date(t0.getTime() + 100 * DAY))),
    ).toEqual(splitPem(third.caCert));
    expect(splitPem(caBundleAfterRotation(third.caCert, undefined, t0))).toEqual(splitPem(third.caCert));
  });
});

describe('Secret data', () => {
  it('round-trips through base64 under tls.crt, tls.key and ca.crt', () => {
    const data = secretDataFor(bundle);
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(data['tls.crt']!, 'base64').toString()).toBe(bundle.cert);
    expect(bundleFromSecretData(data)).toEqual(bundle);
  });
  it('reads an incomplete Secret as nothing', () => {
    const data = secretDataFor(bundle);
    delete data['tls.key'];
    expect(bundleFromSecretData(data)).toBeUndefined();
    expect(bundleFromSecretData(undefined)).toBeUndefined();
    expect(bundleFromSecretData({ ...secretDataFor(bundle), 'ca.crt': '' })).toBeUndefined();
  });
});

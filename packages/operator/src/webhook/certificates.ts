// The webhook's TLS material: a private CA and a serving certificate for the webhook Service's DNS
// names, kept in one Secret. Generation uses Node's native RSA key generation (forge's pure-JS one
// takes seconds) and node-forge to build and sign the X.509 certificates; checks use Node's own
// X509Certificate parser. Everything here is pure apart from the randomness of keys and serials.
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** The three keys of the Secret, as in cert-manager's and kubernetes.io/tls Secrets. */
export const SECRET_KEYS = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

/** PEM text of everything the webhook needs. `caCert` may hold more than one CA (see rotation). */
export interface CertBundle {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

export interface GenerateOptions {
  /** DNS names the serving certificate is valid for (see `webhookDnsNames`). */
  readonly dnsNames: readonly string[];
  readonly now: Date;
  /** Lifetime of the CA and the serving certificate. Default 365 days. */
  readonly validityMs?: number;
  /** RSA modulus length. Default 2048. */
  readonly keyBits?: number;
}

export const DEFAULT_VALIDITY_MS = 365 * 24 * 3600 * 1000;
/** notBefore is set this far in the past, so an API server whose clock is a little behind accepts the certificate. */
const BACKDATE_MS = 60 * 60 * 1000;

/** The names the API server checks when it calls the webhook Service: `<service>.<namespace>.svc` (and the long form). */
export function webhookDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

function keyPair(bits: number): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    pem: privateKey,
  };
}

/** A positive 128-bit serial number (the top bit clear keeps the DER integer positive). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function newCertificate(
  publicKey: forge.pki.rsa.PublicKey,
  commonName: string,
  now: Date,
  validityMs: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + validityMs);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  return cert;
}

/**
 * A fresh CA and a serving certificate signed by it for `dnsNames`. The CA's key is not kept: the
 * next rotation makes a new CA (and the Secret's `ca.crt` carries the old one alongside for a while).
 */
export function generateCertificates(o: GenerateOptions): CertBundle {
  if (o.dnsNames.length === 0) throw new Error('generateCertificates: at least one DNS name is required');
  const validityMs = o.validityMs ?? DEFAULT_VALIDITY_MS;
  const bits = o.keyBits ?? 2048;
  const ca = keyPair(bits);
  const caCert = newCertificate(
    ca.publicKey,
    `metallb-ts webhook CA ${o.now.toISOString()}`,
    o.now,
    validityMs,
  );
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const serving = keyPair(bits);
  const cert = newCertificate(serving.publicKey, o.dnsNames[0]!, o.now, validityMs);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: o.dnsNames.map((value) => ({ type: 2, value })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());
  return {
    caCert: forge.pki.certificateToPem(caCert),
    cert: forge.pki.certificateToPem(cert),
    key: serving.pem,
  };
}

/** Why a certificate must be replaced now, or undefined when it may stay. */
export type RotationReason =
  | 'unreadable'
  | 'not yet valid'
  | 'expires soon'
  | 'names differ'
  | 'key does not match'
  | 'not signed by the CA';

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The DNS names of a certificate's subjectAltName, sorted. */
function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4))
    .sort();
}

/**
 * Whether the serving certificate `certPem` must be replaced at `now`: unreadable, not valid yet,
 * less than a third of its lifetime left, or issued for other names than `dnsNames`.
 */
export function needsRotation(
  certPem: string,
  now: Date,
  dnsNames: readonly string[],
): RotationReason | undefined {
  const cert = parse(certPem);
  if (!cert) return 'unreadable';
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return 'unreadable';
  if (now.getTime() < from) return 'not yet valid';
  if (to - now.getTime() < (to - from) / 3) return 'expires soon';
  const want = [...new Set(dnsNames)].sort();
  const have = dnsNamesOf(cert);
  if (want.length !== have.length || want.some((n, i) => n !== have[i])) return 'names differ';
  return undefined;
}

/** When `needsRotation` will first say `expires soon` (for a timed re-check), or undefined if unreadable. */
export function rotationDueAt(certPem: string): Date | undefined {
  const cert = parse(certPem);
  if (!cert) return undefined;
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return undefined;
  return new Date(to - (to - from) / 3);
}

/** The PEM certificates in `text`, in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * `needsRotation`, plus what a hand edit or a half-written Secret breaks: the key must belong to the
 * certificate, and one of the CAs in `caCert` must have signed it.
 */
export function bundleProblem(
  bundle: CertBundle,
  now: Date,
  dnsNames: readonly string[],
): RotationReason | undefined {
  const rotation = needsRotation(bundle.cert, now, dnsNames);
  if (rotation) return rotation;
  const cert = parse(bundle.cert)!;
  try {
    if (!cert.checkPrivateKey(createPrivateKey(bundle.key))) return 'key does not match';
  } catch {
    return 'key does not match';
  }
  const signed = splitPem(bundle.caCert).some((pem) => {
    const ca = parse(pem);
    return ca !== undefined && cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
  return signed ? undefined : 'not signed by the CA';
}

/**
 * The `ca.crt` to store after a rotation: the new CA first, then the previous CA when it can still
 * have signed the certificate a webhook server is serving right now. The API server trusts both
 * until the next rotation, so servers that swap certificates a little later are not refused.
 */
export function caBundleAfterRotation(newCa: string, previousCa: string | undefined, now: Date): string {
  const previous = splitPem(previousCa ?? '')
    .slice(0, 1)
    .filter((pem) => {
      const ca = parse(pem);
      return ca !== undefined && Date.parse(ca.validTo) > now.getTime();
    });
  return [...splitPem(newCa), ...previous].map((p) => `${p}\n`).join('');
}

/** The bundle in a Secret's `data` (base64), or undefined when a key is missing. */
export function bundleFromSecretData(data: Record<string, string> | undefined): CertBundle | undefined {
  const read = (k: string): string | undefined => {
    const v = data?.[k];
    return typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
  };
  const cert = read(SECRET_KEYS.cert);
  const key = read(SECRET_KEYS.key);
  const caCert = read(SECRET_KEYS.ca);
  return cert && key && caCert ? { cert, key, caCert } : undefined;
}

/** A Secret's `data` for the bundle (base64). */
export function secretDataFor(bundle: CertBundle): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    [SECRET_KEYS.cert]: b64(bundle.cert),
    [SECRET_KEYS.key]: b64(bundle.key),
    [SECRET_KEYS.ca]: b64(bundle.caCert),
  };
}

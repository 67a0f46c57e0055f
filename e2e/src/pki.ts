import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './run.js';

/** Paths of one key pair signed by the lab CA. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly ca: CertFiles;
  readonly apiserver: CertFiles;
  readonly admin: CertFiles;
  readonly controllerManager: CertFiles;
  /** ServiceAccount token signing key (private) and its public half. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

// P-256 keys: generated in milliseconds, accepted everywhere in Kubernetes.
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function issue(
  dir: string,
  name: string,
  ca: CertFiles,
  subject: string,
  extensions: string[],
): Promise<CertFiles> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${extensions.join('\n')}\n`);
  await runOk(['openssl', 'req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', subject]);
  await runOk([
    'openssl',
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '3650',
    '-out',
    cert,
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

/**
 * A client certificate signed by the lab CA, for a Kubernetes user `commonName` in `groups`
 * (e.g. a kubelet's `system:node:<name>` in `system:nodes`). Issued once; kept when present.
 */
export async function issueClientCert(
  dir: string,
  name: string,
  ca: CertFiles,
  commonName: string,
  groups: readonly string[] = [],
): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${commonName}`;
  return issue(dir, name, ca, subject, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=clientAuth',
  ]);
}

/**
 * Creates the lab's certificate authority and every credential the control plane needs, once per
 * directory (kept when present, so a restarted API server presents the same identity).
 */
export async function createPki(dir: string, apiserverSans: readonly string[]): Promise<Pki> {
  const ca: CertFiles = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  const pki: Pki = {
    ca,
    apiserver: { cert: join(dir, 'apiserver.crt'), key: join(dir, 'apiserver.key') },
    admin: { cert: join(dir, 'admin.crt'), key: join(dir, 'admin.key') },
    controllerManager: {
      cert: join(dir, 'kube-controller-manager.crt'),
      key: join(dir, 'kube-controller-manager.key'),
    },
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
  if (
    [ca.cert, pki.apiserver.cert, pki.admin.cert, pki.controllerManager.cert, pki.serviceAccountPub].every(
      (f) => existsSync(f),
    )
  ) {
    return pki;
  }
  await runOk([
    'openssl',
    'req',
    '-x509',
    '-new',
    ...ecKey,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    '3650',
    '-subj',
    '/CN=metallb-ts-lab-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const leaf = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
  await issue(dir, 'apiserver', ca, '/CN=kube-apiserver', [
    ...leaf,
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${apiserverSans.join(',')}`,
  ]);
  await issue(dir, 'admin', ca, '/O=system:masters/CN=metallb-ts-lab-admin', [
    ...leaf,
    'extendedKeyUsage=clientAuth',
  ]);
  // The bootstrap RBAC policy already binds this user name to what the controller manager needs.
  await issue(dir, 'kube-controller-manager', ca, '/CN=system:kube-controller-manager', [
    ...leaf,
    'extendedKeyUsage=clientAuth',
  ]);
  await runOk([
    'openssl',
    'genpkey',
    '-algorithm',
    'RSA',
    '-pkeyopt',
    'rsa_keygen_bits:2048',
    '-out',
    pki.serviceAccountKey,
  ]);
  await runOk(['openssl', 'pkey', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub]);
  return pki;
}

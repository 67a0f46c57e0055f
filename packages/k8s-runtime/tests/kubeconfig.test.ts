import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  KubeconfigError,
  execInfo,
  inClusterConfig,
  kubeconfigPaths,
  parseExecCredential,
  resolveKubeconfig,
  type KubeconfigFile,
} from '../src/kubeconfig.js';

const fixtures = fileURLToPath(new URL('./fixtures/kubeconfig/', import.meta.url));
const fixture = (name: string): KubeconfigFile => ({
  path: `${fixtures}${name}`,
  text: readFileSync(`${fixtures}${name}`, 'utf8'),
});
const yaml = (path: string, lines: string[]): KubeconfigFile => ({ path, text: lines.join('\n') });

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('resolveKubeconfig', () => {
  it('uses the current context, resolves relative paths against the file, and keeps TLS settings', () => {
    const c = resolveKubeconfig([fixture('certs.yaml')]);
    expect(c).toEqual({
      source: `kubeconfig ${fixtures}certs.yaml, context "admin"`,
      server: 'https://203.0.113.10:6443',
      ca: { file: `${fixtures}pki/ca.crt` },
      insecureSkipTlsVerify: false,
      tlsServerName: 'kubernetes.lab',
      clientCertificate: { file: `${fixtures}pki/admin.crt` },
      clientKey: { file: '/etc/lab/admin.key' },
      auth: { kind: 'none' },
    });
  });

  it('reads an exec plugin: relative command, args, env, cluster info', () => {
    const c = resolveKubeconfig([fixture('certs.yaml')], 'plugin');
    expect(c.auth).toEqual({
      kind: 'exec',
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: `${fixtures}bin/get-token`,
        args: ['--cluster', 'lab'],
        env: { REGION: 'test' },
        provideClusterInfo: true,
      },
    });
  });

  it('reads a token file relative to the kubeconfig and insecure-skip-tls-verify', () => {
    const c = resolveKubeconfig([fixture('certs.yaml')], 'reader');
    expect(c.auth).toEqual({ kind: 'tokenFile', file: `${fixtures}tokens/reader` });
    expect(c.insecureSkipTlsVerify).toBe(true);
    expect(c.ca).toBeUndefined();
  });

  it('decodes inline data and reads token, basic and inline client certificate users', () => {
    const sa = resolveKubeconfig([fixture('inline.yaml')]);
    expect(sa.server).toBe('https://[2001:db8::1]:6443');
    expect(sa.ca).toEqual({ data: Buffer.from('CA BYTES') });
    expect(sa.auth).toEqual({ kind: 'token', token: 'abc.def' });
    expect(resolveKubeconfig([fixture('inline.yaml')], 'basic').auth).toEqual({
      kind: 'basic',
      username: 'alice',
      password: 's3cret',
    });
    const cert = resolveKubeconfig([fixture('inline.yaml')], 'cert');
    expect(cert.clientCertificate).toEqual({ data: Buffer.from('CERT') });
    expect(cert.clientKey).toEqual({ data: Buffer.from('KEY') });
  });

  it('reads the JSON kubeconfigs the lab writes', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'lab',
          cluster: { server: 'https://198.51.100.1:6443', 'certificate-authority-data': 'QUJD' },
        },
      ],
      users: [{ name: 'system:serviceaccount:ns:sa', user: { token: 'tok' } }],
      contexts: [
        {
          name: 'system:serviceaccount:ns:sa',
          context: { cluster: 'lab', user: 'system:serviceaccount:ns:sa' },
        },
      ],
      'current-context': 'system:serviceaccount:ns:sa',
      preferences: {},
    });
    const c = resolveKubeconfig([{ path: '/tmp/lab.kubeconfig', text }]);
    expect(c.server).toBe('https://198.51.100.1:6443');
    expect(c.ca).toEqual({ data: Buffer.from('ABC') });
    expect(c.auth).toEqual({ kind: 'token', token: 'tok' });
  });

  it('merges files like kubectl: the first current-context and the first entry of each name win', () => {
    const a = yaml('/a/config', [
      'clusters: [{name: c, cluster: {server: "https://192.0.2.1"}}]',
      'users: [{name: u, user: {token: first}}]',
    ]);
    const b = yaml('/b/config', [
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://192.0.2.2"}}]',
      'users: [{name: u, user: {token: second}}, {name: v, user: {tokenFile: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: v}}]',
    ]);
    const c = resolveKubeconfig([a, b]);
    expect(c.server).toBe('https://192.0.2.1');
    expect(c.auth).toEqual({ kind: 'token', token: 'first' });
    // Paths are relative to the file the user entry came from.
    expect(resolveKubeconfig([a, b], 'y').auth).toEqual({ kind: 'tokenFile', file: '/b/t' });
  });

  it('names the file, context and field in its errors', () => {
    const broken = errorOf(() => resolveKubeconfig([fixture('certs.yaml')], 'broken'));
    expect(broken).toBeInstanceOf(KubeconfigError);
    expect(broken.message).toBe(
      `kubeconfig ${fixtures}certs.yaml, context "broken": cluster "missing" is not defined`,
    );
    expect(errorOf(() => resolveKubeconfig([fixture('certs.yaml')], 'nope')).message).toBe(
      `kubeconfig ${fixtures}certs.yaml: context "nope" is not defined`,
    );
    const noServer = yaml('/k', [
      'current-context: x',
      'clusters: [{name: c, cluster: {}}]',
      'contexts: [{name: x, context: {cluster: c}}]',
    ]);
    expect(errorOf(() => resolveKubeconfig([noServer])).message).toBe(
      'kubeconfig /k, cluster "c": server is not set',
    );
    const badBool = yaml('/k', [
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://192.0.2.1", insecure-skip-tls-verify: "yes"}}]',
      'contexts: [{name: x, context: {cluster: c}}]',
    ]);
    expect(errorOf(() => resolveKubeconfig([badBool])).message).toBe(
      'kubeconfig /k, cluster "c": insecure-skip-tls-verify is "yes", not true or false',
    );
    const halfCert = yaml('/k', [
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://192.0.2.1"}}]',
      'users: [{name: u, user: {client-certificate: a.crt}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
    ]);
    expect(errorOf(() => resolveKubeconfig([halfCert])).message).toBe(
      'kubeconfig /k, user "u": client-key is missing (both or neither must be set)',
    );
    const oldExec = yaml('/k', [
      'current-context: x',
      'clusters: [{name: c, cluster: {server: "https://192.0.2.1"}}]',
      'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
    ]);
    expect(errorOf(() => resolveKubeconfig([oldExec])).message).toContain(
      'kubeconfig /k, user "u": exec.apiVersion "client.authentication.k8s.io/v1alpha1" is not one of',
    );
    expect(errorOf(() => resolveKubeconfig([yaml('/k', ['clusters: {a: 1}'])])).message).toBe(
      'kubeconfig /k: clusters is not a list',
    );
    expect(errorOf(() => resolveKubeconfig([yaml('/k', ['a: [b'])])).message).toMatch(
      /^kubeconfig \/k: not valid YAML/,
    );
    expect(errorOf(() => resolveKubeconfig([yaml('/k', ['kind: Config'])])).message).toBe(
      'kubeconfig /k: no current-context is set',
    );
  });
});

describe('inClusterConfig', () => {
  it('builds the server from the service env and uses the ServiceAccount files', () => {
    expect(
      inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, '/sa'),
    ).toEqual({
      source: 'in-cluster',
      server: 'https://10.96.0.1:443',
      ca: { file: '/sa/ca.crt' },
      insecureSkipTlsVerify: false,
      auth: { kind: 'tokenFile', file: '/sa/token' },
    });
    expect(
      inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' })?.server,
    ).toBe('https://[fd00::1]:6443');
    expect(inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBeUndefined();
  });
});

describe('kubeconfigPaths', () => {
  it('splits $KUBECONFIG and drops repeats, else uses ~/.kube/config', () => {
    expect(kubeconfigPaths({ KUBECONFIG: '/a:/b::/a' }, '/home/x')).toEqual(['/a', '/b']);
    expect(kubeconfigPaths({}, '/home/x')).toEqual(['/home/x/.kube/config']);
  });
});

describe('parseExecCredential', () => {
  const v1 = 'client.authentication.k8s.io/v1';
  const out = (status: unknown, apiVersion = v1) =>
    JSON.stringify({ apiVersion, kind: 'ExecCredential', status });

  it('reads the token and the expiry', () => {
    expect(
      parseExecCredential(out({ token: 't', expirationTimestamp: '2026-12-01T10:00:00Z' }), v1, 'p'),
    ).toEqual({
      token: 't',
      expiresAtMs: Date.parse('2026-12-01T10:00:00Z'),
    });
  });

  it('reads a client certificate without expiry', () => {
    expect(parseExecCredential(out({ clientCertificateData: 'C', clientKeyData: 'K' }), v1, 'p')).toEqual({
      clientCertificateData: 'C',
      clientKeyData: 'K',
    });
  });

  it('rejects output that is not a usable ExecCredential, naming the plugin', () => {
    expect(() => parseExecCredential('oops', v1, 'plugin x')).toThrow(
      'plugin x: the output is not JSON: oops',
    );
    expect(() =>
      parseExecCredential(out({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), v1, 'p'),
    ).toThrow('is not the requested client.authentication.k8s.io/v1');
    expect(() => parseExecCredential(out({}), v1, 'p')).toThrow(
      'p: status has neither a token nor a client certificate',
    );
    expect(() => parseExecCredential(out({ clientKeyData: 'K' }), v1, 'p')).toThrow(
      'p: status has only one of clientCertificateData and clientKeyData',
    );
    expect(() => parseExecCredential(out({ token: 't', expirationTimestamp: 'soon' }), v1, 'p')).toThrow(
      'p: status.expirationTimestamp "soon" is not a time',
    );
  });
});

describe('execInfo', () => {
  it('tells the plugin it is not interactive and, when asked, which cluster', () => {
    const c = resolveKubeconfig([fixture('certs.yaml')], 'plugin');
    if (c.auth.kind !== 'exec') throw new Error('fixture changed');
    expect(JSON.parse(execInfo(c, c.auth.exec, Buffer.from('CA')))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: 'https://203.0.113.10:6443',
          'tls-server-name': 'kubernetes.lab',
          'insecure-skip-tls-verify': false,
          'certificate-authority-data': Buffer.from('CA').toString('base64'),
        },
      },
    });
  });
});
